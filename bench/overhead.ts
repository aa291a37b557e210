/**
 * Proxy overhead: the same load through each target, started fresh for each row of each run and
 * stopped after it. Rows of one run share one upstream process; runs are interleaved (every row
 * once, then every row again), so drift of a noisy machine spreads over all rows alike.
 */
import { PROXY_NODE_FLAGS } from '../src/proxy/node-flags.js';
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/runtime/addresses.js';
import type { ProxyTable } from '../src/model/table.js';
import type { ClosedResult, LoadJob, RateResult } from './lib/loadgen.js';
import { compileTables, GATEWAY_HOST, MESH_HOST, type Addr } from './lib/mesh.js';
import { cpuBetween, cpuSample, type CpuSample, machineTicks, peakRss, privateRss, processTree, start, stop, track, waitTcp, type Started } from './lib/proc.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PROXY_MAIN = join(HERE, '..', 'src', 'proxy', 'main.js');
const LOADGEN = join(HERE, 'lib', 'loadgen.js');
const UPSTREAM = join(HERE, 'targets', 'upstream.js');
const ALT = join(HERE, 'targets', 'alt-proxy.js');

/** Loopback addresses of the benchmark (127.250/16: outside the blocks labs pick, 127.20-219). */
const IP = {
  upstream: '127.250.101.3',
  client: '127.250.1.2',
  server: '127.250.1.3',
  gateway: '127.250.1.4',
  alt: '127.250.1.5',
  nginx: '127.250.1.6',
};

export interface Durations {
  tputWarmupMs: number;
  tputMs: number;
  rateWarmupMs: number;
  rateMs: number;
  rate: number;
  connections: number;
}

export interface RowRun {
  run: number;
  rps: number;
  clientCpuAtMax: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  errors: number;
  non2xx: number;
  coCorrected: number;
  lagP99Ms: number;
  /** CPU seconds of the measured process(es) per 1000 requests at the fixed rate. */
  cpuPer1000: number;
  /** ... and at maximum throughput. */
  cpuPer1000AtMax: number;
  /** Sum of VmHWM over the measured process(es), bytes. */
  peakRss: number;
  /** Sum of RssAnon over the measured process(es) at the end of the row, bytes (0 if unknown). */
  privateRss?: number;
  processes: number;
}

export interface RowResult {
  id: string;
  label: string;
  note: string;
  skipped?: string;
  runs: RowRun[];
}

interface Running {
  target: Addr;
  request: string;
  /** The processes whose CPU and memory the row reports. */
  pids: () => number[];
  stop: () => Promise<void>;
}

interface RowSpec {
  id: string;
  label: string;
  note: string;
  available?: () => string | undefined;
  start: (ctx: RunContext) => Promise<Running>;
}

interface RunContext {
  dir: string;
  upstream: Addr;
  upstreamPid: number;
}

const get = (authority: string, path = '/') =>
  `GET ${path} HTTP/1.1\r\nHost: ${authority}\r\nUser-Agent: bench-loadgen\r\nAccept: application/json\r\n\r\n`;
const forwardProxyGet = (authority: string) =>
  `GET http://${authority}:80/ HTTP/1.1\r\nHost: ${authority}\r\nUser-Agent: bench-loadgen\r\nAccept: application/json\r\n\r\n`;

