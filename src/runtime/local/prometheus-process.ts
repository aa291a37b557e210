/**
 * A real Prometheus server for a local lab: Debian's `prometheus` binary run as a process of its
 * own (its own process group, so it outlives a control plane crash like the pods do and the next
 * control plane adopts it), configured and stored under `$LAB_HOME/prometheus`, listening on a free
 * loopback port. `lab down` stops it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../../controlplane/lab-home.js';
import { freePort } from '../addresses.js';
import { writeFileAtomicSync } from '../../shared/atomic-file.js';
import { LabError } from '../../shared/errors.js';
import { prometheusReady } from '../../metrics/prometheus.js';

export interface PrometheusProcessState {
  pid: number;
  url: string;
  configFile: string;
}

export const prometheusPaths = {
  dir: (home: string) => join(home, 'prometheus'),
  state: (home: string) => join(home, 'prometheus', 'state.json'),
  config: (home: string) => join(home, 'prometheus', 'prometheus.yml'),
  targets: (home: string) => join(home, 'prometheus', 'targets.json'),
  data: (home: string) => join(home, 'prometheus', 'data'),
  log: (home: string) => join(home, 'logs', 'istio-system', 'prometheus', 'prometheus.log'),
};

/** `$PROMETHEUS_BIN`, else Debian's `/usr/bin/prometheus`, else `prometheus` on the PATH. */
export function prometheusBinary(): string | undefined {
  const candidates = [process.env.PROMETHEUS_BIN, '/usr/bin/prometheus', ...(process.env.PATH ?? '').split(':').filter(Boolean).map((d) => join(d, 'prometheus'))];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

function readState(home: string): PrometheusProcessState | undefined {
  try {
    return JSON.parse(readFileSync(prometheusPaths.state(home), 'utf8')) as PrometheusProcessState;
  } catch {
    return undefined;
  }
}

/** The pid is our Prometheus (not a recycled pid): its command line names our config file. */
function isOurs(s: PrometheusProcessState): boolean {
  if (!processAlive(s.pid)) return false;
  try {
    return readFileSync(`/proc/${s.pid}/cmdline`, 'utf8').includes(s.configFile);
  } catch {
    return false;
  }
}

/** A Prometheus this lab started earlier and that still serves, if any. */
export async function adoptLocalPrometheus(home: string): Promise<PrometheusProcessState | undefined> {
  const s = readState(home);
  return s && isOurs(s) && (await prometheusReady(s.url)) ? s : undefined;
}

/**
 * Starts Prometheus with `config` (the caller writes the targets file), or adopts the running one
 * (its configuration is rewritten and reloaded). Resolves when it answers `/-/ready`.
 */
export async function startLocalPrometheus(o: { home: string; config: string; log: (m: string) => void }): Promise<PrometheusProcessState> {
  const paths = prometheusPaths;
  mkdirSync(paths.dir(o.home), { recursive: true });
  writeFileAtomicSync(paths.config(o.home), o.config);
  const kept = await adoptLocalPrometheus(o.home);
  if (kept) {
    process.kill(kept.pid, 'SIGHUP');
    return kept;
  }
  const bin = prometheusBinary();
  if (!bin) throw new LabError('LAB_ERR_USAGE', 'prometheus is not installed: on Debian/Ubuntu `apt-get install -y prometheus` (or set PROMETHEUS_BIN to its binary)');
  const port = await freePort('127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  mkdirSync(join(paths.log(o.home), '..'), { recursive: true });
  const out = openSync(paths.log(o.home), 'a');
  const child = spawn(
    bin,
    [
      `--config.file=${paths.config(o.home)}`,
      `--storage.tsdb.path=${paths.data(o.home)}`,
      '--storage.tsdb.retention.time=2h',
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
    ],
    // Its own process group: signals to the control plane's group do not reach it.
    { detached: true, stdio: ['ignore', out, out] },
  );
  closeSync(out);
  child.unref();
  const state: PrometheusProcessState = { pid: child.pid!, url, configFile: paths.config(o.home) };
  writeFileAtomicSync(paths.state(o.home), JSON.stringify(state));
  const deadline = Date.now() + 30_000;
  while (!(await prometheusReady(url))) {
    if (!processAlive(state.pid)) throw new LabError('LAB_ERR_USAGE', `prometheus exited at start; see ${paths.log(o.home)}`);
    if (Date.now() > deadline) throw new LabError('LAB_ERR_USAGE', `prometheus did not become ready in 30 s; see ${paths.log(o.home)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  o.log(`prometheus: pid ${state.pid}, ${url}, config ${state.configFile}`);
  return state;
}

/** Stops the lab's Prometheus (if it runs) and forgets it; its data goes with the lab. */
export async function stopLocalPrometheus(home: string): Promise<boolean> {
  const s = readState(home);
  if (!s) return false;
  let stopped = false;
  if (isOurs(s)) {
    process.kill(s.pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (processAlive(s.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (processAlive(s.pid)) process.kill(s.pid, 'SIGKILL');
    stopped = true;
  }
  rmSync(prometheusPaths.dir(home), { recursive: true, force: true });
  return stopped;
}
