/**
 * Config and pod churn under load (issue 15), on the local runtime: keep-alive traffic through
 * ingress -> webapp -> catalog while the catalog VirtualService is applied 100 times (alternating
 * ch5/catalog-vs-v1-mesh.yaml and ch5/catalog-vs-v2-request-mesh.yaml), a catalog pod is deleted
 * and the catalog Deployment is rolled out. No request may fail, and every answer must agree with
 * a table that could have been served: without `x-istio-cohort: internal` always v1; with it, v2
 * while the v2-request table is served and v1 while the v1 table is, either when the request
 * overlapped an apply.
 *
 * Then the retry policy's part in it, with requests held in one catalog pod (a latency blowup)
 * when one of its containers is SIGKILLed. The app: with Istio's default retries nothing fails
 * (the pod's sidecar answers 503 UC or UF and webapp's sidecar retries that 503 on the other pod);
 * with `retries: {attempts: 0}` the same fault reaches the client, webapp's outbound log passing
 * the 503 on (`503 - via_upstream`) and the killed pod's inbound log saying why (UC/UF). The
 * sidecar: webapp's outbound log has `503 UC` or `503 UF` itself.
 *
 * The 100 applies send what `lab apply` sends (the CLI's own client, in this process): a CLI
 * process costs about half a second to start, which would be a minute here. Pod deletion and
 * the rollout use the CLI.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type ApiClient } from '../../src/cli/client.js';
import { loadManifestPaths } from '../../src/config/manifest.js';
import { parseAccessLogLines, type ParsedAccessLog } from '../../src/proxy/telemetry/access-log.js';
import { ROOT, TestLab, waitFor } from '../helpers/lab.js';

const lab = new TestLab({ LAB_RUNTIME: 'local' });
const WEBAPP = { host: 'webapp.istioinaction.io' };
const V1_CLUSTER = 'outbound|80|version-v1|catalog.istioinaction.svc.cluster.local';

interface Result {
  id: string;
  t0: number;
  t1: number;
  cohort: boolean;
  status: number;
  version?: 'v1' | 'v2';
  error?: string;
}

interface Pod {
  metadata: { name: string; labels: Record<string, string> };
  status: { podIP: string; ready?: boolean; restarts?: number; portMap?: Record<string, number> };
}

/** The lab's API as the CLI talks to it (in this process: a CLI process takes about 0.5 s to start). */
let api: ApiClient;

async function catalogPods(version = 'v1'): Promise<Pod[]> {
  const q = new URLSearchParams({ kind: 'Pod', namespace: 'istioinaction', selector: `app=catalog,version=${version}` });
  return (await api.call<{ items: Pod[] }>('GET', `/objects?${q}`)).items;
}

/** A pod's container log, as `lab logs` reads it. */
function containerLog(pod: string, container: string): string {
  try {
    return readFileSync(join(lab.home, 'logs', 'istioinaction', pod, `${container}.log`), 'utf8');
  } catch {
    return '';
  }
}

/** A manifest with its documents changed by `edit`, written next to the lab's state. */
function writeManifest(from: string, name: string, edit: (doc: Record<string, any>) => void): string {
  const docs = parseAllDocuments(readFileSync(join(ROOT, from), 'utf8')).map((d) => d.toJS() as Record<string, any>);
  for (const d of docs) edit(d);
  const file = join(lab.home, name);
  writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'));
  return file;
}

/**
 * Keep-alive load through the ingress: `workers` loops, each request alternating with and without
 * `x-istio-cohort: internal`, until stop() (or `maxRequests`).
 */