async function startProxy(ctx: RunContext, name: string, ip: string, table: (adminPort: number) => ProxyTable, listen: Addr): Promise<Started> {
  const adminPort = await freePort(ip);
  const p = start(process.execPath, [...PROXY_NODE_FLAGS, PROXY_MAIN], {
    env: {
      LAB_ADMIN_HOST: ip,
      LAB_ADMIN_PORT: String(adminPort),
      LAB_PROXY_SEED: '1',
      // For experiments with V8 flags on our proxy only, e.g. --max-semi-space-size=2.
      ...(process.env.BENCH_PROXY_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_PROXY_NODE_OPTIONS } : {}),
    },
    logFile: join(ctx.dir, `${name}.log`),
  });
  await waitTcp(ip, adminPort, 10_000, p);
  const res = await fetch(`http://${ip}:${adminPort}/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(table(adminPort)),
  });
  const body = (await res.json()) as { errors?: string[]; error?: string };
  if (!res.ok || body.errors?.length) throw new Error(`${name}: table rejected: ${body.error ?? body.errors?.join('; ')}`);
  await waitTcp(listen.address, listen.port, 5000, p);
  return p;
}

function sidecarRow(id: string, label: string, note: string, telemetry: { accessLog: boolean; metrics: boolean }): RowSpec {
  return {
    id,
    label,
    note,
    async start(ctx) {
      const outboundPort = await freePort(IP.client);
      const tables = compileTables({ telemetry, upstream: ctx.upstream, client: { ip: IP.client, outboundPort } });
      const listen = { address: IP.client, port: outboundPort };
      const p = await startProxy(ctx, id, IP.client, () => tables.client!, listen);
      return { target: listen, request: forwardProxyGet(MESH_HOST), pids: () => [p.pid], stop: () => stop(p) };
    },
  };
}

function altRow(id: string, label: string, note: string, stack: string, accessLog: boolean): RowSpec {
  return {
    id,
    label,
    note,
    async start(ctx) {
      const port = await freePort(IP.alt);
      const p = start(process.execPath, [ALT], {
        env: {
          STACK: stack,
          HOST: IP.alt,
          PORT: String(port),
          UPSTREAM_HOST: ctx.upstream.address,
          UPSTREAM_PORT: String(ctx.upstream.port),
          ACCESS_LOG: accessLog ? '1' : '0',
        },
        logFile: join(ctx.dir, `${id}.log`),
      });
      await waitTcp(IP.alt, port, 10_000, p);
      return { target: { address: IP.alt, port }, request: get(MESH_HOST), pids: () => [p.pid], stop: () => stop(p) };
    },
  };
}

export function findNginx(): string | undefined {
  for (const p of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx', '/usr/bin/nginx']) if (existsSync(p)) return p;
  return undefined;
}

const nginxRow: RowSpec = {
  id: 'nginx',
  label: 'nginx (reference), 1 worker',
  note: 'nginx reverse proxy, worker_processes 1, upstream keepalive, access_log on (its default); CPU and RSS of master + worker',
  available: () => (findNginx() ? undefined : 'not installed'),
  async start(ctx) {
    const bin = findNginx()!;
    const port = await freePort(IP.nginx);
    const dir = join(ctx.dir, 'nginx');
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, 'nginx.conf');
    writeFileSync(
      conf,
      `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  upstream app {
    server ${ctx.upstream.address}:${ctx.upstream.port};
    keepalive 64;
    keepalive_requests 1000000;
  }
  keepalive_requests 1000000;
  server {
    listen ${IP.nginx}:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
  }
}
`,
    );
    const p = start(bin, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { logFile: join(ctx.dir, 'nginx.log') });
    await waitTcp(IP.nginx, port, 10_000, p);
    return { target: { address: IP.nginx, port }, request: get(MESH_HOST), pids: () => processTree(p.pid), stop: () => stop(p) };
  },
};

export const ROWS: RowSpec[] = [
  {
    id: 'direct',
    label: 'direct upstream (no proxy)',
    note: 'the load generator talks to the upstream itself; CPU and RSS columns are the upstream process (for scale)',
    async start(ctx) {
      return { target: ctx.upstream, request: get(MESH_HOST), pids: () => [ctx.upstreamPid], stop: async () => undefined };
    },
  },
  sidecarRow('sidecar', 'sidecar (routing + access log + metrics)', 'our proxy, outbound listener as a forward proxy (absolute-form request), compiled table with a mesh VirtualService, straight to the upstream app', {
    accessLog: true,
    metrics: true,
  }),
  sidecarRow('sidecar-nolog', 'sidecar, access log off', 'as above with telemetry.accessLog=false (metrics on)', { accessLog: false, metrics: true }),
  sidecarRow('sidecar-off', 'sidecar, access log + metrics off', 'as above with telemetry off entirely', { accessLog: false, metrics: false }),
  {
    id: 'mesh',
    label: 'mesh hop (client sidecar -> server sidecar)',
    note: 'client sidecar outbound -> server sidecar inbound -> upstream; CPU and RSS are the two proxies together',
    async start(ctx) {
      const outboundPort = await freePort(IP.client);
      const inboundPort = await freePort(IP.server);
      const telemetry = { accessLog: true, metrics: true };
      const tables = compileTables({ telemetry, upstream: ctx.upstream, client: { ip: IP.client, outboundPort }, server: { ip: IP.server, inboundPort } });
      const server = await startProxy(ctx, 'mesh-server', IP.server, () => tables.server!, { address: IP.server, port: inboundPort });
      let client: Started;
      try {
        client = await startProxy(ctx, 'mesh-client', IP.client, () => tables.client!, { address: IP.client, port: outboundPort });
      } catch (err) {
        await stop(server);
        throw err;
      }
      return {
        target: { address: IP.client, port: outboundPort },
        request: forwardProxyGet(MESH_HOST),
        pids: () => [client.pid, server.pid],
        stop: async () => {
          await Promise.all([stop(client), stop(server)]);
        },
      };
    },
  },
  {
    id: 'gateway',
    label: 'ingress gateway',
    note: 'our proxy as the ingress gateway: Gateway + VirtualService by Host, straight to the upstream app',
    async start(ctx) {
      const port = await freePort(IP.gateway);
      const tables = compileTables({ telemetry: { accessLog: true, metrics: true }, upstream: ctx.upstream, gateway: { ip: IP.gateway, port } });
      const p = await startProxy(ctx, 'gateway', IP.gateway, () => tables.gateway!, { address: IP.gateway, port });
      return { target: { address: IP.gateway, port }, request: get(GATEWAY_HOST), pids: () => [p.pid], stop: () => stop(p) };
    },
  },
  nginxRow,
  altRow('http-proxy', 'Node http-proxy 1.18', 'http-proxy 1.18 `proxy.web()` with a keep-alive agent, no access log', 'http-proxy', false),
  altRow('http-proxy-log', 'Node http-proxy 1.18 + access log', 'as above plus a one-line access log per request', 'http-proxy', true),
  altRow('node-http', 'Node node:http piping', 'node:http server + http.request + pipe (the stack src/proxy used before its own engine), no access log', 'node-http', false),
  altRow('node-http-log', 'Node node:http piping + access log', 'as above plus a one-line access log per request', 'node-http', true),
  altRow('undici', 'Node undici stream()', 'node:http server + undici 7 Pool.stream() to the upstream, no access log', 'undici', false),
];

/** Runs one load-generator process; samples the CPU of `pids` at the edges of its measured window. */
async function runLoad<T extends ClosedResult | RateResult>(job: LoadJob, pids: () => number[]): Promise<{ result: T; cpu: number }> {
  const r = await runLoadGroups<T>(job, () => ({ all: pids() }));
  return { result: r.result, cpu: r.cpu.all ?? 0 };
}

/**
 * Runs one load-generator process and samples the CPU of each group of processes (summed per
 * group) at the edges of its measured window. Bounded: the generator is killed 30 s after its
 * planned end.
 */
export function runLoadGroups<T extends ClosedResult | RateResult>(
  job: LoadJob,
  groups: () => Record<string, number[]>,
): Promise<{ result: T; cpu: Record<string, number>; /** CPUs busy machine-wide during the window, on average (everyone's). */ machineBusyCpus: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(LOADGEN, [JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    track(child);
    const sample = () => Object.fromEntries(Object.entries(groups()).map(([k, pids]) => [k, cpuSample(pids)] as const));
    let cpu0: Record<string, CpuSample> = {};
    let cpu1: Record<string, CpuSample> = {};
    let m0 = machineTicks();
    let m1 = m0;
    let w0 = 0;
    let w1 = 0;
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('load generator did not finish in time'));
    }, job.warmupMs + job.durationMs + 30_000);
    let settled = false;
    child.on('message', (m: { type: string; phase?: string; result?: T; message?: string }) => {
      if (m.type === 'window' && m.phase === 'start') {
        cpu0 = sample();
        m0 = machineTicks();
        w0 = performance.now();
      } else if (m.type === 'window' && m.phase === 'end') {
        cpu1 = sample();
        m1 = machineTicks();
        w1 = performance.now();
      } else if (m.type === 'result') {
        settled = true;
        clearTimeout(limit);
        const cpu: Record<string, number> = {};
        for (const k of Object.keys(cpu1)) cpu[k] = cpu0[k] ? cpuBetween(cpu0[k], cpu1[k]!) : 0;
        const share = m1.total > m0.total ? (m1.busy - m0.busy) / (m1.total - m0.total) : 0;
        resolve({ result: m.result!, cpu, machineBusyCpus: w1 > w0 ? share * cpus().length : 0 });
      } else if (m.type === 'error') {
        settled = true;
        clearTimeout(limit);
        reject(new Error(`load generator: ${m.message}`));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(limit);
      if (!settled) reject(new Error(`load generator exited with ${code}`));
    });
  });
}

async function measure(spec: RowSpec, ctx: RunContext, d: Durations, run: number): Promise<RowRun> {
  const r = await spec.start(ctx);
  try {
    const base = { host: r.target.address, port: r.target.port, request: r.request, connections: d.connections };
    const closed = await runLoad<ClosedResult>({ ...base, mode: 'closed', warmupMs: d.tputWarmupMs, durationMs: d.tputMs }, r.pids);
    const rate = await runLoad<RateResult>({ ...base, mode: 'rate', rate: d.rate, warmupMs: d.rateWarmupMs, durationMs: d.rateMs }, r.pids);
    const pids = r.pids();
    return {
      run,
      rps: closed.result.rps,
      clientCpuAtMax: closed.result.clientCpu,
      p50: rate.result.p50,
      p90: rate.result.p90,
      p99: rate.result.p99,
      p999: rate.result.p999,
      max: rate.result.max,
      errors: closed.result.errors + rate.result.errors,
      non2xx: closed.result.non2xx + rate.result.non2xx,
      coCorrected: rate.result.coCorrected,
      lagP99Ms: rate.result.lagP99Ms,
      cpuPer1000: (rate.cpu / Math.max(1, rate.result.completed)) * 1000,
      cpuPer1000AtMax: (closed.cpu / Math.max(1, closed.result.completed)) * 1000,
      peakRss: pids.reduce((s, pid) => s + peakRss(pid), 0),
      privateRss: pids.reduce((s, pid) => s + privateRss(pid), 0),
      processes: pids.length,
    };
  } finally {
    await r.stop();
  }
}

export async function runOverhead(opts: { runs: number; durations: Durations; dir: string; only?: string[]; log: (s: string) => void }): Promise<RowResult[]> {
  const specs = ROWS.filter((s) => !opts.only || opts.only.includes(s.id));
  const results: RowResult[] = specs.map((s) => ({ id: s.id, label: s.label, note: s.note, skipped: s.available?.(), runs: [] }));
  for (let run = 1; run <= opts.runs; run++) {
    const dir = join(opts.dir, `run${run}`);
    mkdirSync(dir, { recursive: true });
    const upstreamPort = await freePort(IP.upstream);
    const up = start(process.execPath, [UPSTREAM], { env: { HOST: IP.upstream, PORT: String(upstreamPort) }, logFile: join(dir, 'upstream.log') });
    try {
      await waitTcp(IP.upstream, upstreamPort, 10_000, up);
      const ctx: RunContext = { dir, upstream: { address: IP.upstream, port: upstreamPort }, upstreamPid: up.pid };
      for (let i = 0; i < specs.length; i++) {
        const res = results[i]!;
        if (res.skipped) continue;
        const t0 = performance.now();
        try {
          const r = await measure(specs[i]!, ctx, opts.durations, run);
          res.runs.push(r);
          opts.log(
            `  run ${run}/${opts.runs} ${res.id.padEnd(15)} ${Math.round(r.rps).toString().padStart(6)} req/s  p50 ${r.p50.toFixed(3)} p90 ${r.p90.toFixed(3)} p99 ${r.p99.toFixed(3)} ms  ` +
              `${r.cpuPer1000.toFixed(3)} CPU-s/1000  ${(r.peakRss / 2 ** 20).toFixed(0)} MB  errors ${r.errors}  (${((performance.now() - t0) / 1000).toFixed(1)}s)`,
          );
        } catch (err) {
          opts.log(`  run ${run}/${opts.runs} ${res.id}: failed: ${(err as Error).message}`);
          res.skipped = res.runs.length === 0 ? `failed: ${(err as Error).message}` : res.skipped;
        }
      }
    } finally {
      await stop(up);
    }
  }
  return results;
}
