/**
 * Scale: how compile time, route-decision time and proxy memory grow with the number of services.
 * N Services (each with one ready Pod) and N mesh VirtualServices (a header-match route and a
 * default route each), compiled for one sidecar in the same namespace:
 *   snapshot   createSnapshot(): the registry (Services -> endpoints from Pods)
 *   compile    PushCompiler for the push (shared outbound clusters) + the sidecar's table
 *   hydrate    what a proxy does with a pushed table (compiled route configs, balancers)
 *   decide     one routing decision (src/router/decide.ts) for a random one of the N hosts
 *   proxy RSS  a real proxy process serving that table (VmRSS after the push)
 */
import { PROXY_NODE_FLAGS } from '../src/proxy/node-flags.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PushCompiler } from '../src/compiler/compile.js';
import { createSnapshot, type ProxyNode } from '../src/compiler/snapshot.js';
import type { KubeObject } from '../src/model/objects.js';
import { DEFAULT_MESH_CONFIG } from '../src/model/specs.js';
import type { ProxyTable } from '../src/model/table.js';
import { hydrate } from '../src/proxy/runtime-table.js';
import { compileRouteConfig } from '../src/router/compile.js';
import { decide } from '../src/router/decide.js';
import { createRandom } from '../src/router/random.js';
import type { RouteRequest } from '../src/router/request.js';
import { freePort } from '../src/runtime/addresses.js';
import { meshVirtualService, NS, podObject, serviceObject } from './lib/mesh.js';
import { currentRss, peakRss, start, stop, waitTcp } from './lib/proc.js';
import { spread } from './lib/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PROXY_MAIN = join(HERE, '..', 'src', 'proxy', 'main.js');

export interface ScaleResult {
  services: number;
  tableBytes: number;
  virtualHosts: number;
  snapshotMs: number;
  compileMs: number;
  hydrateMs: number;
  /** decide() for a random one of the N hosts (4096 different requests: memory-bound at large N). */
  decideNs: number;
  /** decide() for the same host every time (hot caches: the algorithmic cost). */
  decideHotNs: number;
  /** decide() for a host that is not in the table (falls through to the passthrough fallback). */
  decideMissNs: number;
  proxyRss: number;
  proxyPeakRss: number;
  reps: number;
}

function objects(n: number): KubeObject[] {
  const out: KubeObject[] = [];
  for (let i = 0; i < n; i++) {
    const name = `svc-${i}`;
    // Endpoints only need to be addresses; nothing connects to them here.
    out.push(serviceObject(name), podObject(`${name}-0`, name, { address: `127.251.${Math.floor(i / 250)}.${(i % 250) + 2}`, port: 3000 }), meshVirtualService(name));
  }
  return out;
}

const node: ProxyNode = {
  role: 'sidecar',
  pod: 'client-0',
  namespace: NS,
  ip: '127.250.1.2',
  labels: { app: 'client', version: 'v1' },
  workload: 'client',
  inbound: [],
  outbound: { bindAddress: '127.250.1.2', bindPort: 15001 },
};

function time<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const r = f();
  return [r, performance.now() - t0];
}

/** ns per decide() over 4096 requests for hosts drawn from `hosts` (one host: always the same). */
function decideNs(table: ProxyTable, hosts: string[], iterations: number): number {
  const rc = compileRouteConfig(table.routeConfigs['80']!);
  const rng = createRandom(1);
  const reqs: RouteRequest[] = [];
  for (let i = 0; i < 4096; i++) {
    const host = hosts[Math.floor(Math.random() * hosts.length)]!;
    reqs.push({ authority: `${host}:80`, path: '/items', method: 'GET', scheme: 'http', headers: { 'user-agent': 'bench', accept: 'application/json' }, port: 80 });
  }
  // Sanity: the decision is the host's own default route.
  const d = decide(rc, reqs[0]!, rng);
  if (d.kind !== 'forward' || !d.cluster.includes(reqs[0]!.authority.split('.')[0]!)) throw new Error(`unexpected decision for ${reqs[0]!.authority}: ${JSON.stringify(d.kind)}`);
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink += decide(rc, reqs[i & 4095]!, rng).kind.length; // warm-up (JIT)
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += decide(rc, reqs[i & 4095]!, rng).kind.length;
  const ns = Number(process.hrtime.bigint() - t0) / iterations;
  if (sink === 0) throw new Error('unreachable');
  return ns;
}

