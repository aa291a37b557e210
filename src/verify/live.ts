/**
 * `lab verify --live`: the scenario's requests as real traffic through a running lab, checked
 * against the proxies' access logs (response code, flags, route name, upstream cluster), so the
 * offline answer can be compared with what the proxies do. Everything goes through the `lab` CLI
 * (apply, install, get, logs), so it works on both runtimes. With no lab running in LAB_HOME, one
 * is started in a temporary LAB_HOME and stopped afterwards.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { labHome, readLabInfo } from '../controlplane/lab-home.js';
import { parseAccessLogLines, type ParsedAccessLog } from '../proxy/telemetry/access-log.js';
import { freePort } from '../runtime/addresses.js';
import { LabError } from '../shared/errors.js';
import { checkObserved, checkSplit, clusterLabel, describeObserved, type Observed } from './expect.js';
import { loadManifests } from './load.js';
import { splitText } from './offline.js';
import type { CaseResult, ScenarioResult } from './result.js';
import type { OutboundPolicy, Scenario, ScenarioCase } from './scenario.js';
import { simulate } from './simulate.js';
import { OfflineWorld, splitFrom } from './world.js';
import { DEFAULT_MESH_CONFIG } from '../model/specs.js';
import type { ProxyTable } from '../model/table.js';
import { createRandom } from '../router/random.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');

interface Lab {
  home: string;
  ingressPort: number;
  run(args: string[]): Promise<string>;
}

function labAt(home: string, ingressPort: number): Lab {
  return {
    home,
    ingressPort,
    run: (args) =>
      new Promise((resolve, reject) => {
        execFile(process.execPath, [CLI, ...args], { env: { ...process.env, LAB_HOME: home }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
          if (err) reject(new LabError('LAB_ERR_RUNTIME', `lab ${args.join(' ')} failed: ${(stderr || stdout || err.message).trim()}`));
          else resolve(stdout);
        });
      }),
  };
}

export async function verifyLive(scenarios: Scenario[], opts: { runtime?: string | undefined }): Promise<ScenarioResult[]> {
  const home = labHome();
  const info = readLabInfo(home);
  const running = info ? labAt(home, info.ingressPort) : undefined;
  const useRunning = running !== undefined && (await running.run(['status']).then(() => true, () => false));
  if (useRunning && opts.runtime) throw new LabError('LAB_ERR_USAGE', `--runtime: the lab in ${home} is already running; it is used as it is`);
  const started = useRunning ? undefined : mkdtempSync(join(tmpdir(), 'lab-verify-'));
  const results: ScenarioResult[] = [];
  let lab: Lab | undefined = running;
  let original: OutboundPolicy | undefined;
  let policy: OutboundPolicy | undefined;
  try {
    if (started) {
      const port = await freePort();
      lab = labAt(started, port);
      await lab.run(['up', '--ingress-port', String(port), ...(opts.runtime ? ['--runtime', opts.runtime] : [])]);
    }
    // The mesh's outbound policy is changed per case as needed and put back as it was found.
    original = await currentPolicy(lab!);
    policy = original;
    for (const s of scenarios) {
      const r = await runScenario(lab!, s, policy, (p) => (policy = p));
      results.push(r);
      // A lab of our own is reset between scenarios; a user's lab keeps what was applied.
      if (started && !r.setupError) await lab!.run(['delete', ...s.manifests.flatMap((m) => ['-f', m]), '-n', s.namespace, '--ignore-not-found']);
    }
  } finally {
    if (!started && original && policy !== original) await lab!.run(['install', '--set', `meshConfig.outboundTrafficPolicy.mode=${original}`]).catch(() => undefined);
    if (started) {
      await lab?.run(['down']).catch(() => undefined);
      rmSync(started, { recursive: true, force: true });
    }
  }
  return results;
}

async function currentPolicy(lab: Lab): Promise<OutboundPolicy> {
  const doc = JSON.parse(await lab.run(['get', 'meshconfig', '-o', 'json'])) as { data?: { mesh?: string } };
  const mesh = parseYaml(doc.data?.mesh ?? '{}') as { outboundTrafficPolicy?: { mode?: string } } | null;
  return mesh?.outboundTrafficPolicy?.mode === 'REGISTRY_ONLY' ? 'REGISTRY_ONLY' : 'ALLOW_ANY';
}

async function runScenario(lab: Lab, s: Scenario, policy: OutboundPolicy, setPolicy: (p: OutboundPolicy) => void): Promise<ScenarioResult> {
  const t0 = performance.now();
  const loaded = loadManifests(s.manifests, s.namespace);
  if (loaded.errors.length > 0) return { scenario: s, mode: 'live', cases: [], setupError: `the manifests are invalid:\n${loaded.errors.map(String).join('\n')}`, ms: performance.now() - t0 };
  try {
    await lab.run(['apply', ...s.manifests.flatMap((m) => ['-f', m]), '-n', s.namespace]);
  } catch (err) {
    return { scenario: s, mode: 'live', cases: [], setupError: (err as Error).message, ms: performance.now() - t0 };
  }
  // The same objects offline tell which Deployment backs which cluster (to name mirror targets).
  const world = new OfflineWorld(loaded.objects.map((o) => o.object));
  const cases: CaseResult[] = [];
  for (const c of s.cases) {
    if (c.outboundTrafficPolicy !== policy) {
      await lab.run(['install', '--set', `meshConfig.outboundTrafficPolicy.mode=${c.outboundTrafficPolicy}`]);
      policy = c.outboundTrafficPolicy;
      setPolicy(policy);
    }
    cases.push(await runCase(lab, s, c, world));
  }
  return { scenario: s, mode: 'live', cases, ms: performance.now() - t0 };
}

interface Sender {
  deployment: string;
  namespace: string;
  /** Where to send: the ingress port, or the sidecar's outbound proxy (absolute-form). */
  host: string;
  port: number;
  absolute: boolean;
}

