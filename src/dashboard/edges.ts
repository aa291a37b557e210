/**
 * The graph's edges from two scrapes of every proxy's Istio metrics, as Kiali builds its graph:
 * client-side reports (`reporter="source"`: sidecars and gateways see every request they send,
 * failures before the server included), plus server-side reports for clients outside the mesh
 * (`source_workload="unknown"`), who report nothing themselves. Copies a sidecar mirrors are not
 * reported by the client (Envoy's shadow requests carry no client-side stats), so traffic the
 * server saw from a mesh client beyond what that client reported is mirror traffic.
 */
import type { PromSample } from '../metrics/prometheus-text.js';
import { histogramQuantile, increase, sumByLe, type HistogramBucket } from '../metrics/promql-lite.js';

export const UNKNOWN_NODE = 'unknown';

export interface EdgeStats {
  id: string;
  source: string;
  target: string;
  kind: 'traffic' | 'mirror';
  /** The service the client's requests went to (its FQDN, or the external host); the busiest one if several. */
  service: string;
  /** Requests in the window. */
  requests: number;
  /** Requests per second over the short rate window. */
  rps: number;
  /** Percent of non-5xx responses in the window (NaN: no requests). */
  successRate: number;
  /** p90 request duration in ms over the window (NaN: no data). */
  p90Ms: number;
  /**
   * This edge's share of what its source sent to the same service in the window (0..1): the subset
   * split. Flagger's `-primary` and `-canary` Services count as their apex Service, so a canary's
   * weight shows as the split between the primary and the canary workloads.
   */
  share: number;
  /** Response code -> requests in the window. */
  codes: Record<string, number>;
  /** Response flags (other than `-`) -> requests in the window. */
  flags: Record<string, number>;
  /** The weight (percent) the applicable VirtualService route gives this edge's server, when it splits. */
  ruleWeight?: number;
  /** To an external host without a ServiceEntry: the catch-all cluster that took it (egress policy). */
  catchAll?: 'PassthroughCluster' | 'BlackHoleCluster';
}

