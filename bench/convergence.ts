/**
 * Convergence: a real lab (`lab up --runtime local`), a Deployment with N replicas (each a pod with
 * a sidecar) plus the ingress gateway, then a series of VirtualService changes that alter every
 * proxy's table. Each apply goes to the control plane's API as `lab apply` sends it (wait=true:
 * the call returns once every proxy has acknowledged the new table, and a proxy acknowledges a
 * push only once it serves it). After each apply the benchmark asks every proxy for its version
 * (GET <adminUrl>/version) and counts any that do not serve what the control plane pushed.
 *
 * Why not poll /version in a tight loop to time convergence from outside: 50 pollers at
 * millisecond resolution would take a large share of 2 cores from the proxies being timed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/runtime/addresses.js';
import { readToken } from '../src/controlplane/lab-home.js';
import { apiAuthHeaders } from '../src/cli/client.js';
import type { KubeObject } from '../src/model/objects.js';
import { currentRss, listProcesses, processEnv, settle } from './lib/proc.js';
import { percentile } from './lib/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const LAB_BIN = join(HERE, '..', '..', 'bin', 'lab.js');
const NS = 'istioinaction';

export interface ConvergenceResult {
  proxies: number;
  sidecars: number;
  applies: number;
  /** ms from sending the apply to the last proxy's acknowledgement. */
  samples: number[];
  /** The control plane's own time for the push of each apply (compile, send, every ack), ms. */
  pushMs: number[];
  pushP50: number;
  p50: number;
  p99: number;
  max: number;
  /** Proxies found serving another version than the control plane pushed, summed over applies. */
  mismatches: number;
  /** Proxies whose table did not change although it should have, summed over applies. */
  unchanged: number;
  /** Seconds to roll out the Deployment to this many replicas. */
  scaleUpSeconds: number;
  /** Median and max resident memory of the lab's proxies after the applies. */
  proxyRssMedian: number;
  proxyRssMax: number;
}