async function sender(lab: Lab, s: Scenario, c: ScenarioCase): Promise<Sender> {
  if (c.request.from === 'ingress' || c.request.from === 'istio-ingressgateway') {
    if (c.request.port !== 80) throw new LabError('LAB_ERR_USAGE', `live: only the gateway's port 80 is published (request.port ${c.request.port})`);
    return { deployment: 'istio-ingressgateway', namespace: 'istio-system', host: '127.0.0.1', port: lab.ingressPort, absolute: false };
  }
  const { name, ns } = splitFrom(c.request.from, s.namespace);
  const out = await lab.run(['get', 'po', '-n', ns, '-o', 'json']);
  const pods = (JSON.parse(out) as { items: Array<{ metadata: { ownerReferences?: Array<{ name: string }> }; status?: { ready?: boolean; outboundProxy?: string } }> }).items;
  const pod = pods.find((p) => p.metadata.ownerReferences?.some((o) => o.name === name) && p.status?.ready && p.status.outboundProxy);
  if (!pod) throw new LabError('LAB_ERR_NOT_FOUND', `request.from: no ready pod of Deployment ${name} in namespace ${ns}`);
  const u = new URL(pod.status!.outboundProxy!);
  return { deployment: name, namespace: ns, host: u.hostname, port: Number(u.port), absolute: true };
}