function startLoad(prefix: string, o: { workers: number; maxRequests: number; cohort: boolean }) {
  const agent = new Agent({ keepAlive: true, maxSockets: o.workers });
  const results: Result[] = [];
  let stopped = false;
  let n = 0;
  const one = (cohort: boolean): Promise<Result> =>
    new Promise((resolve) => {
      const id = `${prefix}-${++n}`;
      const headers: Record<string, string> = { ...WEBAPP, 'x-request-id': id };
      if (cohort) headers['x-istio-cohort'] = 'internal';
      const t0 = performance.now();
      const req = request({ host: '127.0.0.1', port: lab.ingressPort, path: '/api/catalog', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const r: Result = { id, t0, t1: performance.now(), cohort, status: res.statusCode ?? 0 };
          if (r.status === 200) {
            try {
              const items = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Array<Record<string, unknown>>;
              r.version = items.length > 0 && items.every((i) => 'imageUrl' in i) ? 'v2' : items.some((i) => 'imageUrl' in i) ? undefined : 'v1';
              if (!r.version) r.error = 'mixed body';
            } catch {
              r.error = 'unparsable body';
            }
          }
          resolve(r);
        });
        res.on('error', (e) => resolve({ id, t0, t1: performance.now(), cohort, status: 0, error: e.message }));
      });
      req.on('error', (e: NodeJS.ErrnoException) => resolve({ id, t0, t1: performance.now(), cohort, status: 0, error: e.code ?? e.message }));
      req.end();
    });
  const worker = async (w: number) => {
    for (let i = 0; !stopped && n < o.maxRequests; i++) results.push(await one(o.cohort && (i + w) % 2 === 0));
  };
  const done = Promise.all(Array.from({ length: o.workers }, (_, w) => worker(w)));
  return {
    results,
    get count() {
      return results.length;
    },
    max: o.maxRequests,
    async stop(): Promise<Result[]> {
      stopped = true;
      await done;
      agent.destroy();
      return results;
    },
  };
}

const failed = (r: Result) => r.status !== 200 || r.error !== undefined;

/** Waits for `more` requests to complete (fewer if the load reaches its bound first). */
async function waitMore(load: { count: number; max: number }, more: number, what: string): Promise<void> {
  const atLeast = Math.min(load.count + more, load.max);
  await waitFor(async () => (load.count >= atLeast ? true : undefined), what, 20_000);
}

/** Access log lines of one pod's sidecar. */
async function podAccessLog(pod: string): Promise<ParsedAccessLog[]> {
  return parseAccessLogLines(containerLog(pod, 'istio-proxy').split('\n'));
}

/** The local runtime's process for a pod's container (Linux: found by its environment in /proc). */
function podProcess(pod: string, program: string): number {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'latin1');
      if (env.includes(`POD_NAME=${pod}`) && cmd.includes(program)) found.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  if (found.length !== 1) throw new Error(`expected one ${program} process for pod ${pod}, found ${found.length}`);
  return found[0]!;
}

beforeAll(async () => {
  await lab.up('--runtime', 'local');
  // Two catalog v1 replicas, so a deleted pod or a crashed app leaves one to serve.
  const catalog = writeManifest('services/catalog/kubernetes/catalog.yaml', 'catalog-2.yaml', (d) => {
    if (d.kind === 'Deployment') d.spec.replicas = 2;
  });
  await lab.ok(
    'apply',
    '-f', catalog,
    '-f', 'services/catalog/kubernetes/catalog-deployment-v2.yaml',
    '-f', 'services/webapp/kubernetes/webapp.yaml',
    '-f', 'services/webapp/istio/webapp-catalog-gw-vs.yaml',
    '-f', 'ch5/catalog-dest-rule.yaml',
    '-f', 'ch5/catalog-vs-v1-mesh.yaml',
  );
  const previousHome = process.env.LAB_HOME;
  process.env.LAB_HOME = lab.home;
  try {
    api = connect();
  } finally {
    if (previousHome === undefined) delete process.env.LAB_HOME;
    else process.env.LAB_HOME = previousHome;
  }
}, 90_000);

afterAll(async () => {
  await lab.down();
  lab.destroy();
});

