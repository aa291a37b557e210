/**
 * The Docker runtime against the local one, on real labs side by side (each with a temporary
 * LAB_HOME, both up at once so that drift of the machine hits both alike):
 *
 *   image      the lab's image for this checkout: found in the engine, or built (timed on its own)
 *   lab up     `lab up` on each runtime (the image cached); `lab down` likewise
 *   pod start  the catalog Deployment (1 replica) applied as `lab apply` sends it (wait=true:
 *              returns once the pod is Ready and every proxy serves the new table), then the first
 *              200 through the ingress gateway's host port; then deleted, and again (N pods)
 *   overhead   fixed-rate and closed-loop load from the host through the ingress gateway's host
 *              port to catalog (gateway proxy -> catalog's sidecar -> app: two proxy hops), and
 *              to a catalog app of the benchmark's own without any proxy (local: a process on
 *              127.250.2.10; Docker: a container on the lab network, published on 127.0.0.1 like
 *              the gateway), interleaved over the runs
 *   lab:all    `node dist/lab/run.js all --runtime docker` (full run only), against 180 s
 *
 * Skipped, with the reason in the results, when no Docker engine answers. Every lab it starts is
 * taken down (`lab down` with its LAB_HOME) on success, failure and Ctrl-C.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadManifestPaths } from '../src/config/manifest.js';
import { readToken } from '../src/controlplane/lab-home.js';
import { apiAuthHeaders } from '../src/cli/client.js';
import { freePort } from '../src/runtime/addresses.js';
import { dockerClient, pingDocker } from '../src/runtime/docker/engine.js';
import { ensureImage } from '../src/runtime/docker/image.js';
import { dockerName, labFilter, labLabels, LABELS } from '../src/runtime/docker/labels.js';
import { runLabTime, type LabTimeResult } from './labtime.js';
import type { ClosedResult, RateResult } from './lib/loadgen.js';
import { listProcesses, peakRss, processEnv, settle, sleep, start, stop, track, waitTcp, type Started } from './lib/proc.js';
import { cell, markdownTable, num, percentile, spread, type Spread } from './lib/stats.js';
import { runLoadGroups, type Durations } from './overhead.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const LAB_BIN = join(ROOT, 'bin', 'lab.js');
const CATALOG_MAIN = join(ROOT, 'dist', 'services', 'catalog', 'src', 'main.js');
const NS = 'istioinaction';
const HOST = 'catalog.istioinaction.io';
/** The benchmark's own catalog app on the local runtime (127.250/16 is the benchmark's block). */
const LOCAL_DIRECT_IP = '127.250.2.10';
export const LAB_ALL_GOAL_SECONDS = 180;

type Runtime = 'local' | 'docker';
const RUNTIMES: Runtime[] = ['local', 'docker'];

export interface PodStartSample {
  /** Seconds from sending the apply to its return (pod Ready, every proxy serving the new table). */
  ready: number;
  /** Seconds from sending the apply to the first 200 through the ingress gateway. */
  firstRequest: number;
  /** Seconds from the delete of the Deployment to its pod gone. */
  deleted: number;
}

export interface OverheadRun {
  run: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  errors: number;
  non2xx: number;
  coCorrected: number;
  /** CPU-s per 1000 requests at the fixed rate, by group: proxies (gateway + sidecar), app, docker-proxy. */
  cpuPer1000: Record<string, number>;
  cpuPer1000AtMax: Record<string, number>;
  /** VmHWM of the proxies, summed, bytes (ingress rows). */
  proxiesPeakRss?: number;
  /**
   * CPUs busy machine-wide in the fixed-rate window beyond the measured processes and the load
   * generator: other work on the machine (0 on a quiet one), which these numbers share it with.
   */
  otherCpus: number;
}

export type RowId = 'local-app' | 'local-ingress' | 'docker-app-ip' | 'docker-ingress-ip' | 'docker-app-port' | 'docker-ingress-port';

export interface OverheadRow {
  id: RowId;
  runtime: Runtime;
  /** `app`: straight to a catalog app with no proxy; `ingress`: through the gateway and catalog's sidecar. */
  path: 'app' | 'ingress';
  /** Docker: to the container's address on the lab network, or to its port published on 127.0.0.1 (docker-proxy). */
  via: 'loopback' | 'container-ip' | 'published-port';
  target: string;
  runs: OverheadRun[];
  failed?: string;
}

export interface DockerResult {
  /** Why the section was not run ("no Docker engine at ..."). */
  skipped?: string;
  engine?: string;
  mode?: 'quick' | 'full';
  image?: { tag: string; built: boolean; seconds: number; buildSeconds?: number };
  /** Seconds of `lab up` (without any image build it did) and `lab down`, per runtime. */
  up: Record<Runtime, number[]>;
  down: Record<Runtime, number[]>;
  /** Later image builds (the checkout changed during the run: in a `lab up`, or before lab:all), seconds. */
  upImageBuilds: number[];
  podStart: Record<Runtime, PodStartSample[]>;
  overhead: OverheadRow[];
  durations?: Durations;
  labAll?: (LabTimeResult & { goalSeconds: number }) | { skipped: string };
  /** Phases that could not be measured. */
  errors: string[];
  /** Wall time of the whole section. */
  seconds?: number;
}

/* ---------------------------------------------------------------------------------------------- */

