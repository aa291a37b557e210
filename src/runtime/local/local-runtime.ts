/**
 * The local runtime: every container is a Node.js child process of the control plane. Children
 * get a stdin pipe and exit when it closes, so a control plane that dies (even by SIGKILL) takes
 * its pods with it; `lab down` also kills the whole process group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROXY_NODE_FLAGS } from '../../proxy/node-flags.js';
import { LabError } from '../../shared/errors.js';
import type { ContainerExit, ContainerLaunch, PodLaunch, Runtime, RunningPod } from '../types.js';

/** dist/ of this build: this file is dist/src/runtime/local/local-runtime.js. */
const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function entryPointFor(program: string): string {
  if (program === 'proxy') return join(DIST, 'src', 'proxy', 'main.js');
  return join(DIST, 'services', program, 'src', 'main.js');
}

class LocalPod implements RunningPod {
  private readonly children = new Map<string, ChildProcess>();
  private stopping = false;
  private readonly exitListeners: Array<(e: ContainerExit) => void> = [];

  constructor(
    readonly name: string,
    private readonly launch: PodLaunch,
  ) {}

  onExit(listener: (exit: ContainerExit) => void): void {
    this.exitListeners.push(listener);
  }

  startAll(): void {
    for (const c of this.launch.containers) this.startContainer(c);
  }

  private startContainer(c: ContainerLaunch): void {
    mkdirSync(dirname(c.logFile), { recursive: true });
    const fd = openSync(c.logFile, 'a');
    const flags = c.program === 'proxy' ? PROXY_NODE_FLAGS : [];
    const child = spawn(process.execPath, [...flags, entryPointFor(c.program)], {
      env: { ...minimalEnv(), ...c.env, LAB_EXIT_ON_STDIN_CLOSE: '1' },
      stdio: ['pipe', fd, fd],
    });
    closeSync(fd);
    this.children.set(c.name, child);
    child.on('exit', (code, signal) => {
      // Exits we caused (stop, restart) are not news; a child replaced by restart() is no longer current.
      if (this.children.get(c.name) !== child) return;
      this.children.delete(c.name);
      if (!this.stopping) for (const l of this.exitListeners) l({ container: c.name, code, signal });
    });
    child.on('error', () => undefined);
  }

  async restart(container: string): Promise<void> {
    const c = this.launch.containers.find((x) => x.name === container);
    if (!c) throw new LabError('LAB_ERR_RUNTIME', `pod ${this.name} has no container ${container}`);
    const old = this.children.get(container);
    this.children.delete(container);
    if (old) await killAndWait(old);
    this.startContainer(c);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const all = [...this.children.values()];
    this.children.clear();
    await Promise.all(all.map((c) => killAndWait(c)));
  }
}

/** The environment a container sees: no proxy settings or secrets inherited from the user's shell. */
function minimalEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', 'SystemRoot', 'NODE_OPTIONS'];
  const env: Record<string, string> = {};
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  return env;
}

function killAndWait(child: ChildProcess, graceMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const hard = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export class LocalRuntime implements Runtime {
  readonly name = 'local' as const;
  private readonly pods = new Set<LocalPod>();

  async start(launch: PodLaunch): Promise<RunningPod> {
    const pod = new LocalPod(launch.name, launch);
    this.pods.add(pod);
    pod.startAll();
    const stop = pod.stop.bind(pod);
    pod.stop = async () => {
      this.pods.delete(pod);
      await stop();
    };
    return pod;
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.pods].map((p) => p.stop()));
  }
}