/** A node id for a workload: `namespace/name`. */
export function workloadNode(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function externalNode(host: string): string {
  return `ext:${host}`;
}

/** A mesh Service no workload answered for (no endpoint, or none ready). */
export function serviceNode(fqdn: string): string {
  return `svc:${fqdn}`;
}

const CATCH_ALL = new Set(['PassthroughCluster', 'BlackHoleCluster']);

function sourceOf(l: Record<string, string>): string {
  const w = l.source_workload;
  return !w || w === 'unknown' ? UNKNOWN_NODE : workloadNode(l.source_workload_namespace ?? 'unknown', w);
}

/**
 * The server end: a workload; else, when no workload answered, the mesh Service asked for (no
 * endpoint), an external host (a ServiceEntry's, or one a catch-all cluster took), or unknown (no
 * route, e.g. a gateway's 404 for a host it does not serve).
 */
function targetOf(l: Record<string, string>): string {
  const w = l.destination_workload;
  if (w && w !== 'unknown') return workloadNode(l.destination_workload_namespace ?? 'unknown', w);
  const host = l.destination_service;
  if (!host || host === 'unknown') return UNKNOWN_NODE;
  if (host.endsWith('.svc.cluster.local')) return serviceNode(host);
  const known = l.destination_service_namespace && l.destination_service_namespace !== 'unknown';
  return known || catchAllOf(l) ? externalNode(host) : UNKNOWN_NODE;
}

/** `catalog-primary.ns.svc.cluster.local` and `catalog-canary...` belong to `catalog...` (Flagger's naming). */
export function serviceFamily(service: string): string {
  const dot = service.indexOf('.');
  const name = dot < 0 ? service : service.slice(0, dot);
  const base = name.replace(/-(primary|canary)$/, '');
  return dot < 0 ? base : base + service.slice(dot);
}

function serviceOf(l: Record<string, string>): string {
  const name = l.destination_service_name ?? '';
  return CATCH_ALL.has(name) || !l.destination_service ? l.destination_service ?? 'unknown' : l.destination_service;
}

interface Acc {
  source: string;
  target: string;
  /** Requests per service the client asked for. */
  services: Record<string, number>;
  requests: number;
  ok: number;
  codes: Record<string, number>;
  flags: Record<string, number>;
  buckets: HistogramBucket[];
  rateRequests: number;
  catchAll?: 'PassthroughCluster' | 'BlackHoleCluster';
}

/**
 * The catch-all cluster that took a request to a host no Service or ServiceEntry names. Envoy's
 * `block_all` is a direct response with no cluster at all (the lab reports the requested host
 * then, with no service namespace); Istio's metrics call that BlackHoleCluster.
 */
function catchAllOf(l: Record<string, string>): EdgeStats['catchAll'] {
  const name = l.destination_service_name ?? '';
  if (name === 'PassthroughCluster' || name === 'BlackHoleCluster') return name;
  const noWorkload = !l.destination_workload || l.destination_workload === 'unknown';
  const noService = !l.destination_service_namespace || l.destination_service_namespace === 'unknown';
  const host = l.destination_service ?? 'unknown';
  const blockAll = l.reporter === 'source' && l.response_code === '502' && host !== 'unknown' && !host.endsWith('.svc.cluster.local');
  return noWorkload && noService && blockAll ? 'BlackHoleCluster' : undefined;
}

/** One edge per client and server; traffic a catch-all cluster took is an edge of its own. */
function edgeKey(l: Record<string, string>): string {
  const c = catchAllOf(l);
  return `${sourceOf(l)}\u0001${targetOf(l)}${c ? `\u0001${c}` : ''}`;
}

function accumulate(map: Map<string, Acc>, l: Record<string, string>, f: (a: Acc) => void): void {
  const source = sourceOf(l);
  const target = targetOf(l);
  const k = edgeKey(l);
  let a = map.get(k);
  if (!a) {
    a = { source, target, services: {}, requests: 0, ok: 0, codes: {}, flags: {}, buckets: [], rateRequests: 0 };
    map.set(k, a);
  }
  const c = catchAllOf(l);
  if (c) a.catchAll = c;
  f(a);
}

/** Which reports count for an edge: client-side ones, and server-side ones of clients outside the mesh. */
function counted(l: Record<string, string>): boolean {
  if (l.reporter === 'source') return true;
  return l.reporter === 'destination' && (l.source_workload ?? 'unknown') === 'unknown';
}

export interface EdgeWindow {
  /** Scrapes at the start and end of the window (counts, success, latency, split). */
  before: readonly PromSample[];
  after: readonly PromSample[];
  /** Scrape at the start of the short rate window, and its length in seconds. */
  rateBefore: readonly PromSample[];
  rateSeconds: number;
}

export function buildEdges(w: EdgeWindow): EdgeStats[] {
  const edges = new Map<string, Acc>();
  for (const s of increase(w.before, w.after, 'istio_requests_total', [])) {
    if (!counted(s.labels) || s.value <= 0) continue;
    accumulate(edges, s.labels, (a) => {
      a.requests += s.value;
      const svc = serviceOf(s.labels);
      a.services[svc] = (a.services[svc] ?? 0) + s.value;
      if (!(s.labels.response_code ?? '').startsWith('5')) a.ok += s.value;
      const code = s.labels.response_code ?? '0';
      a.codes[code] = (a.codes[code] ?? 0) + s.value;
      const flag = s.labels.response_flags ?? '-';
      if (flag !== '-') a.flags[flag] = (a.flags[flag] ?? 0) + s.value;
    });
  }
  for (const s of increase(w.rateBefore, w.after, 'istio_requests_total', [])) {
    if (!counted(s.labels) || s.value <= 0) continue;
    const a = edges.get(edgeKey(s.labels));
    if (a) a.rateRequests += s.value;
  }
  for (const s of increase(w.before, w.after, 'istio_request_duration_milliseconds_bucket', [])) {
    if (!counted(s.labels)) continue;
    const a = edges.get(edgeKey(s.labels));
    if (a) a.buckets.push(...sumByLe([s]));
  }

  const mirrors = mirrorTraffic(w);
  const out: EdgeStats[] = [];
  const serviceOfEdge = (a: Acc) => Object.entries(a.services).sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))[0]?.[0] ?? 'unknown';
  const perFamily = new Map<string, number>();
  const familyKey = (a: Acc) => `${a.source}\u0001${serviceFamily(serviceOfEdge(a))}`;
  for (const a of edges.values()) perFamily.set(familyKey(a), (perFamily.get(familyKey(a)) ?? 0) + a.requests);
  for (const a of edges.values()) {
    out.push({
      id: `${a.source}->${a.target}${a.catchAll ? `~${a.catchAll}` : ''}`,
      source: a.source,
      target: a.target,
      kind: 'traffic',
      service: serviceOfEdge(a),
      requests: a.requests,
      rps: w.rateSeconds > 0 ? a.rateRequests / w.rateSeconds : 0,
      successRate: a.requests > 0 ? (100 * a.ok) / a.requests : NaN,
      p90Ms: histogramQuantile(0.9, a.buckets),
      share: a.requests / (perFamily.get(familyKey(a)) || 1),
      codes: a.codes,
      flags: a.flags,
      ...(a.catchAll ? { catchAll: a.catchAll } : {}),
    });
  }
  out.push(...mirrors);
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Per (mesh client, server workload): what the server reported from that client beyond what the
 * client reported sending it. Only pairs with such an excess become mirror edges; requests still
 * in flight between the two scrapes are at most a handful, so an excess must also be at least
 * a tenth of what the server saw.
 */
function mirrorTraffic(w: EdgeWindow): EdgeStats[] {
  const seen = new Map<string, { source: string; target: string; service: string; server: number; client: number; serverRate: number; clientRate: number }>();
  const tally = (samples: PromSample[], field: 'server' | 'client' | 'serverRate' | 'clientRate') => {
    for (const s of samples) {
      const l = s.labels;
      if (sourceOf(l) === UNKNOWN_NODE || targetOf(l) === UNKNOWN_NODE || targetOf(l).startsWith('ext:')) continue;
      if ((field.startsWith('server') ? 'destination' : 'source') !== l.reporter) continue;
      const k = `${sourceOf(l)}\u0001${targetOf(l)}`;
      const e = seen.get(k) ?? { source: sourceOf(l), target: targetOf(l), service: serviceOf(l), server: 0, client: 0, serverRate: 0, clientRate: 0 };
      e[field] += s.value;
      seen.set(k, e);
    }
  };
  const win = increase(w.before, w.after, 'istio_requests_total', []);
  const rateWin = increase(w.rateBefore, w.after, 'istio_requests_total', []);
  tally(win, 'server');
  tally(win, 'client');
  tally(rateWin, 'serverRate');
  tally(rateWin, 'clientRate');
  const out: EdgeStats[] = [];
  for (const e of seen.values()) {
    const excess = e.server - e.client;
    if (excess <= 0 || excess < 0.1 * e.server) continue;
    out.push({
      id: `${e.source}->${e.target}~mirror`,
      source: e.source,
      target: e.target,
      kind: 'mirror',
      service: e.service,
      requests: excess,
      rps: w.rateSeconds > 0 ? Math.max(0, e.serverRate - e.clientRate) / w.rateSeconds : 0,
      successRate: NaN,
      p90Ms: NaN,
      share: NaN,
      codes: {},
      flags: {},
    });
  }
  return out;
}