interface Lab {
  runtime: Runtime;
  home: string;
  ingressPort: number;
  api: string;
  block: number;
  labId?: string;
  network?: string;
  image?: string;
}

/** Homes of labs that are (maybe) up: taken down on exit, whatever ends the benchmark. */
const liveLabs = new Set<string>();
process.on('exit', () => {
  for (const home of liveLabs) {
    spawnSync(process.execPath, [LAB_BIN, 'down'], { env: { ...process.env, LAB_HOME: home, NO_COLOR: '1' }, stdio: 'ignore', timeout: 60_000 });
    rmSync(home, { recursive: true, force: true });
  }
});

/** Runs the lab CLI (bounded); resolves with its output, rejects on a non-zero exit. */
function labCli(home: string, args: string[], timeoutMs = 180_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LAB_BIN, ...args], { env: { ...process.env, LAB_HOME: home, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`lab ${args.join(' ')} failed (${code ?? signal}): ${out.trim().split('\n').slice(-8).join('\n')}`));
    });
  });
}

/** The lab's API, with its token (`$LAB_HOME/token`) as the CLI sends it. */
async function call<T>(lab: Pick<Lab, 'api' | 'home'>, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 120_000): Promise<T> {
  const res = await fetch(`${lab.api}${path}`, {
    method,
    headers: { ...apiAuthHeaders(readToken(lab.home)), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const parsed = (await res.json()) as T & { error?: { message?: string } };
  if (!res.ok) throw new Error(`${method} ${path}: ${parsed.error?.message ?? res.status}`);
  return parsed;
}

/** `lab up` on a fresh LAB_HOME; returns the lab and the seconds it took without an image build. */
async function labUp(runtime: Runtime, log: (s: string) => void): Promise<{ lab: Lab; seconds: number; imageBuild?: number }> {
  const home = mkdtempSync(join(tmpdir(), `bench-${runtime}-lab-`));
  liveLabs.add(home);
  const ingressPort = await freePort();
  const t0 = performance.now();
  let out: string;
  try {
    out = await labCli(home, ['up', '--runtime', runtime, '--ingress-port', String(ingressPort), '--seed', '7']);
  } catch (err) {
    // Whatever part of it started goes again (on Docker: everything with the lab's label).
    await labDown(home).catch(() => undefined);
    throw err;
  }
  const total = (performance.now() - t0) / 1000;
  const built = /^built \S+ in ([\d.]+)s$/m.exec(out);
  const imageBuild = built ? Number(built[1]) : undefined;
  if (imageBuild !== undefined) log(`  ${runtime}: lab up built the image first (${imageBuild.toFixed(1)} s; the checkout changed since the image step)`);
  const info = JSON.parse(readFileSync(join(home, 'lab.json'), 'utf8')) as { api: string; block: number; labId?: string; network?: string; image?: string };
  return {
    lab: { runtime, home, ingressPort, api: info.api, block: info.block, labId: info.labId, network: info.network, image: info.image },
    seconds: total - (imageBuild ?? 0),
    imageBuild,
  };
}

/** `lab down`; returns its seconds. The home goes too. */
async function labDown(home: string): Promise<number> {
  const t0 = performance.now();
  try {
    await labCli(home, ['down'], 120_000);
    return (performance.now() - t0) / 1000;
  } finally {
    liveLabs.delete(home);
    rmSync(home, { recursive: true, force: true });
  }
}

type Doc = ReturnType<typeof loadManifestPaths>['documents'][number];

/** The documents `lab apply -f` sends for these files. */
function manifests(...files: string[]): Doc[] {
  const { documents, errors } = loadManifestPaths(files.map((f) => join(ROOT, f)));
  if (errors.length > 0) throw new Error(`manifests: ${errors.map((e) => e.message).join('; ')}`);
  return documents;
}

async function apply(lab: Lab, documents: Doc[]): Promise<void> {
  const r = await call<{ errors: string[] }>(lab, 'POST', '/apply', { documents, namespace: NS, wait: true });
  if (r.errors.length > 0) throw new Error(`${lab.runtime}: apply: ${r.errors.join('; ')}`);
}

/** One GET through `port` with the catalog's Host; resolves with the status (0: no answer). */
function getStatus(port: number, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/items', headers: { host: HOST }, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function catalogPods(lab: Lab): Promise<number> {
  const { items } = await call<{ items: Array<{ metadata: { ownerReferences?: Array<{ name: string }> } }> }>(lab, 'GET', `/objects?kind=Pod&namespace=${NS}`);
  return items.filter((p) => p.metadata.ownerReferences?.some((o) => o.name === 'catalog')).length;
}

async function podStartSample(lab: Lab, deployment: Doc[]): Promise<PodStartSample> {
  const t0 = performance.now();
  await apply(lab, deployment);
  const ready = (performance.now() - t0) / 1000;
  const deadline = performance.now() + 30_000;
  let status = 0;
  while ((status = await getStatus(lab.ingressPort)) !== 200) {
    if (performance.now() > deadline) throw new Error(`${lab.runtime}: no 200 through the ingress 30 s after the pod was ready (last status ${status})`);
    await sleep(10);
  }
  const firstRequest = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await call(lab, 'POST', '/delete', { items: [{ kind: 'Deployment', namespace: NS, name: 'catalog' }], wait: true });
  const gone = performance.now() + 60_000;
  while ((await catalogPods(lab)) > 0) {
    if (performance.now() > gone) throw new Error(`${lab.runtime}: the catalog pod was not gone 60 s after the delete`);
    await sleep(20);
  }
  return { ready, firstRequest, deleted: (performance.now() - t1) / 1000 };
}

/* ---------------------------------------------------------------------------------------------- */

/** The processes whose CPU the overhead rows report, by group. */
interface Measured {
  target: { host: string; port: number };
  groups: () => Record<string, number[]>;
  proxies: () => number[];
  stop: () => Promise<void>;
}

async function containerPids(lab: Lab, container: string): Promise<number[]> {
  const docker = dockerClient();
  const list = await docker.listContainers({ filters: { label: [...labFilter(lab.labId!).label, `${LABELS.container}=${container}`] } });
  const pids: number[] = [];
  for (const c of list) pids.push(((await docker.getContainer(c.Id).inspect()) as { State: { Pid: number } }).State.Pid);
  return pids.filter((p) => p > 0);
}

/** docker-proxy, the engine's userland forwarder of a published 127.0.0.1 port. */
function dockerProxyPids(hostPort: number): number[] {
  return listProcesses()
    .filter((p) => p.cmdline[0]?.endsWith('docker-proxy') && p.cmdline.join(' ').includes(`-host-port ${hostPort} `))
    .map((p) => p.pid);
}

function localPids(lab: Lab, what: 'proxy' | 'catalog'): number[] {
  const suffix = what === 'proxy' ? join('src', 'proxy', 'main.js') : join('services', 'catalog', 'src', 'main.js');
  const key = what === 'proxy' ? 'LAB_ADMIN_HOST' : 'HOST';
  return listProcesses()
    .filter((p) => p.cmdline.some((a) => a.endsWith(suffix)))
    .filter((p) => (processEnv(p.pid)[key] ?? '').startsWith(`127.${lab.block}.`))
    .map((p) => p.pid);
}

/** Address of a container on the lab network. */
async function containerIp(lab: Lab, id: string): Promise<string> {
  const info = (await dockerClient().getContainer(id).inspect()) as { NetworkSettings: { Networks: Record<string, { IPAddress: string }> } };
  const ip = info.NetworkSettings.Networks[lab.network!]?.IPAddress;
  if (!ip) throw new Error(`container ${id} has no address on ${lab.network}`);
  return ip;
}

/** The ingress rows: through the gateway's host port (Docker: also straight to the gateway container). */
async function ingressTargets(lab: Lab): Promise<Partial<Record<RowId, Measured>>> {
  const none = async () => undefined;
  if (lab.runtime === 'local') {
    const proxies = localPids(lab, 'proxy');
    const app = localPids(lab, 'catalog');
    return { 'local-ingress': { target: { host: '127.0.0.1', port: lab.ingressPort }, proxies: () => proxies, groups: () => ({ proxies, app }), stop: none } };
  }
  const proxies = await containerPids(lab, 'istio-proxy');
  const app = await containerPids(lab, 'catalog');
  const fwd = dockerProxyPids(lab.ingressPort);
  // The gateway pod's namespace holder publishes the port: its address and container port.
  const [gw] = await dockerClient().listContainers({
    filters: { label: [...labFilter(lab.labId!).label, `${LABELS.namespace}=istio-system`, `${LABELS.container}=istio-init`] },
  });
  if (!gw) throw new Error('docker: no ingress gateway container');
  const published = gw.Ports.find((p) => p.PublicPort === lab.ingressPort);
  if (!published) throw new Error(`docker: the gateway container does not publish ${lab.ingressPort}`);
  const ip = await containerIp(lab, gw.Id);
  return {
    'docker-ingress-ip': { target: { host: ip, port: published.PrivatePort }, proxies: () => proxies, groups: () => ({ proxies, app }), stop: none },
    'docker-ingress-port': { target: { host: '127.0.0.1', port: lab.ingressPort }, proxies: () => proxies, groups: () => ({ proxies, app, dockerProxy: fwd }), stop: none },
  };
}

/** A catalog app with no proxy in front: a local process, or a container of the lab's image on its network. */
async function directTargets(lab: Lab, dir: string): Promise<Partial<Record<RowId, Measured>>> {
  if (lab.runtime === 'local') {
    const port = await freePort(LOCAL_DIRECT_IP);
    const p: Started = start(process.execPath, [CATALOG_MAIN], { env: { HOST: LOCAL_DIRECT_IP, PORT: String(port) }, logFile: join(dir, 'catalog-direct-local.log') });
    await waitTcp(LOCAL_DIRECT_IP, port, 15_000, p);
    return { 'local-app': { target: { host: LOCAL_DIRECT_IP, port }, proxies: () => [], groups: () => ({ app: [p.pid] }), stop: () => stop(p) } };
  }
  const docker = dockerClient();
  const port = await freePort();
  // Logs like a pod's app: appended to a file in the lab's home, mounted at the same path.
  const logDir = join(lab.home, 'logs', 'bench');
  mkdirSync(logDir, { recursive: true });
  // The lab's labels: `lab down` removes it with the lab, whatever happens here.
  const container = await docker.createContainer({
    name: dockerName(lab.labId!, 'bench-catalog-direct'),
    Image: lab.image!,
    Cmd: ['/bin/sh', '-c', 'exec node /app/dist/services/catalog/src/main.js >>"$LAB_LOG_FILE" 2>&1'],
    Env: ['HOST=0.0.0.0', 'PORT=3000', `LAB_LOG_FILE=${join(logDir, 'catalog-direct.log')}`],
    Labels: labLabels(lab.labId!, lab.home, 'bench'),
    ExposedPorts: { '3000/tcp': {} },
    HostConfig: {
      NetworkMode: lab.network!,
      Binds: [`${logDir}:${logDir}`],
      PortBindings: { '3000/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
      RestartPolicy: { Name: 'no' },
    },
  });
  const remove = () => container.remove({ force: true }).then(
    () => undefined,
    () => undefined,
  );
  try {
    await container.start();
    const deadline = performance.now() + 20_000;
    while ((await getStatus(port, 1000)) !== 200) {
      if (performance.now() > deadline) throw new Error('docker: the direct catalog container did not answer within 20 s');
      await sleep(50);
    }
    const pid = ((await container.inspect()) as { State: { Pid: number } }).State.Pid;
    const ip = await containerIp(lab, container.id);
    const fwd = dockerProxyPids(port);
    return {
      'docker-app-ip': { target: { host: ip, port: 3000 }, proxies: () => [], groups: () => ({ app: [pid] }), stop: async () => undefined },
      'docker-app-port': { target: { host: '127.0.0.1', port }, proxies: () => [], groups: () => ({ app: [pid], dockerProxy: fwd }), stop: remove },
    };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** The overhead rows, in the order each run measures them. */
const ROWS: Array<Omit<OverheadRow, 'runs'>> = [
  { id: 'local-app', runtime: 'local', path: 'app', via: 'loopback', target: `catalog app process on ${LOCAL_DIRECT_IP}` },
  { id: 'local-ingress', runtime: 'local', path: 'ingress', via: 'loopback', target: 'ingress host port -> gateway -> catalog sidecar -> app' },
  { id: 'docker-app-ip', runtime: 'docker', path: 'app', via: 'container-ip', target: 'catalog app container at its lab-network address' },
  { id: 'docker-ingress-ip', runtime: 'docker', path: 'ingress', via: 'container-ip', target: 'gateway container at its lab-network address -> catalog pod (captured) -> sidecar -> app' },
  { id: 'docker-app-port', runtime: 'docker', path: 'app', via: 'published-port', target: 'catalog app container, published on 127.0.0.1 (docker-proxy)' },
  { id: 'docker-ingress-port', runtime: 'docker', path: 'ingress', via: 'published-port', target: 'ingress host port (docker-proxy) -> gateway container -> catalog pod -> sidecar -> app' },
];

const itemsRequest = `GET /items HTTP/1.1\r\nHost: ${HOST}\r\nUser-Agent: bench-loadgen\r\nAccept: application/json\r\n\r\n`;

async function measureOverhead(m: Measured, d: Durations, run: number): Promise<OverheadRun> {
  const base = { host: m.target.host, port: m.target.port, request: itemsRequest, connections: d.connections };
  const closed = await runLoadGroups<ClosedResult>({ ...base, mode: 'closed', warmupMs: d.tputWarmupMs, durationMs: d.tputMs }, m.groups);
  const rate = await runLoadGroups<RateResult>({ ...base, mode: 'rate', rate: d.rate, warmupMs: d.rateWarmupMs, durationMs: d.rateMs }, m.groups);
  const per1000 = (cpu: Record<string, number>, n: number) => Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, (v / Math.max(1, n)) * 1000]));
  const proxies = m.proxies();
  return {
    run,
    rps: closed.result.rps,
    p50: rate.result.p50,
    p90: rate.result.p90,
    p99: rate.result.p99,
    p999: rate.result.p999,
    max: rate.result.max,
    errors: closed.result.errors + rate.result.errors,
    non2xx: closed.result.non2xx + rate.result.non2xx,
    coCorrected: rate.result.coCorrected,
    cpuPer1000: per1000(rate.cpu, rate.result.completed),
    cpuPer1000AtMax: per1000(closed.cpu, closed.result.completed),
    ...(proxies.length > 0 ? { proxiesPeakRss: proxies.reduce((s, pid) => s + peakRss(pid), 0) } : {}),
    otherCpus: Math.max(0, rate.machineBusyCpus - Object.values(rate.cpu).reduce((a, b) => a + b, 0) / rate.result.seconds - rate.result.clientCpu),
  };
}

/* ---------------------------------------------------------------------------------------------- */

export interface DockerOptions {
  quick: boolean;
  /** Pod starts per runtime. */
  pods: number;
  /** Interleaved runs of the overhead rows. */
  runs: number;
  durations: Durations;
  /** `lab up`/`lab down` samples per runtime (the first is the lab the other phases use). */
  upSamples: number;
  labAll: boolean;
  dir: string;
  log: (s: string) => void;
}

/** Where `lab down` of every lab the runner may have left goes (see runLabAll). */
function downLeftovers(root: string, log: (s: string) => void): void {
  let homes: string[] = [];
  try {
    homes = readdirSync(root).map((d) => join(root, d));
  } catch {
    return;
  }
  for (const home of homes) {
    const r = spawnSync(process.execPath, [LAB_BIN, 'down'], { env: { ...process.env, LAB_HOME: home, NO_COLOR: '1' }, encoding: 'utf8', timeout: 60_000 });
    if (/removed|stopping/.test(r.stdout ?? '')) log(`  lab:all left a lab in ${home}; taken down`);
  }
}

/**
 * lab:all on Docker. The runner's labs live in a TMPDIR of our own, so whatever it leaves behind
 * (a failed scenario keeps its state; a timeout kills the runner) is found and taken down.
 */
async function runLabAll(log: (s: string) => void): Promise<LabTimeResult & { goalSeconds: number }> {
  const root = mkdtempSync(join(tmpdir(), 'bench-laball-'));
  try {
    const r = await runLabTime({ timeoutMs: 10 * 60_000, log, args: ['--runtime', 'docker'], env: { TMPDIR: root } });
    return { ...r, goalSeconds: LAB_ALL_GOAL_SECONDS };
  } finally {
    downLeftovers(root, log);
    rmSync(root, { recursive: true, force: true });
  }
}

export async function runDocker(o: DockerOptions): Promise<DockerResult> {
  const result: DockerResult = { up: { local: [], docker: [] }, down: { local: [], docker: [] }, upImageBuilds: [], podStart: { local: [], docker: [] }, overhead: [], errors: [] };
  const ping = await pingDocker();
  if (!ping.ok) {
    o.log(`  skipped: ${ping.reason}`);
    return { ...result, skipped: ping.reason };
  }
  result.engine = ping.version;
  result.mode = o.quick ? 'quick' : 'full';
  result.durations = o.durations;
  const fail = (phase: string, err: unknown) => {
    const msg = `${phase}: ${(err as Error).message}`;
    result.errors.push(msg);
    o.log(`  FAILED ${msg}`);
  };
  o.log(`  Docker engine ${ping.version}`);

  // The image first, so that `lab up` is timed with it cached.
  try {
    let built: number | undefined;
    const t0 = performance.now();
    const tag = await ensureImage(dockerClient(), (m) => {
      o.log(`  image: ${m}`);
      const b = /^built \S+ in ([\d.]+)s$/.exec(m);
      if (b) built = Number(b[1]);
    });
    result.image = { tag, built: built !== undefined, seconds: (performance.now() - t0) / 1000, ...(built !== undefined ? { buildSeconds: built } : {}) };
    o.log(`  image ${tag}: ${built !== undefined ? `built in ${built.toFixed(1)} s` : 'cached'} (${result.image.seconds.toFixed(1)} s)`);
  } catch (err) {
    fail('image', err);
    return result;
  }

  const labs: Partial<Record<Runtime, Lab>> = {};
  try {
    for (const rt of RUNTIMES) {
      try {
        const u = await labUp(rt, o.log);
        labs[rt] = u.lab;
        result.up[rt].push(u.seconds);
        if (u.imageBuild !== undefined) result.upImageBuilds.push(u.imageBuild);
        o.log(`  ${rt}: lab up ${u.seconds.toFixed(1)} s`);
      } catch (err) {
        fail(`${rt} lab up`, err);
      }
    }
    const base = manifests('services/catalog/kubernetes/catalog.yaml', 'ch5/catalog-gateway.yaml', 'ch5/catalog-vs.yaml');
    const deployment = base.filter((d) => d.object.kind === 'Deployment');
    const rest = base.filter((d) => d.object.kind !== 'Deployment');
    const ready: Runtime[] = [];
    for (const rt of RUNTIMES) {
      const lab = labs[rt];
      if (!lab) continue;
      try {
        await apply(lab, rest);
        ready.push(rt);
      } catch (err) {
        fail(`${rt} setup`, err);
      }
    }

    // Pod start, alternating runtimes so that both see the same machine.
    const podFailed = new Set<Runtime>();
    for (let i = 0; i < o.pods; i++) {
      for (const rt of ready) {
        if (podFailed.has(rt)) continue;
        // Bounded: on a shared machine the quiet moment may not come.
        await settle(250, 0.15, 3000);
        try {
          const s = await podStartSample(labs[rt]!, deployment);
          result.podStart[rt].push(s);
          o.log(`  ${rt}: pod ${i + 1}/${o.pods}: Ready ${s.ready.toFixed(2)} s, first 200 through the ingress ${s.firstRequest.toFixed(2)} s; deleted in ${s.deleted.toFixed(2)} s`);
        } catch (err) {
          podFailed.add(rt);
          fail(`${rt} pod start`, err);
        }
      }
    }

    // Overhead: catalog deployed for good, plus the direct app of each runtime.
    const rows = ROWS.filter((r) => ready.includes(r.runtime)).map((r) => ({ ...r, runs: [] as OverheadRun[] }) as OverheadRow);
    result.overhead.push(...rows);
    const measured: Partial<Record<RowId, Measured>> = {};
    for (const rt of ready) {
      const lab = labs[rt]!;
      try {
        await apply(lab, deployment);
        Object.assign(measured, await directTargets(lab, o.dir));
        Object.assign(measured, await ingressTargets(lab));
      } catch (err) {
        for (const r of rows) if (r.runtime === rt) r.failed ??= (err as Error).message;
        fail(`${rt} overhead setup`, err);
      }
    }
    try {
      // A fresh app and fresh proxies compile their hot paths under the first load: warm each
      // target up once (not measured), so run 1 is not the JIT's.
      for (const r of rows) {
        const m = measured[r.id];
        if (!m || r.failed) continue;
        const w = await runLoadGroups<ClosedResult>(
          { mode: 'closed', host: m.target.host, port: m.target.port, request: itemsRequest, connections: 8, warmupMs: 0, durationMs: o.quick ? 1000 : 2000 },
          () => ({}),
        ).catch((err: Error) => err);
        if (w instanceof Error) {
          r.failed = w.message;
          fail(`${r.id} warm-up`, w);
        }
      }
      for (let run = 1; run <= o.runs; run++) {
        for (const row of rows) {
          const m = measured[row.id];
          if (!m || row.failed) continue;
          try {
            // Whatever the previous row left running (GC, log flushes) ends first, within bounds.
            await settle(250, 0.15, o.quick ? 3000 : 8000);
            const r = await measureOverhead(m, o.durations, run);
            row.runs.push(r);
            const cpu = Object.entries(r.cpuPer1000)
              .map(([k, v]) => `${k} ${v.toFixed(3)}`)
              .join(', ');
            o.log(
              `  run ${run}/${o.runs} ${row.id.padEnd(19)} ${Math.round(r.rps).toString().padStart(6)} req/s  p50 ${r.p50.toFixed(3)} p90 ${r.p90.toFixed(3)} p99 ${r.p99.toFixed(3)} ms  ` +
                `CPU-s/1000: ${cpu}; other load ${r.otherCpus.toFixed(2)} CPUs  errors ${r.errors + r.non2xx}`,
            );
          } catch (err) {
            row.failed = (err as Error).message;
            fail(`${row.id} overhead`, err);
          }
        }
      }
    } finally {
      const stops = new Set(Object.values(measured).map((m) => m.stop));
      for (const stopIt of stops) await stopIt().catch(() => undefined);
    }
  } finally {
    for (const rt of RUNTIMES) {
      const lab = labs[rt];
      if (!lab) continue;
      try {
        const s = await labDown(lab.home);
        result.down[rt].push(s);
        o.log(`  ${rt}: lab down ${s.toFixed(1)} s`);
      } catch (err) {
        fail(`${rt} lab down`, err);
      }
    }
  }

  // More `lab up` / `lab down` samples on empty labs (full run).
  for (let i = 1; i < o.upSamples; i++) {
    for (const rt of RUNTIMES) {
      let home: string | undefined;
      try {
        const u = await labUp(rt, o.log);
        home = u.lab.home;
        result.up[rt].push(u.seconds);
        if (u.imageBuild !== undefined) result.upImageBuilds.push(u.imageBuild);
        const d = await labDown(home);
        home = undefined;
        result.down[rt].push(d);
        o.log(`  ${rt}: lab up ${u.seconds.toFixed(1)} s, down ${d.toFixed(1)} s`);
      } catch (err) {
        fail(`${rt} lab up/down`, err);
        if (home) await labDown(home).catch(() => undefined);
      }
    }
  }

  if (o.labAll) {
    o.log('  lab:all on Docker (node dist/lab/run.js all --runtime docker)');
    try {
      // Timed with the image cached, like `lab up` above: a build (the checkout changed) is timed apart.
      const tag = await ensureImage(dockerClient(), (m) => {
        const b = /^built \S+ in ([\d.]+)s$/.exec(m);
        if (b) result.upImageBuilds.push(Number(b[1]));
        o.log(`  image: ${m}`);
      });
      if (result.image && tag !== result.image.tag) o.log(`  image for lab:all: ${tag}`);
      result.labAll = await runLabAll(o.log);
      o.log(`  lab:all on Docker: ${result.labAll.exitCode === 0 ? 'pass' : 'FAIL'} in ${result.labAll.totalSeconds.toFixed(1)} s (goal ${LAB_ALL_GOAL_SECONDS} s)`);
    } catch (err) {
      fail('lab:all on Docker', err);
    }
  } else {
    result.labAll = { skipped: 'quick run: lab:all on Docker takes ~150 s; it runs in the full benchmark' };
  }
  return result;
}

/* ---------------------------------------------------------------------------------------------- */

const p50max = (v: number[], digits = 2) => (v.length === 0 ? '-' : `${num(percentile(v, 0.5), digits)} / ${num(Math.max(...v), digits)}`);

/** Per-run values of `f` over rows' runs of the same run number (all rows must have that run). */
function perRun(rows: Array<OverheadRow | undefined>, f: (...runs: OverheadRun[]) => number | undefined): Spread | undefined {
  if (rows.some((r) => !r || r.runs.length === 0)) return undefined;
  const out: number[] = [];
  for (const x of rows[0]!.runs) {
    const same = rows.map((r) => r!.runs.find((y) => y.run === x.run));
    if (same.some((y) => !y)) continue;
    const v = f(...(same as OverheadRun[]));
    if (v !== undefined && Number.isFinite(v)) out.push(v);
  }
  return spread(out);
}

type Access = 'local' | 'ip' | 'port';
const ACCESS: Record<Access, { app: RowId; ingress: RowId; label: string }> = {
  local: { app: 'local-app', ingress: 'local-ingress', label: 'local runtime' },
  ip: { app: 'docker-app-ip', ingress: 'docker-ingress-ip', label: 'Docker, to container addresses' },
  port: { app: 'docker-app-port', ingress: 'docker-ingress-port', label: 'Docker, to published ports' },
};

/**
 * What the two proxy hops add (ingress minus the no-proxy app, same run, same way in), per way in,
 * and the Docker ways against the local runtime (the same difference, per run).
 */
export function dockerDerived(d: DockerResult) {
  const row = (id: RowId) => d.overhead.find((r) => r.id === id && r.runs.length > 0);
  const of = (a: Access) => {
    const ing = row(ACCESS[a].ingress);
    const app = row(ACCESS[a].app);
    const lIng = row(ACCESS.local.ingress);
    const lApp = row(ACCESS.local.app);
    return {
      addedP50: perRun([ing, app], (x, y) => x!.p50 - y!.p50),
      addedP90: perRun([ing, app], (x, y) => x!.p90 - y!.p90),
      addedP99: perRun([ing, app], (x, y) => x!.p99 - y!.p99),
      /** Per hop (half of the two hops), minus the same on the local runtime. */
      perHopVsLocalP50: a === 'local' ? undefined : perRun([ing, app, lIng, lApp], (x, y, lx, ly) => (x!.p50 - y!.p50 - (lx!.p50 - ly!.p50)) / 2),
      perHopVsLocalP99: a === 'local' ? undefined : perRun([ing, app, lIng, lApp], (x, y, lx, ly) => (x!.p99 - y!.p99 - (lx!.p99 - ly!.p99)) / 2),
      proxiesCpu: perRun([ing], (x) => x!.cpuPer1000.proxies),
      proxiesCpuAtMax: perRun([ing], (x) => x!.cpuPer1000AtMax.proxies),
      proxiesCpuVsLocal: a === 'local' ? undefined : perRun([ing, lIng], (x, l) => x!.cpuPer1000.proxies! / l!.cpuPer1000.proxies!),
      rps: perRun([ing], (x) => x!.rps),
      rpsVsLocal: a === 'local' ? undefined : perRun([ing, lIng], (x, l) => x!.rps / l!.rps),
      appP50VsLocal: a === 'local' ? undefined : perRun([app, lApp], (x, l) => x!.p50 - l!.p50),
      dockerProxyCpu: a === 'port' ? perRun([ing], (x) => x!.cpuPer1000.dockerProxy) : undefined,
    };
  };
  return { local: of('local'), ip: of('ip'), port: of('port') };
}

export function dockerMarkdown(d: DockerResult): string {
  if (d.skipped) return `## Docker\n\nskipped: ${d.skipped}\n`;
  const parts: string[] = [];
  const img = d.image
    ? `image \`${d.image.tag}\` ${d.image.built ? `built by this run in ${num(d.image.buildSeconds, 1)} s (first-time build for this checkout)` : 'already built (cached)'}`
    : 'no image';
  const builds = d.upImageBuilds.length > 0 ? ` The image was built again ${d.upImageBuilds.length} time(s) during the run (${d.upImageBuilds.map((x) => `${num(x, 1)} s`).join(', ')}: the checkout changed meanwhile); builds are left out of the \`lab up\` and lab:all times.` : '';
  parts.push(`## Docker

Docker engine ${d.engine}; ${img}.${builds} A local-runtime lab and a Docker lab are up side by side; pod starts
alternate between them and the load rows are interleaved (method in bench/README.md, "Docker").${d.seconds ? ` The section took ${num(d.seconds, 0)} s.` : ''}
${d.errors.length > 0 ? `\n**Not measured**: ${d.errors.map((e) => e.replace(/\n/g, ' ')).join('; ')}\n` : ''}`);

  const both = (f: (rt: Runtime) => string) => RUNTIMES.map(f);
  const spreadCell = (v: number[], digits = 1) => cell(spread(v), digits);
  const pods = (rt: Runtime) => d.podStart[rt];
  parts.push(
    markdownTable(
      ['', 'local runtime', 'Docker runtime'],
      [
        ['`lab up`, s (image cached)', ...both((rt) => spreadCell(d.up[rt]))],
        ['`lab down`, s', ...both((rt) => spreadCell(d.down[rt]))],
        ['pods started (one at a time)', ...both((rt) => String(pods(rt).length))],
        ['pod start: apply -> pod Ready, p50 / max s', ...both((rt) => p50max(pods(rt).map((s) => s.ready)))],
        ['pod start: apply -> first 200 through the ingress, p50 / max s', ...both((rt) => p50max(pods(rt).map((s) => s.firstRequest)))],
        ['pod delete -> gone, p50 / max s', ...both((rt) => p50max(pods(rt).map((s) => s.deleted)))],
      ],
    ) + '\n',
  );

  if (d.overhead.length > 0) {
    const du = d.durations!;
    const runs = Math.max(0, ...d.overhead.map((r) => r.runs.length));
    const label = (r: OverheadRow) => {
      const way = r.via === 'loopback' ? 'local' : r.via === 'container-ip' ? 'Docker, container address' : 'Docker, published port';
      return `${way}: ${r.path === 'app' ? 'catalog app, no proxy' : 'gateway -> sidecar -> app'}`;
    };
    const rows = d.overhead.map((r) => {
      const over = (f: (x: OverheadRun) => number | undefined) => spread(r.runs.map(f).filter((v): v is number => v !== undefined));
      if (r.runs.length === 0) return [label(r), `not measured: ${(r.failed ?? '').split('\n')[0]}`, '', '', '', '', '', '', '', ''];
      const errors = r.runs.reduce((s, x) => s + x.errors + x.non2xx, 0);
      return [
        label(r) + (errors > 0 ? ` ⚠ ${errors} errors` : ''),
        cell(over((x) => x.rps), 0),
        cell(over((x) => x.p50), 3),
        cell(over((x) => x.p90), 3),
        cell(over((x) => x.p99), 3),
        r.path === 'ingress' ? cell(over((x) => x.cpuPer1000.proxies), 3) : '-',
        r.path === 'ingress' ? cell(over((x) => x.cpuPer1000AtMax.proxies), 3) : '-',
        cell(over((x) => x.cpuPer1000.app), 3),
        r.via === 'published-port' ? cell(over((x) => x.cpuPer1000.dockerProxy), 3) : '-',
        cell(over((x) => x.otherCpus), 2),
      ];
    });
    parts.push(`### Per-hop overhead: the sidecar in a container

\`GET /items\` (\`Host: ${HOST}\`) from the host. "gateway -> sidecar -> app" is the lab's ingress gateway, then
catalog's sidecar (on Docker: reached through the pod's iptables capture), then the catalog app: two
proxy hops. "no proxy" is a catalog app of the benchmark's own (local: a process on loopback;
Docker: a container of the lab's image on the lab network). Docker is measured two ways in: to the
containers' addresses on the lab network (the bridge only), and to their ports published on
127.0.0.1 (the engine's docker-proxy in between, which is how \`lab up\` exposes the gateway).
${runs > 1 ? `Median (min…max) over ${runs} interleaved runs` : 'One run'}. Latency at a fixed ${du.rate} req/s over ${du.connections} keep-alive connections for
${du.rateMs / 1000} s (coordinated-omission corrected); max req/s with a closed loop on ${du.connections} connections for ${du.tputMs / 1000} s.
CPU-s per 1000 requests from /proc (a container's processes are host processes). "Other load" is the
CPUs busy machine-wide during the fixed-rate window besides the measured processes and the load
generator: work of others on this shared machine, which slows every row it overlaps.

${markdownTable(
  ['path', 'max req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'CPU-s/1000 req, both proxies', 'both proxies, at max', 'app', 'docker-proxy', 'other load, CPUs'],
  rows,
)}
`);
    const x = dockerDerived(d);
    const cols: Access[] = ['local', 'ip', 'port'];
    const line = (name: string, f: (a: Access) => string) => [name, ...cols.map(f)];
    const ratio = (s: Spread | undefined) => (s ? `${cell(s, 2)}x` : '-');
    parts.push(`What the two proxy hops add (the gateway row minus the no-proxy row of the same run and way in), and
Docker against the local runtime (per run, then summarised):

${markdownTable(
  ['', ...cols.map((a) => ACCESS[a].label)],
  [
    line('added p50 ms, two hops', (a) => cell(x[a].addedP50, 3, '+')),
    line('added p99 ms, two hops', (a) => cell(x[a].addedP99, 3, '+')),
    line('**per hop, p50 ms, Docker minus local**', (a) => (a === 'local' ? '-' : cell(x[a].perHopVsLocalP50, 3, '+'))),
    line('per hop, p99 ms, Docker minus local', (a) => (a === 'local' ? '-' : cell(x[a].perHopVsLocalP99, 3, '+'))),
    line('CPU-s per 1000 req, both proxies, at the rate', (a) => cell(x[a].proxiesCpu, 3)),
    line('... Docker / local', (a) => (a === 'local' ? '-' : ratio(x[a].proxiesCpuVsLocal))),
    line('CPU-s per 1000 req, both proxies, at max', (a) => cell(x[a].proxiesCpuAtMax, 3)),
    line('max req/s through the gateway', (a) => cell(x[a].rps, 0)),
    line('... Docker / local', (a) => (a === 'local' ? '-' : ratio(x[a].rpsVsLocal))),
    line('no-proxy app p50 ms, Docker minus local (the way in itself)', (a) => (a === 'local' ? '-' : cell(x[a].appP50VsLocal, 3, '+'))),
    line('docker-proxy CPU-s per 1000 req', (a) => (a === 'port' ? cell(x[a].dockerProxyCpu, 3) : '-')),
  ],
)}
`);
  }

  if (d.labAll && 'skipped' in d.labAll) {
    parts.push(`### lab:all on Docker\n\nskipped: ${d.labAll.skipped}\n`);
  } else if (d.labAll) {
    const l = d.labAll;
    const rows = l.scenarios.map((s) => [s.name, s.ok ? 'pass' : 'FAIL', `${s.passed}/${s.steps}`, num(s.seconds, 1)]);
    const ok = l.exitCode === 0;
    rows.push([`all (runner wall time; goal <= ${l.goalSeconds} s)`, ok ? 'pass' : l.timedOut ? 'FAIL (timed out)' : 'FAIL', '', num(l.totalSeconds, 1)]);
    parts.push(`### lab:all on Docker

\`node dist/lab/run.js all --runtime docker\`: every scenario, each on a fresh Docker lab.

${markdownTable(['scenario', 'result', 'steps', 'seconds'], rows)}
`);
  }
  return parts.join('\n');
}
