/**
 * The Docker runtime: every pod is containers sharing one network namespace, as in Kubernetes.
 *   istio-init   holds the namespace (like the pause container), with NET_ADMIN and nothing else
 *                privileged; the capture rules are installed in it by exec before anything else
 *                starts, and replaced the same way when the mesh's service ports change
 *   <app>        the demo service, which binds 0.0.0.0 and knows nothing of its sidecar
 *   istio-proxy  the proxy, as UID 1337 (the rules let that UID's traffic out uncaptured)
 * Containers carry the lab's labels, so `lab down` and a restarted control plane find them.
 * Logs go to the same files as on the local runtime: the pod's log folder is mounted at the same
 * path (the control plane's LAB_HOME is mounted at its host path too).
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type Docker from 'dockerode';
import { PROXY_NODE_FLAGS } from '../../proxy/node-flags.js';
import { LabError } from '../../shared/errors.js';
import type { AdoptedPod, ContainerExit, ContainerLaunch, PodLaunch, Runtime, RunningPod } from '../types.js';
import { captureRules } from './iptables.js';
import { dockerName, LABELS, podContainerLabels } from './labels.js';
import { PROXY_UID } from '../../capture/original-port.js';

export interface DockerRuntimeOptions {
  docker: Docker;
  labId: string;
  /** Labels every container of the lab carries. */
  baseLabels: Record<string, string>;
  network: string;
  image: string;
  /** The control plane's DNS server (its address on the lab network). */
  dns: string;
  /** The control plane's address: its readiness probes reach apps without capture. */
  controlPlaneIp: string;
  log: (msg: string) => void;
}

/** Where programs are in the image (see Dockerfile). */
export function commandFor(program: string): string[] {
  if (program === 'proxy') return ['node', ...PROXY_NODE_FLAGS, '/app/dist/src/proxy/main.js'];
  return ['node', `/app/dist/services/${program}/src/main.js`];
}

/** Runs a program with its output appended to the container's log file (what `lab logs` reads). */
function withLogFile(cmd: string[]): string[] {
  return ['/bin/sh', '-c', 'exec "$@" >>"$LAB_LOG_FILE" 2>&1', 'sh', ...cmd];
}

/** The log file exists before the container does, writable by the proxy's UID. */
function prepareLogFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  closeSync(openSync(file, 'a'));
  try {
    chmodSync(dirname(file), 0o777);
    chmodSync(file, 0o666);
  } catch {
    // Not ours to change (a file left by another user): the container reports it if it matters.
  }
}

function env(map: Record<string, string>): string[] {
  return Object.entries(map).map(([k, v]) => `${k}=${v}`);
}

async function execIn(container: Docker.Container, cmd: string[], envs: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const exec = await container.exec({ Cmd: cmd, Env: env(envs), AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  await new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
  });
  const info = (await exec.inspect()) as { ExitCode: number | null };
  return { code: info.ExitCode ?? -1, output: demux(Buffer.concat(chunks)) };
}

/** Docker's multiplexed stream framing (8-byte headers) to plain text. */
export function demux(buf: Buffer): string {
  let out = '';
  let i = 0;
  while (i + 8 <= buf.length && buf[i]! <= 2 && buf[i + 1] === 0) {
    const len = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + len).toString();
    i += 8 + len;
  }
  return i === 0 ? buf.toString() : out;
}

