/**
 * `lab verify` without processes: the scenario's manifests compiled into the tables the proxies
 * would get, each request decided on the table of the proxy that sends it. Deterministic: the
 * weighted picks and mirror sampling draw from a seeded generator (scenario seed + case index).
 */
import { DEFAULT_MESH_CONFIG, type MeshConfig } from '../model/specs.js';
import { createRandom } from '../router/random.js';
import { checkExactShares, checkObserved, checkSplit, clusterLabel, describeObserved, type Observed } from './expect.js';
import { loadManifests } from './load.js';
import type { CaseResult, ScenarioResult } from './result.js';
import type { Scenario, ScenarioCase } from './scenario.js';
import { simulate, type SimOutcome } from './simulate.js';
import { OfflineWorld, splitFrom } from './world.js';

export function observedOffline(o: SimOutcome): Observed {
  const obs: Observed = { flags: o.flags, mirrors: o.mirrors.filter((m) => m.percentage > 0).map((m) => m.cluster) };
  if (o.kind === 'refused') obs.refused = true;
  if (o.kind === 'local' && o.code !== undefined) obs.code = o.code;
  if (o.route) obs.route = o.route;
  if (o.cluster !== undefined) obs.cluster = o.cluster;
  if (o.upstreamPath !== undefined) obs.upstreamPath = o.upstreamPath;
  if (o.upstreamAuthority !== undefined) obs.upstreamAuthority = o.upstreamAuthority;
  return obs;
}

export function verifyOffline(scenario: Scenario): ScenarioResult {
  const t0 = performance.now();
  const loaded = loadManifests(scenario.manifests, scenario.namespace);
  if (loaded.errors.length > 0 || loaded.documents === 0) {
    const why = loaded.errors.length > 0 ? loaded.errors.map(String).join('\n') : `no objects in ${scenario.manifests.join(', ')}`;
    return { scenario, mode: 'offline', cases: [], setupError: `the manifests are invalid:\n${why}`, ms: performance.now() - t0 };
  }
  const world = new OfflineWorld(loaded.objects.map((o) => o.object));
  const cases = scenario.cases.map((c, i) => runCase(world, scenario, c, i));
  return { scenario, mode: 'offline', cases, ms: performance.now() - t0 };
}

function runCase(world: OfflineWorld, scenario: Scenario, c: ScenarioCase, index: number): CaseResult {
  const t0 = performance.now();
  const done = (failures: string[], observed: string): CaseResult => ({
    name: c.name,
    ok: failures.length === 0,
    failures,
    observed,
    ms: performance.now() - t0,
    ...(c.line ? { line: c.line } : {}),
  });
  const node = world.node(c.request.from, scenario.namespace);
  if (!node) {
    const { name, ns } = splitFrom(c.request.from, scenario.namespace);
    return done([`request.from: no Deployment ${JSON.stringify(name)} in namespace ${ns} among the manifests (workloads: ${world.workloads().join(', ') || 'none'}; or "ingress")`], '');
  }
  const mesh: MeshConfig = { ...DEFAULT_MESH_CONFIG, outboundTrafficPolicy: { mode: c.outboundTrafficPolicy } };
  const table = world.table(node, mesh);
  const rng = createRandom(scenario.seed + index);
  const req = { method: c.request.method, host: c.request.host, path: c.request.path, headers: c.request.headers, port: c.request.port };
  const first = simulate(table, req, rng);
  const failures = checkObserved(c.expect, observedOffline(first), true);
  let observed = describeObserved(observedOffline(first));
  if (c.expect.split) {
    failures.push(...checkExactShares(c.expect.split, first.destinations));
    const counts = new Map<string, number>();
    const tally = (o: SimOutcome) => {
      const l = o.cluster ? clusterLabel(o.cluster) : `${o.code ?? '-'} ${o.flags}`;
      counts.set(l, (counts.get(l) ?? 0) + 1);
    };
    tally(first);
    for (let i = 1; i < c.count; i++) tally(simulate(table, req, rng));
    const split = checkSplit(c.expect.split, counts, c.count, scenario.alpha);
    failures.push(...split.failures);
    observed = splitText(counts, c.count);
  } else {
    for (let i = 1; i < c.count && failures.length === 0; i++) {
      const more = checkObserved(c.expect, observedOffline(simulate(table, req, rng)), true);
      if (more.length) failures.push(`request ${i + 1} of ${c.count}: ${more.join('; ')}`);
    }
  }
  return done(failures, observed);
}

export function splitText(counts: Map<string, number>, n: number): string {
  return [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([l, k]) => `${l} ${k}/${n}`).join(', ');
}