function lab(home: string, args: string[]): string {
  const r = spawnSync(process.execPath, [LAB_BIN, ...args], { env: { ...process.env, LAB_HOME: home, NO_COLOR: '1' }, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`lab ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

const doc = (object: KubeObject, index: number) => ({ object, source: { file: 'bench', index } });

function catalogObjects(replicas: number): KubeObject[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'catalog', namespace: NS, labels: { app: 'catalog' } },
      spec: { selector: { app: 'catalog' }, ports: [{ name: 'http', port: 80, targetPort: 3000 }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'catalog', namespace: NS, labels: { app: 'catalog' } },
      spec: {
        replicas,
        selector: { matchLabels: { app: 'catalog' } },
        template: {
          metadata: { labels: { app: 'catalog', version: 'v1' } },
          spec: { containers: [{ name: 'catalog', image: 'istioinaction/catalog:latest', ports: [{ containerPort: 3000 }] }] },
        },
      },
    },
    {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'Gateway',
      metadata: { name: 'catalog-gateway', namespace: NS },
      spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['catalog.bench.io'] }] },
    },
  ];
}

/** A VirtualService bound to the mesh and the gateway, so every proxy's table changes with `k`. */
function virtualService(k: number): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: { name: 'catalog', namespace: NS },
    spec: {
      hosts: ['catalog', 'catalog.bench.io'],
      gateways: ['mesh', 'catalog-gateway'],
      http: [
        { name: `cohort-${k}`, match: [{ headers: { 'x-bench-cohort': { exact: `v${k}` } } }], route: [{ destination: { host: 'catalog', port: { number: 80 } } }] },
        { name: 'default', route: [{ destination: { host: 'catalog', port: { number: 80 } } }] },
      ],
    },
  };
}

interface ProxyInfo {
  key: string;
  role: string;
  adminUrl: string;
  version?: string;
}

/** The lab's API address and home (its token is `$LAB_HOME/token`). */
interface Api {
  api: string;
  home: string;
}

async function call<T>(lab: Api, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${lab.api}${path}`, {
    method,
    headers: { ...apiAuthHeaders(readToken(lab.home)), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(180_000),
  });
  const parsed = (await res.json()) as T & { error?: { message?: string } };
  if (!res.ok) throw new Error(`${method} ${path}: ${parsed.error?.message ?? res.status}`);
  return parsed;
}

async function proxies(api: Api): Promise<ProxyInfo[]> {
  return (await proxiesAndStats(api)).proxies;
}

function proxiesAndStats(api: Api): Promise<{ proxies: ProxyInfo[]; stats: { lastPushMs: number } }> {
  return call<{ proxies: ProxyInfo[]; stats: { lastPushMs: number } }>(api, 'GET', '/proxies');
}

export async function runConvergence(opts: { sizes: number[]; applies: number; log: (s: string) => void }): Promise<ConvergenceResult[]> {
  const home = mkdtempSync(join(tmpdir(), 'bench-lab-'));
  const out: ConvergenceResult[] = [];
  let k = 0;
  try {
    lab(home, ['up', '--runtime', 'local', '--ingress-port', String(await freePort()), '--seed', '7']);
    const info = JSON.parse(readFileSync(join(home, 'lab.json'), 'utf8')) as { api: string; block: number };
    const api: Api = { api: info.api, home };
    for (const n of opts.sizes) {
      const t0 = performance.now();
      await call(api, 'POST', '/apply', { documents: catalogObjects(n).map(doc), namespace: NS, wait: true });
      const scaleUpSeconds = (performance.now() - t0) / 1000;
      await call(api, 'POST', '/apply', { documents: [doc(virtualService(++k), 0)], namespace: NS, wait: true });
      let before = await proxies(api);
      const sidecars = before.filter((p) => p.role === 'sidecar').length;
      // Pods are ready once they listen, but their apps may still be compiling and collecting for
      // a moment; timing pushes then would measure their start, not the push.
      const settleMs = await settle();
      opts.log(`  ${n} replicas: ${before.length} proxies (${sidecars} sidecars) after ${scaleUpSeconds.toFixed(1)} s; machine quiet after ${(settleMs / 1000).toFixed(1)} s more`);
      const samples: number[] = [];
      const pushMs: number[] = [];
      let mismatches = 0;
      let unchanged = 0;
      for (let i = 0; i < opts.applies; i++) {
        const t = performance.now();
        await call(api, 'POST', '/apply', { documents: [doc(virtualService(++k), 0)], namespace: NS, wait: true });
        samples.push(performance.now() - t);
        const { proxies: after, stats } = await proxiesAndStats(api);
        pushMs.push(stats.lastPushMs);
        const prev = new Map(before.map((p) => [p.key, p.version]));
        const served = await Promise.all(
          after.map(async (p) => ((await (await fetch(`${p.adminUrl}/version`)).json()) as { version: string | null }).version),
        );
        after.forEach((p, j) => {
          if (served[j] !== p.version) mismatches++;
          if (prev.get(p.key) === p.version) unchanged++;
        });
        before = after;
        // A pause between applies, as between a person's commands; lets the proxies' GC settle.
        await new Promise((r) => setTimeout(r, 100));
      }
      const rss = listProcesses()
        .filter((p) => p.cmdline.some((a) => a.endsWith(join('src', 'proxy', 'main.js'))))
        .filter((p) => (processEnv(p.pid).LAB_ADMIN_HOST ?? '').startsWith(`127.${info.block}.`))
        .map((p) => currentRss(p.pid))
        .sort((a, b) => a - b);
      const r: ConvergenceResult = {
        proxies: before.length,
        sidecars,
        applies: samples.length,
        samples: samples.map((s) => Math.round(s * 1000) / 1000),
        pushMs: pushMs.map((s) => Math.round(s * 1000) / 1000),
        pushP50: percentile(pushMs, 0.5),
        p50: percentile(samples, 0.5),
        p99: percentile(samples, 0.99),
        max: Math.max(...samples),
        mismatches,
        unchanged,
        scaleUpSeconds,
        proxyRssMedian: rss.length ? rss[Math.floor(rss.length / 2)]! : NaN,
        proxyRssMax: rss.length ? rss[rss.length - 1]! : NaN,
      };
      opts.log(
        `  ${r.proxies} proxies: apply -> all serving p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms over ${r.applies} applies (push p50 ${r.pushP50.toFixed(1)} ms); ` +
          `${mismatches} mismatched, ${unchanged} unchanged; proxy RSS median ${(r.proxyRssMedian / 2 ** 20).toFixed(0)} MB`,
      );
      out.push(r);
    }
  } finally {
    try {
      lab(home, ['down']);
    } catch (err) {
      opts.log(`  lab down: ${(err as Error).message}`);
    }
    rmSync(home, { recursive: true, force: true });
  }
  return out;
}