class DockerPod implements RunningPod {
  private readonly exitListeners: Array<(e: ContainerExit) => void> = [];
  private stopping = false;
  /** Containers by pod-container name, including istio-init. */
  readonly containers = new Map<string, Docker.Container>();
  /** Bumped on every (re)start of a container, so a stale wait() is recognised. */
  private readonly generation = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly launch: PodLaunch,
    private readonly o: DockerRuntimeOptions,
    private readonly ports: () => number[],
  ) {}

  onExit(listener: (exit: ContainerExit) => void): void {
    this.exitListeners.push(listener);
  }

  get labels(): Record<string, string> {
    return this.o.baseLabels;
  }

  private cname(container: string): string {
    return dockerName(this.o.labId, this.launch.namespace, this.launch.name, container);
  }

  async startAll(): Promise<void> {
    const l = this.launch;
    const sidecar = l.containers.some((c) => c.name === 'istio-proxy') && l.capture !== undefined;
    const init = await this.createInit(sidecar);
    await init.start();
    this.containers.set('istio-init', init);
    if (sidecar) await this.installRules(true);
    for (const c of l.containers) {
      const container = await this.createContainer(c, init.id);
      this.containers.set(c.name, container);
      await this.startContainer(c.name);
    }
  }

  private async createInit(sidecar: boolean): Promise<Docker.Container> {
    const l = this.launch;
    const exposed: Record<string, object> = {};
    const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
    for (const p of l.publish ?? []) {
      exposed[`${p.containerPort}/tcp`] = {};
      bindings[`${p.containerPort}/tcp`] = [{ HostIp: '127.0.0.1', HostPort: String(p.hostPort) }];
    }
    return this.o.docker.createContainer({
      name: this.cname('istio-init'),
      Image: this.o.image,
      Hostname: l.name.slice(0, 63),
      // Holds the namespace; exec installs the rules. PID 1 ignores SIGTERM, so removal kills it.
      Cmd: ['sleep', 'infinity'],
      Labels: { ...podContainerLabels(this.o.baseLabels, l, 'istio-init'), ...(l.record ? { [LABELS.record]: l.record } : {}) },
      ExposedPorts: exposed,
      HostConfig: {
        NetworkMode: this.o.network,
        CapAdd: sidecar ? ['NET_ADMIN'] : [],
        Dns: [this.o.dns],
        DnsSearch: [`${l.namespace}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local'],
        DnsOptions: ['ndots:5'],
        PortBindings: bindings,
        RestartPolicy: { Name: 'no' },
      },
      NetworkingConfig: {
        EndpointsConfig: { [this.o.network]: { IPAMConfig: l.ip ? { IPv4Address: l.ip } : undefined, Aliases: l.aliases ?? [] } },
      },
    });
  }

  /** Writes the capture rules into the pod's namespace (first time: hooks the chains in too). */
  async installRules(initial: boolean): Promise<void> {
    const init = this.containers.get('istio-init');
    if (!init || !this.launch.capture) return;
    const rules = captureRules({ inbound: this.launch.capture.inbound, outboundPorts: this.ports(), inboundExcludeSources: [this.o.controlPlaneIp] }, initial);
    const r = await execIn(init, ['sh', '-c', 'printf "%s" "$LAB_RULES" | iptables-restore --noflush'], { LAB_RULES: rules });
    if (r.code !== 0) throw new LabError('LAB_ERR_RUNTIME', `pod ${this.launch.namespace}/${this.name}: installing the capture rules failed (exit ${r.code}): ${r.output.trim()}`);
  }

  private createContainer(c: ContainerLaunch, initId: string): Promise<Docker.Container> {
    prepareLogFile(c.logFile);
    const isProxy = c.program === 'proxy';
    return this.o.docker.createContainer({
      name: this.cname(c.name),
      Image: this.o.image,
      Cmd: withLogFile(commandFor(c.program)),
      Env: env({ ...c.env, LAB_LOG_FILE: c.logFile }),
      User: isProxy ? String(PROXY_UID) : undefined,
      Labels: podContainerLabels(this.o.baseLabels, this.launch, c.name),
      HostConfig: {
        NetworkMode: `container:${initId}`,
        Binds: [`${dirname(c.logFile)}:${dirname(c.logFile)}`],
        RestartPolicy: { Name: 'no' },
      },
    });
  }

  private async startContainer(name: string): Promise<void> {
    const container = this.containers.get(name)!;
    await container.start();
    this.watch(name);
  }

  /** Reports the container's next exit (a crash) to the listeners. */
  watch(name: string): void {
    const container = this.containers.get(name)!;
    const gen = (this.generation.get(name) ?? 0) + 1;
    this.generation.set(name, gen);
    void container.wait().then(
      (r: { StatusCode: number }) => this.exited(name, gen, r.StatusCode),
      () => this.exited(name, gen, null),
    );
  }

  private exited(name: string, gen: number, code: number | null): void {
    if (this.stopping || this.generation.get(name) !== gen) return;
    for (const l of this.exitListeners) l({ container: name, code, signal: null });
  }

  async restart(container: string): Promise<void> {
    if (!this.containers.has(container)) throw new LabError('LAB_ERR_RUNTIME', `pod ${this.name} has no container ${container}`);
    // A new generation first: the wait() of the old run must not report this restart as a crash.
    this.generation.set(container, (this.generation.get(container) ?? 0) + 1);
    await this.containers.get(container)!.stop({ t: 2 }).catch(() => undefined);
    await this.startContainer(container);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const order = [...this.containers.keys()].filter((n) => n !== 'istio-init');
    await Promise.all(order.map((n) => this.containers.get(n)!.stop({ t: 2 }).catch(() => undefined)));
    await Promise.all([...this.containers.values()].map((c) => c.remove({ force: true }).catch(() => undefined)));
    this.containers.clear();
  }
}

export class DockerRuntime implements Runtime {
  readonly name = 'docker' as const;
  private readonly pods = new Set<DockerPod>();
  private servicePorts: number[] = [80];

  constructor(private readonly o: DockerRuntimeOptions) {}

  async start(launch: PodLaunch): Promise<RunningPod> {
    // The launch itself is part of the record, so an adopted pod can be restarted and updated.
    const withRecord: PodLaunch = { ...launch, record: JSON.stringify({ ...(launch.record ? JSON.parse(launch.record) : {}), launch: { ...launch, record: undefined } }) };
    const pod = new DockerPod(launch.name, withRecord, this.o, () => this.servicePorts);
    try {
      await pod.startAll();
    } catch (err) {
      await pod.stop();
      throw err;
    }
    this.track(pod);
    return pod;
  }

  /**
   * Takes over the pods an earlier control plane left running, found by the lab's labels. A pod
   * without its namespace holder or its proxy is removed (its Deployment replaces it); an app
   * container that stopped meanwhile is started again, as the kubelet would.
   */
  async adopt(): Promise<AdoptedPod[]> {
    const found = await this.o.docker.listContainers({ all: true, filters: { label: [`${LABELS.lab}=${this.o.labId}`, `${LABELS.role}=pod`] } });
    const groups = new Map<string, Docker.ContainerInfo[]>();
    for (const c of found) {
      const k = `${c.Labels[LABELS.namespace]}/${c.Labels[LABELS.pod]}`;
      groups.set(k, [...(groups.get(k) ?? []), c]);
    }
    const adopted: AdoptedPod[] = [];
    for (const [k, list] of groups) {
      const init = list.find((c) => c.Labels[LABELS.container] === 'istio-init');
      const record = init?.Labels[LABELS.record];
      const proxy = list.find((c) => c.Labels[LABELS.container] === 'istio-proxy');
      const [namespace, name] = k.split('/') as [string, string];
      const usable = init?.State === 'running' && record !== undefined && (proxy === undefined ? namespace === 'external' : proxy.State === 'running');
      if (!usable) {
        this.o.log(`pod ${k}: not adoptable (namespace holder or proxy gone); removing its containers`);
        await Promise.all(list.map((c) => this.o.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
        continue;
      }
      const launch = JSON.parse(record) as { launch: PodLaunch };
      const pod = new DockerPod(name, { ...launch.launch, name, namespace }, this.o, () => this.servicePorts);
      for (const c of list) pod.containers.set(c.Labels[LABELS.container]!, this.o.docker.getContainer(c.Id));
      for (const c of list) {
        const cname = c.Labels[LABELS.container]!;
        if (cname === 'istio-init') continue;
        if (c.State !== 'running') await this.o.docker.getContainer(c.Id).start().catch(() => undefined);
        pod.watch(cname);
      }
      this.track(pod);
      adopted.push({ name, namespace, record, pod });
    }
    return adopted;
  }

  private track(pod: DockerPod): void {
    this.pods.add(pod);
    const stop = pod.stop.bind(pod);
    pod.stop = async () => {
      this.pods.delete(pod);
      await stop();
    };
  }

  async setServicePorts(ports: number[]): Promise<void> {
    const next = [...new Set([80, ...ports])].sort((a, b) => a - b);
    if (next.join() === this.servicePorts.join()) return;
    this.servicePorts = next;
    const results = await Promise.allSettled([...this.pods].map((p) => p.installRules(false)));
    for (const r of results) if (r.status === 'rejected') this.o.log(`capture rules: ${(r.reason as Error).message}`);
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.pods].map((p) => p.stop()));
  }
}

