/**
 * One request decided on a compiled proxy table, the way the proxy's request path does it
 * (src/proxy/handler.ts `route`), minus the sockets: listener -> route configuration -> decide ->
 * cluster lookup. The upstream itself is not simulated: a forwarded request reports the cluster it
 * goes to, and a response code only where the proxy answers by itself (404 NR, 503 NC/UH, 502
 * block_all).
 */
import { parseClusterName } from '../model/names.js';
import type { ProxyTable, WeightedCluster } from '../model/table.js';
import { outboundTarget } from '../proxy/outbound-target.js';
import { compileRouteConfig } from '../router/compile.js';
import { decide } from '../router/decide.js';
import type { Decision } from '../router/decision.js';
import type { Random } from '../router/random.js';
import { rewritePath } from '../router/rewrite.js';

export interface SimRequest {
  method: string;
  /** Host header as the client writes it (`catalog`, `catalog.istioinaction.io`, `host:8080`). */
  host: string;
  /** Origin-form path with query. */
  path: string;
  /** Lowercase names. */
  headers: Record<string, string>;
  /** Destination port: the gateway server port (ingress) or the service port (sidecar). Default 80. */
  port?: number;
}

export interface SimOutcome {
  /** `forwarded`: sent to `cluster`; `local`: the proxy answered itself; `refused`: no listener. */
  kind: 'forwarded' | 'local' | 'refused';
  /** The proxy's own status for `local`; undefined when the upstream answers. */
  code?: number;
  /** %RESPONSE_FLAGS%: `-`, `NR`, `NC`, `UH`. */
  flags: string;
  /** %ROUTE_NAME%, when a route matched. */
  route?: string;
  /** %UPSTREAM_CLUSTER% (as logged: `BlackHoleCluster`, `PassthroughCluster`, `outbound|80|v1|...`). */
  cluster?: string;
  subset?: string;
  /** The path and Host the upstream receives. */
  upstreamPath?: string;
  upstreamAuthority?: string;
  /** Every mirror of the matched route with its percentage, and those sampled for this request. */
  mirrors: Array<{ cluster: string; percentage: number }>;
  sampledMirrors: string[];
  /** The matched route's weighted destinations (for exact split probabilities). */
  destinations: WeightedCluster[];
  /** Where the outcome came from, for reports: `listener 0.0.0.0_80, route config http.80`. */
  via: string;
}

const EMPTY: Pick<SimOutcome, 'mirrors' | 'sampledMirrors' | 'destinations'> = { mirrors: [], sampledMirrors: [], destinations: [] };

/** Compiled route configurations are cached per table object (a table is immutable). */
const compiled = new WeakMap<ProxyTable, Map<string, ReturnType<typeof compileRouteConfig>>>();

function routeConfig(table: ProxyTable, name: string): ReturnType<typeof compileRouteConfig> | undefined {
  let m = compiled.get(table);
  if (!m) {
    m = new Map();
    compiled.set(table, m);
  }
  let rc = m.get(name);
  if (!rc) {
    const raw = table.routeConfigs[name];
    if (!raw) return undefined;
    rc = compileRouteConfig(raw);
    m.set(name, rc);
  }
  return rc;
}

export function simulate(table: ProxyTable, req: SimRequest, rng: Random): SimOutcome {
  const port = req.port ?? 80;
  let authority = req.host;
  let path = req.path;
  let rcName: string;
  let via: string;
  if (table.node.role === 'gateway') {
    const listener = table.listeners.find((l) => l.direction === 'gateway' && l.port === port);
    if (!listener) return { kind: 'refused', flags: '-', via: `no gateway listener on port ${port}`, ...EMPTY };
    rcName = listener.routeConfig;
    via = `listener ${listener.name}, route config ${rcName}`;
  } else {
    // The app's request as the sidecar's outbound listener sees it (absolute-form through HTTP_PROXY).
    const target = outboundTarget(`http://${req.host}${req.path}`, req.host, 1, port);
    if (!target.ok) return { kind: 'local', code: 400, flags: 'DPE', via: target.reason, ...EMPTY };
    authority = target.authority;
    path = target.path;
    rcName = table.routeConfigs[String(target.port)] ? String(target.port) : '*';
    via = `outbound, route config ${rcName}`;
  }
  const rc = routeConfig(table, rcName);
  if (!rc) return { kind: 'local', code: 404, flags: 'NR', via: `${via} (missing)`, ...EMPTY };
  const d: Decision = decide(rc, { authority, path, method: req.method, scheme: 'http', headers: req.headers, port }, rng);
  if (d.kind === 'no_route') return { kind: 'local', code: 404, flags: 'NR', via: `${via}${d.vhost ? `, virtual host ${d.vhost}` : ', no virtual host'}`, ...EMPTY };
  via += `, virtual host ${d.vhost}`;
  if (d.kind === 'direct') {
    return { kind: 'local', code: d.status, flags: d.flags, route: d.routeName, ...(d.logCluster ? { cluster: d.logCluster } : {}), via, ...EMPTY };
  }
  const base = {
    route: d.routeName,
    cluster: d.cluster,
    via,
    upstreamPath: rewritePath(d, path),
    upstreamAuthority: d.action.rewriteAuthority ?? req.host,
    mirrors: d.action.mirrors.map((m) => ({ cluster: m.cluster, percentage: m.percentage })),
    sampledMirrors: [...d.mirrors],
    destinations: d.action.clusters.map((c) => ({ cluster: c.cluster, weight: c.weight })),
  };
  const subset = parseClusterName(d.cluster)?.subset;
  const withSubset = subset ? { ...base, subset } : base;
  const cluster = table.clusters[d.cluster];
  if (!cluster) return { kind: 'local', code: 503, flags: 'NC', ...withSubset };
  if (cluster.type === 'eds' && cluster.endpoints.length === 0) return { kind: 'local', code: 503, flags: 'UH', ...withSubset };
  return { kind: 'forwarded', flags: '-', ...withSubset };
}