async function proxyMemory(table: ProxyTable, dir: string): Promise<{ rss: number; peak: number }> {
  const ip = '127.250.1.9';
  const adminPort = await freePort(ip);
  const p = start(process.execPath, [...PROXY_NODE_FLAGS, PROXY_MAIN], { env: { LAB_ADMIN_HOST: ip, LAB_ADMIN_PORT: String(adminPort) }, logFile: join(dir, 'scale-proxy.log') });
  try {
    await waitTcp(ip, adminPort, 10_000, p);
    // Its own loopback listener port, so the table binds without clashing with anything.
    const listen = await freePort(ip);
    const t = { ...table, listeners: table.listeners.map((l) => ({ ...l, bindAddress: ip, bindPort: listen })) };
    const res = await fetch(`http://${ip}:${adminPort}/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(t) });
    if (!res.ok) throw new Error(`proxy rejected the ${table.version} table: ${await res.text()}`);
    await new Promise((r) => setTimeout(r, 300));
    return { rss: currentRss(p.pid), peak: peakRss(p.pid) };
  } finally {
    await stop(p);
  }
}

export async function runScale(opts: { sizes: number[]; quick: boolean; dir: string; log: (s: string) => void }): Promise<ScaleResult[]> {
  const out: ScaleResult[] = [];
  for (const n of opts.sizes) {
    const objs = objects(n);
    const reps = opts.quick ? 1 : n >= 10_000 ? 3 : 5;
    const snapMs: number[] = [];
    const compMs: number[] = [];
    const hydMs: number[] = [];
    let table: ProxyTable | undefined;
    for (let r = 0; r < reps; r++) {
      const [snapshot, s] = time(() => createSnapshot(objs, DEFAULT_MESH_CONFIG, { hosts: {}, gatewayPorts: () => undefined }));
      const [t, c] = time(() => new PushCompiler(snapshot).compile(node));
      const [, h] = time(() => hydrate(t, createRandom(1)));
      snapMs.push(s);
      compMs.push(c);
      hydMs.push(h);
      table = t;
    }
    const hosts = Array.from({ length: n }, (_, i) => `svc-${i}.${NS}`);
    const hit = decideNs(table!, hosts, opts.quick ? 200_000 : 1_000_000);
    const hot = decideNs(table!, [hosts[Math.floor(n / 2)]!], opts.quick ? 200_000 : 1_000_000);
    const missNs = decideMiss(table!, opts.quick ? 200_000 : 1_000_000);
    const mem = await proxyMemory(table!, opts.dir);
    const r: ScaleResult = {
      services: n,
      tableBytes: Buffer.byteLength(JSON.stringify(table)),
      virtualHosts: table!.routeConfigs['80']!.virtualHosts.length,
      snapshotMs: spread(snapMs)!.median,
      compileMs: spread(compMs)!.median,
      hydrateMs: spread(hydMs)!.median,
      decideNs: hit,
      decideHotNs: hot,
      decideMissNs: missNs,
      proxyRss: mem.rss,
      proxyPeakRss: mem.peak,
      reps,
    };
    opts.log(
      `  ${String(n).padStart(6)} services: snapshot ${r.snapshotMs.toFixed(1)} ms, compile ${r.compileMs.toFixed(1)} ms, hydrate ${r.hydrateMs.toFixed(1)} ms, ` +
        `decide ${r.decideNs.toFixed(0)} ns (same host ${r.decideHotNs.toFixed(0)} ns, miss ${r.decideMissNs.toFixed(0)} ns), table ${(r.tableBytes / 1024).toFixed(0)} KB, proxy RSS ${(r.proxyRss / 2 ** 20).toFixed(0)} MB`,
    );
    out.push(r);
  }
  return out;
}

function decideMiss(table: ProxyTable, iterations: number): number {
  const rc = compileRouteConfig(table.routeConfigs['80']!);
  const rng = createRandom(1);
  const req: RouteRequest = { authority: 'not-a-service.example.com:80', path: '/', method: 'GET', scheme: 'http', headers: {}, port: 80 };
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink += decide(rc, req, rng).kind.length;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += decide(rc, req, rng).kind.length;
  if (sink === 0) throw new Error('unreachable');
  return Number(process.hrtime.bigint() - t0) / iterations;
}