function send(to: Sender, c: ScenarioCase, id: string): Promise<number | 'refused'> {
  const r = c.request;
  const path = to.absolute ? `http://${r.host}${r.path}` : r.path;
  return new Promise((resolve, reject) => {
    const req = request({ host: to.host, port: to.port, method: r.method, path, setHost: false, agent: false, headers: { ...r.headers, host: r.host, 'x-request-id': id } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET' ? resolve('refused') : reject(err)));
    req.end();
  });
}

async function accessLog(lab: Lab, deployment: string, namespace: string): Promise<ParsedAccessLog[]> {
  const out = await lab.run(['logs', `deploy/${deployment}`, '-c', 'istio-proxy', '-n', namespace]);
  return parseAccessLogLines(out.split('\n').map((l) => l.replace(/^\[pod\/[^\]]+\] /, '')));
}

/** Proxies write their log a moment after the response: poll until every id has a line, bounded. */
async function linesFor(lab: Lab, to: Sender, ids: string[]): Promise<Map<string, ParsedAccessLog>> {
  const want = new Set(ids);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = new Map<string, ParsedAccessLog>();
    for (const l of await accessLog(lab, to.deployment, to.namespace)) {
      // The sender's own line: outbound (or the gateway's), not an inbound one.
      if (want.has(l.requestId) && !l.upstreamCluster.startsWith('inbound|') && !found.has(l.requestId)) found.set(l.requestId, l);
    }
    if (found.size === want.size || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function observedLive(l: ParsedAccessLog): Observed {
  const o: Observed = { code: Number(l.responseCode), flags: l.responseFlags, mirrors: [] };
  if (l.routeName !== '-') o.route = l.routeName;
  if (l.upstreamCluster !== '-') o.cluster = l.upstreamCluster;
  return o;
}

/** The upstream's inbound line (rewritten path and authority) and shadow copies, from every workload's log. */
async function upstreamView(lab: Lab, s: Scenario, c: ScenarioCase, id: string, world: OfflineWorld, o: Observed): Promise<void> {
  const deadline = Date.now() + 5000;
  // The sender's table as compiled offline: which clusters the route mirrors to, and their endpoints.
  const node = world.node(c.request.from, s.namespace);
  const mesh = { ...DEFAULT_MESH_CONFIG, outboundTrafficPolicy: { mode: c.outboundTrafficPolicy } };
  const table = node ? world.table(node, mesh) : { clusters: {} as ProxyTable['clusters'] };
  const configuredMirrors = node
    ? simulate(world.table(node, mesh), { method: c.request.method, host: c.request.host, path: c.request.path, headers: c.request.headers, port: c.request.port }, createRandom(0)).mirrors.map((m) => m.cluster)
    : [];
  const deployments = world.workloads().filter((w) => w.startsWith(`${s.namespace}/`)).map((w) => w.slice(s.namespace.length + 1));
  for (;;) {
    const mirrors: string[] = [];
    let inbound: ParsedAccessLog | undefined;
    for (const d of deployments) {
      for (const l of await accessLog(lab, d, s.namespace)) {
        if (l.requestId !== id || !l.upstreamCluster.startsWith('inbound|')) continue;
        if (/-shadow(:\d+)?$/.test(l.authority)) {
          // Name the copy by the configured mirror cluster whose endpoints are this Deployment's pods.
          const named = configuredMirrors.filter((cl) => table.clusters[cl]?.endpoints.some((e) => e.workload === d));
          mirrors.push(...(named.length ? named : [`a shadow copy at Deployment ${d}`]));
        } else inbound ??= l;
      }
    }
    if (inbound) {
      o.upstreamPath = inbound.path;
      o.upstreamAuthority = inbound.authority;
    }
    o.mirrors = mirrors;
    if ((inbound && mirrors.length > 0) || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function runCase(lab: Lab, s: Scenario, c: ScenarioCase, world: OfflineWorld): Promise<CaseResult> {
  const t0 = performance.now();
  const done = (failures: string[], observed: string): CaseResult => ({ name: c.name, ok: failures.length === 0, failures, observed, ms: performance.now() - t0, ...(c.line ? { line: c.line } : {}) });
  let to: Sender;
  try {
    to = await sender(lab, s, c);
  } catch (err) {
    return done([(err as Error).message], '');
  }
  const ids = Array.from({ length: c.count }, () => randomUUID());
  const statuses: Array<number | 'refused'> = [];
  for (const id of ids) statuses.push(await send(to, c, id));
  if (statuses[0] === 'refused') {
    const failures = checkObserved(c.expect, { refused: true, flags: '-', mirrors: [] }, false);
    return done(failures, 'connection refused');
  }
  const lines = await linesFor(lab, to, ids);
  const missing = ids.filter((id) => !lines.has(id));
  if (missing.length > 0) return done([`no access log line in ${to.namespace}/${to.deployment} for ${missing.length} of ${ids.length} requests (x-request-id ${missing[0]})`], '');
  if (c.expect.split) {
    const counts = new Map<string, number>();
    for (const id of ids) {
      const l = lines.get(id)!;
      const label = l.upstreamCluster !== '-' ? clusterLabel(l.upstreamCluster) : `${l.responseCode} ${l.responseFlags}`;
      counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    const failures = checkObserved({ ...c.expect, split: undefined }, observedLive(lines.get(ids[0]!)!), false);
    failures.push(...checkSplit(c.expect.split, counts, c.count, s.alpha).failures);
    return done(failures, splitText(counts, c.count));
  }
  const failures: string[] = [];
  let first: Observed | undefined;
  for (const [i, id] of ids.entries()) {
    const o = observedLive(lines.get(id)!);
    if (c.expect.rewrite || c.expect.mirror) await upstreamView(lab, s, c, id, world, o);
    first ??= o;
    const f = checkObserved(c.expect, o, false);
    if (f.length) {
      failures.push(...(ids.length > 1 ? f.map((x) => `request ${i + 1} of ${ids.length}: ${x}`) : f));
      break;
    }
  }
  return done(failures, first ? describeObserved(first) : '');
}
