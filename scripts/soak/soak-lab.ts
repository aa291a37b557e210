/**
 * The soak's lab: its own LAB_HOME and ingress port, the chapter's call graph with mirroring, and
 * what the soak reads from it (the proxies and their admin /stats, pod restarts) through the
 * lab's API and the proxies' admin endpoints, which answer the same on both runtimes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { ApiClient } from '../../src/cli/client.js';
import { readLabInfo, readToken } from '../../src/controlplane/lab-home.js';
import { freePort } from '../../src/runtime/addresses.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(ROOT, 'bin', 'lab.js');
const run = promisify(execFile);

export const CALL_GRAPH = [
  'services/catalog/kubernetes/catalog.yaml',
  'services/catalog/kubernetes/catalog-deployment-v2.yaml',
  'services/webapp/kubernetes/webapp.yaml',
  'services/webapp/istio/webapp-catalog-gw-vs.yaml',
  'ch5/catalog-dest-rule.yaml',
  'ch5/catalog-vs-v2-mirror.yaml',
];
export const MIRROR_VS = 'ch5/catalog-vs-v2-mirror.yaml';
export const WEBAPP_HOST = 'webapp.istioinaction.io';
export const PATH = '/api/catalog';

/** A lab of its own: a fresh LAB_HOME and a free ingress port. */
export class SoakLab {
  readonly home = mkdtempSync(join(tmpdir(), 'istio-lab-soak-home-'));
  ingressPort = 0;
  api!: ApiClient;

  async cli(...args: string[]): Promise<string> {
    const env = { ...process.env, LAB_HOME: this.home, NO_COLOR: '1' };
    try {
      const { stdout } = await run(process.execPath, [BIN, ...args], { cwd: ROOT, env, maxBuffer: 64 << 20 });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`lab ${args.join(' ')} failed: ${(e.stderr || e.stdout || e.message).trim()}`);
    }
  }

  async up(runtime: string): Promise<void> {
    this.ingressPort = await freePort();
    await this.cli('up', '--ingress-port', String(this.ingressPort), '--seed', '15', '--runtime', runtime);
    const info = readLabInfo(this.home);
    if (!info) throw new Error(`lab up wrote no lab.json in ${this.home}`);
    this.api = new ApiClient(info, readToken(this.home));
  }

  async down(): Promise<void> {
    await this.cli('down').catch((err: Error) => console.error(err.message));
  }
}

export interface ProxyInfo {
  key: string;
  role: string;
  adminUrl: string;
  version?: string;
  lastError?: string;
}

interface Pod {
  metadata: { name: string; namespace: string };
  status: { restarts?: number };
}

export async function proxies(lab: SoakLab): Promise<ProxyInfo[]> {
  return (await lab.api.call<{ proxies: ProxyInfo[] }>('GET', '/proxies')).proxies;
}

export async function podRestarts(lab: SoakLab): Promise<Map<string, number>> {
  const pods = (await lab.api.call<{ items: Pod[] }>('GET', '/objects?kind=Pod&namespace=*')).items;
  return new Map(pods.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p.status.restarts ?? 0]));
}

export type ProxyStats = Record<string, number>;

export async function proxyStats(p: ProxyInfo): Promise<ProxyStats> {
  const res = await fetch(`${p.adminUrl}/stats`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${p.adminUrl}/stats: HTTP ${res.status}`);
  return (await res.json()) as ProxyStats;
}

/** One request to webapp through the ingress (node:http: fetch does not send a Host header of its own). */
export function getThroughIngress(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolveReply, reject) => {
    const req = request({ host: '127.0.0.1', port, path: PATH, headers: { host: WEBAPP_HOST }, agent: false, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveReply({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 5 s')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * How long the proxies keep an idle connection: downstream 60 s (src/proxy/http1/server.ts, swept
 * every 5 s), the demo apps' clients 60 s, upstream 4 s. Once they all have gone, every
 * descriptor the load opened must be closed again.
 */
export const IDLE_CLOSE_WAIT_MS = 90_000;

/**
 * Waits (bounded) until every proxy holds no more descriptors than before the load plus `slack`;
 * returns the last count of each.
 */
export async function settleFds(mesh: ProxyInfo[], before: Map<string, number | undefined>, slack: number): Promise<Map<string, number | undefined>> {
  const last = new Map<string, number | undefined>();
  const deadline = Date.now() + IDLE_CLOSE_WAIT_MS;
  for (;;) {
    for (const p of mesh) last.set(p.key, await proxyStats(p).then((s) => s.process_open_fds, () => last.get(p.key)));
    const settled = mesh.every((p) => {
      const b = before.get(p.key);
      const now = last.get(p.key);
      return b === undefined || (now !== undefined && now <= b + slack);
    });
    if (settled || Date.now() > deadline) return last;
    await sleep(2000);
  }
}

/** The second table: the book's mirror VirtualService, mirroring half the requests instead of all. */
export function halfMirrorFile(home: string): string {
  const docs = parseAllDocuments(readFileSync(join(ROOT, MIRROR_VS), 'utf8')).map((d) => d.toJS() as { spec: { http: Array<Record<string, unknown>> } });
  for (const d of docs) d.spec.http[0]!.mirrorPercentage = { value: 50 };
  const file = join(home, 'catalog-vs-v2-mirror-50.yaml');
  writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'));
  return file;
}


export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(200);
  }
}