describe('churn under keep-alive load', () => {
  it('100 VirtualService applies, a pod deleted and a rollout: zero failed requests, every answer from a servable table', async () => {
    const t0 = performance.now();
    const docs = {
      v1: loadManifestPaths([join(ROOT, 'ch5/catalog-vs-v1-mesh.yaml')]).documents,
      v2req: loadManifestPaths([join(ROOT, 'ch5/catalog-vs-v2-request-mesh.yaml')]).documents,
    };
    const rolled = writeManifest('services/catalog/kubernetes/catalog.yaml', 'catalog-rolled.yaml', (d) => {
      if (d.kind !== 'Deployment') return;
      d.spec.replicas = 2;
      d.spec.template.spec.containers[0].env.push({ name: 'CHURN_REVISION', value: '2' });
    });
    const before = await catalogPods();
    expect(before).toHaveLength(2);

    const load = startLoad('churn', { workers: 20, maxRequests: 40_000, cohort: true });
    await waitMore(load, 200, 'warm-up requests');

    // Which table was served when: from each apply's return (every proxy serves it) to the next apply's start.
    const applies: Array<{ table: 'v1' | 'v2req'; issued: number; done: number }> = [];
    let rolloutStarted = false;
    const applying = (async () => {
      for (let i = 0; i < 100; i++) {
        // The second half overlaps the rollout.
        if (i === 50) await waitFor(async () => (rolloutStarted ? true : undefined), 'the rollout to start', 60_000);
        const table = i % 2 === 0 ? 'v2req' : 'v1';
        const issued = performance.now();
        await api.call('POST', '/apply', { documents: docs[table], namespace: 'istioinaction' });
        applies.push({ table, issued, done: performance.now() });
      }
    })();
    const churnTimes: string[] = [];
    const podChurn = (async () => {
      await waitFor(async () => (applies.length >= 10 ? true : undefined), '10 applies', 30_000);
      let t = performance.now();
      await lab.ok('delete', 'po', before[0]!.metadata.name);
      churnTimes.push(`pod deleted and replaced in ${(performance.now() - t).toFixed(0)} ms`);
      t = performance.now();
      const rollout = lab.ok('apply', '-f', rolled);
      rolloutStarted = true;
      await rollout;
      churnTimes.push(`rolled out in ${(performance.now() - t).toFixed(0)} ms`);
    })();
    await Promise.all([applying, podChurn]);
    churnTimes.push(`applies done at ${((applies.at(-1)!.done - t0) / 1000).toFixed(1)} s, all at ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // A tail of traffic on the final state, then stop.
    await waitMore(load, 200, 'tail requests');
    const results = await load.stop();

    // The churn happened: the deleted pod is gone and the Deployment runs the new template.
    const after = await catalogPods();
    expect(after).toHaveLength(2);
    expect(after.map((p) => p.metadata.name)).not.toContain(before[0]!.metadata.name);
    expect(after.map((p) => p.metadata.name)).not.toContain(before[1]!.metadata.name);
    expect(new Set(after.map((p) => p.metadata.labels['pod-template-hash'])).size).toBe(1);
    expect(after[0]!.metadata.labels['pod-template-hash']).not.toBe(before[1]!.metadata.labels['pod-template-hash']);

    const failures = results.filter(failed);
    const inconsistent: Array<Result & { want: string }> = [];
    let decided = 0;
    for (const r of results.filter((x) => !failed(x))) {
      if (!r.cohort) {
        if (r.version !== 'v1') inconsistent.push({ ...r, want: 'v1 (no cohort header)' });
        continue;
      }
      // The table of the window [apply k done, apply k+1 issued] that contains the whole request.
      let k = -1;
      while (k + 1 < applies.length && applies[k + 1]!.done <= r.t0) k++;
      const next = applies[k + 1];
      if (next && next.issued < r.t1) continue;
      if (k < 0 && applies.length > 0 && applies[0]!.issued < r.t1) continue;
      const table = k < 0 ? 'v1' : applies[k]!.table;
      decided++;
      const want = table === 'v2req' ? 'v2' : 'v1';
      if (r.version !== want) inconsistent.push({ ...r, want: `${want} (table ${table})` });
    }
    const seconds = (performance.now() - t0) / 1000;
    const took = applies.map((a) => a.done - a.issued).sort((a, b) => a - b);
    let catalog503 = 0;
    for (const pod of readdirSync(join(lab.home, 'logs', 'istioinaction')).filter((p) => p.startsWith('catalog-'))) {
      catalog503 += (await podAccessLog(pod)).filter((l) => l.requestId?.startsWith('churn-') && l.responseCode !== '200').length;
    }
    churnTimes.push(`${catalog503} non-200 answers from catalog sidecars (retried by webapp's)`);
    console.log(churnTimes.join(', '));
    console.log(`applies: p50 ${took[50]!.toFixed(0)} ms, max ${took[99]!.toFixed(0)} ms`);
    console.log(
      `churn: ${results.length} requests (${results.filter((r) => r.cohort).length} with the cohort header, ${decided} inside one table's window) ` +
        `in ${seconds.toFixed(1)} s with ${applies.length} applies, 1 pod deleted, 1 rollout; ${failures.length} failed, ${inconsistent.length} inconsistent`,
    );
    if (failures.length > 0) console.log('failed:', failures.slice(0, 10));
    if (inconsistent.length > 0) console.log('inconsistent:', inconsistent.slice(0, 10));
    expect(applies).toHaveLength(100);
    expect(results.length).toBeGreaterThanOrEqual(1000);
    expect(failures).toEqual([]);
    expect(inconsistent).toEqual([]);
    // Both tables were actually observed from the cohort's point of view.
    expect(results.some((r) => r.cohort && r.version === 'v2')).toBe(true);
    expect(results.some((r) => r.cohort && r.version === 'v1')).toBe(true);
  }, 90_000);
});

describe.skipIf(process.platform !== 'linux')('a catalog pod killed with requests in flight', () => {
  function blowup(pod: Pod, method: 'POST' | 'DELETE', rule?: unknown): Promise<number> {
    const body = rule === undefined ? '' : JSON.stringify(rule);
    const port = pod.status.portMap?.['3000'] ?? 3000;
    return new Promise<number>((resolve, reject) => {
      const headers = { host: 'catalog', 'content-type': 'application/json', 'content-length': String(body.length) };
      const req = request({ host: pod.status.podIP, port, path: '/blowup', method, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /**
   * Holds requests in one catalog v1 pod (a 3 s latency blowup), waits until some are held, kills
   * one of that pod's containers (SIGKILL, as a crash: the control plane only learns of it from
   * the exit), and keeps the load on until the pod is ready again.
   */
  async function killUnderLoad(prefix: string, container: 'catalog' | 'istio-proxy'): Promise<{ results: Result[]; pod: Pod }> {
    const pods = await catalogPods();
    expect(pods.filter((p) => p.status.ready)).toHaveLength(2);
    const pod = pods[0]!;
    const restartsBefore = pod.status.restarts ?? 0;
    const load = startLoad(prefix, { workers: 20, maxRequests: 20_000, cohort: false });
    await waitMore(load, 50, 'warm-up requests');
    const held = () => containerLog(pod.metadata.name, 'catalog').split('Sending a latency blowup').length - 1;
    const heldBefore = held();
    expect(await blowup(pod, 'POST', { type: 'latency', latencyMs: 3000 })).toBe(200);
    // Requests are held in the app: its log says so as each one starts waiting.
    await waitFor(async () => (held() >= heldBefore + 3 ? true : undefined), `requests held in ${pod.metadata.name}`, 20_000);
    const program = container === 'catalog' ? 'services/catalog/src/main.js' : 'src/proxy/main.js';
    process.kill(podProcess(pod.metadata.name, program), 'SIGKILL');
    await waitFor(
      async () => {
        const p = (await catalogPods()).find((x) => x.metadata.name === pod.metadata.name);
        return p && p.status.ready && (p.status.restarts ?? 0) > restartsBefore ? true : undefined;
      },
      `${pod.metadata.name} restarted and ready`,
      30_000,
    );
    // A restarted app starts without blowups; a surviving one still has it.
    if (container !== 'catalog') expect(await blowup(pod, 'DELETE')).toBe(200);
    await waitMore(load, 50, 'requests after the restart');
    return { results: await load.stop(), pod };
  }

  it("Istio's default retries: the 503s of the killed app are retried on the other pod, nothing fails", async () => {
    await lab.ok('apply', '-f', 'ch5/catalog-vs-v1-mesh.yaml');
    const { results, pod } = await killUnderLoad('kill-default', 'catalog');
    const failures = results.filter(failed);
    console.log(`app killed, default retries: ${results.length} requests, ${failures.length} failed`);
    expect(failures).toEqual([]);
    // The retries are visible: the killed pod's sidecar answered 503 to requests the client got 200 for.
    const inbound = await waitFor(async () => {
      const lines = (await podAccessLog(pod.metadata.name)).filter((l) => l.requestId?.startsWith('kill-default-') && l.responseCode === '503');
      return lines.length > 0 ? lines : undefined;
    }, 'the killed pod logging 503s');
    // UC for a request the app died holding, UF once the app is gone. (The proxy's HTTP/1.1 client
    // re-sends a bodyless request once when a reused connection closes before any response byte,
    // so a held request often ends as UF too.)
    for (const l of inbound) expect(['UC', 'UF']).toContain(l.responseFlags);
    const ok = new Set(results.filter((r) => r.status === 200).map((r) => r.id));
    expect(inbound.every((l) => ok.has(l.requestId!))).toBe(true);
  }, 90_000);

  it('retries: {attempts: 0}: the same fault fails requests, and so does a crashed sidecar, with the flags Envoy gives them', async () => {
    const noRetries = writeManifest('ch5/catalog-vs-v1-mesh.yaml', 'catalog-vs-no-retries.yaml', (d) => {
      d.spec.http[0].retries = { attempts: 0 };
    });
    await lab.ok('apply', '-f', noRetries);

    // The app crashes: the killed pod's sidecar answers 503 UC/UF, and webapp's sidecar passes it on.
    const app = await killUnderLoad('kill-app-noretry', 'catalog');
    let failures = app.results.filter(failed);
    console.log(`app killed, attempts 0: ${app.results.length} requests, ${failures.length} failed`);
    expect(failures.length).toBeGreaterThan(0);
    // The client sees webapp's answer to a failed catalog call.
    expect(new Set(failures.map((f) => f.status))).toEqual(new Set([500]));
    let ids = new Set(failures.map((f) => f.id));
    const passedOn = await waitFor(async () => {
      const lines = (await lab.accessLog('webapp')).filter((l) => ids.has(l.requestId!) && l.upstreamCluster === V1_CLUSTER);
      return lines.length >= ids.size ? lines : undefined;
    }, "webapp's outbound lines for the failed requests");
    // One line per request: webapp's sidecar did not retry.
    expect(passedOn).toHaveLength(ids.size);
    for (const l of passedOn) {
      expect(l).toMatchObject({ responseCode: '503', responseFlags: '-', responseCodeDetails: 'via_upstream', upstreamHost: `${app.pod.status.podIP}:3000` });
    }
    const inbound = await waitFor(async () => {
      const lines = (await podAccessLog(app.pod.metadata.name)).filter((l) => ids.has(l.requestId!));
      return lines.length >= ids.size ? lines : undefined;
    }, "the killed pod's inbound lines for the failed requests");
    expect(inbound).toHaveLength(ids.size);
    for (const l of inbound) expect(flagsAndDetails(l)).toMatch(/^503 (UC .*\{connection_termination\}|UF .*\{connection_failure\})$/);

    // The sidecar crashes: webapp's own sidecar cannot reach the endpoint and says so itself.
    const proxy = await killUnderLoad('kill-proxy-noretry', 'istio-proxy');
    failures = proxy.results.filter(failed);
    console.log(`sidecar killed, attempts 0: ${proxy.results.length} requests, ${failures.length} failed`);
    expect(failures.length).toBeGreaterThan(0);
    expect(new Set(failures.map((f) => f.status))).toEqual(new Set([500]));
    ids = new Set(failures.map((f) => f.id));
    const outbound = await waitFor(async () => {
      const lines = (await lab.accessLog('webapp')).filter((l) => ids.has(l.requestId!) && l.upstreamCluster === V1_CLUSTER);
      return lines.length >= ids.size ? lines : undefined;
    }, "webapp's outbound lines for the failed requests");
    expect(outbound).toHaveLength(ids.size);
    for (const l of outbound) {
      expect(flagsAndDetails(l)).toMatch(/^503 (UC .*\{connection_termination\}|UF .*\{connection_failure\})$/);
      expect(l.upstreamHost).toBe(`${proxy.pod.status.podIP}:3000`);
    }
  }, 90_000);
});

function flagsAndDetails(l: ParsedAccessLog): string {
  return `${l.responseCode} ${l.responseFlags} ${l.responseCodeDetails}`;
}
