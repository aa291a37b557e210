/**
 * The compiled, per-proxy routing table: what the control plane pushes and the proxy reads.
 *
 * Named after Envoy's chain (listener -> route configuration -> virtual host -> route -> cluster
 * -> endpoints) so anyone who knows Envoy can read it. Everything here is plain JSON: the compiler
 * produces it, the control plane sends it, and the proxy "hydrates" it once per push into frozen
 * lookup structures (maps, compiled regexes) that the request path only reads.
 */

/** Istio's StringMatch: exactly one of the three is set. Regex is matched against the WHOLE value. */
export type StringMatch = { exact: string } | { prefix: string } | { regex: string };

/** `{}` in a header match means "the header is present" (Istio semantics). */
export type HeaderMatch = StringMatch | { present: true };

export interface RouteMatch {
  /** VirtualService `match[].name`, used for the route name `<route>.<match>` in logs. */
  name?: string;
  uri?: StringMatch;
  /** Only affects exact/prefix uri matching. */
  ignoreUriCase?: boolean;
  scheme?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  /** Keys are lowercase header names. */
  headers?: Record<string, HeaderMatch>;
  /** The route applies when the header does NOT match (a missing header counts as not matching). */
  withoutHeaders?: Record<string, HeaderMatch>;
  queryParams?: Record<string, StringMatch>;
  /** Limits the match to one listener port (the service/gateway port, not the bind port). */
  port?: number;
}

export interface WeightedCluster {
  cluster: string;
  /** Relative weight (Istio >= 1.15): a destination gets weight / sum. */
  weight: number;
}

export interface MirrorPolicy {
  cluster: string;
  /** 0..100, may be fractional. */
  percentage: number;
}

export interface HeaderOperations {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}

/**
 * Envoy's route retry policy as Istio builds it (pilot's `retry.DefaultPolicy`/`ConvertPolicy`).
 * A route without one is never retried (Envoy: no retry state): inbound routes, `allow_any`, and
 * VirtualService routes with `retries.attempts: 0`.
 */
export interface RetryPolicy {
  /** `num_retries`: attempts after the first one (Istio's `retries.attempts`, default 2). */
  numRetries: number;
  /**
   * `retry_on` conditions: `5xx`, `gateway-error`, `reset`, `connect-failure`, `retriable-4xx`,
   * `refused-stream`, `retriable-status-codes`, `cancelled`, `deadline-exceeded`, `internal`,
   * `resource-exhausted`, `unavailable`. Others are kept and never match.
   */
  retryOn: string[];
  /** With `retriable-status-codes`: the statuses retried (Istio's default `[503]`). */
  retriableStatusCodes: number[];
  /** `per_try_timeout` in ms; absent = each attempt is bounded only by the route timeout. */
  perTryTimeoutMs?: number;
  /** `retry_back_off.base_interval` in ms; absent = Envoy's 25 ms (max interval 10x). */
  backoffBaseMs?: number;
  /** `retry_host_predicate: previous_hosts`: a retry avoids hosts already tried. */
  previousHosts: boolean;
  /** `host_selection_retry_max_attempts`: picks redrawn at most this often to avoid them. */
  hostSelectionRetryMaxAttempts: number;
}

export type RouteAction =
  | {
      kind: 'route';
      clusters: WeightedCluster[];
      mirrors: MirrorPolicy[];
      /** Request timeout in ms; undefined = none (Istio's default for HTTP routes). */
      timeoutMs?: number;
      /** Absent: no retries. */
      retryPolicy?: RetryPolicy;
      /** `rewrite.uri` replaces the matched prefix (or whole path for exact/regex matches). */
      rewriteUri?: string;
      rewriteAuthority?: string;
      requestHeaders?: HeaderOperations;
      responseHeaders?: HeaderOperations;
    }
  | {
      /** A response the proxy makes itself (Envoy's direct_response), e.g. `block_all`'s 502. */
      kind: 'direct';
      status: number;
      body?: string;
      /** Value for %RESPONSE_CODE_DETAILS%, e.g. `direct_response`. */
      details: string;
      /** Value for %RESPONSE_FLAGS%, `-` for a configured direct response. */
      flags: string;
      /** %UPSTREAM_CLUSTER% to log, e.g. `BlackHoleCluster`. */
      logCluster?: string;
    };

export interface Route {
  /** %ROUTE_NAME%: the VS http route's name (plus `.matchName`), `default`, `allow_any`, `block_all`. */
  name: string;
  /** ORed; the conditions inside one entry are ANDed. Empty = matches everything. */
  matches: RouteMatch[];
  action: RouteAction;
}

export interface VirtualHost {
  /** e.g. `catalog.istioinaction.svc.cluster.local:80`. */
  name: string;
  /**
   * Authorities this virtual host answers: exact names (`catalog`, `catalog:80`, ...) or wildcards
   * (`*.example.com`, `*`). Matched case-insensitively.
   */
  domains: string[];
  /** In order; the first route whose match succeeds wins. */
  routes: Route[];
}

export interface RouteConfiguration {
  name: string;
  virtualHosts: VirtualHost[];
  /**
   * What to do when no virtual host matches the authority. Sidecar outbound tables use it for
   * ALLOW_ANY (passthrough) / REGISTRY_ONLY (block_all); gateways leave it unset (404 NR).
   */
  fallback?: Route;
}

export type LoadBalancer = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'PASSTHROUGH';

export interface Endpoint {
  address: string;
  port: number;
  /** The pod behind it, when there is one (used in logs and metrics). */
  pod?: string;
  /** The pod's workload (its Deployment), for metrics' destination_workload. */
  workload?: string;
  namespace?: string;
  labels?: Record<string, string>;
}

export interface Cluster {
  /** `outbound|80|version-v1|catalog.istioinaction.svc.cluster.local`, `inbound|3000||`, ... */
  name: string;
  /**
   * `eds`: pick one of `endpoints`; `original_dst`: the address the app asked for (PassthroughCluster);
   * `dns`: endpoints resolved by host name through the lab's resolver.
   */
  type: 'eds' | 'original_dst' | 'dns';
  lb: LoadBalancer;
  endpoints: Endpoint[];
  /**
   * Metadata for metrics labels (destination_service etc.). `vip` is the Service's virtual IP
   * (`spec.clusterIP`) where the runtime has one (Docker); absent otherwise. Captured listeners log
   * it as the original destination.
   */
  service?: { fqdn: string; name: string; namespace: string; vip?: string };
  subset?: string;
  port?: number;
}

export interface Listener {
  /** e.g. `virtualInbound:3000`, `virtualOutbound`, `0.0.0.0_80`. */
  name: string;
  direction: 'inbound' | 'outbound' | 'gateway';
  /** Address and port the proxy binds. */
  bindAddress: string;
  bindPort: number;
  /** The logical port (service port for outbound, container port for inbound, Gateway server port). */
  port: number;
  /**
   * Name of the RouteConfiguration to use. Outbound listeners choose the route configuration by the
   * request's destination port (`routeConfigs[String(port)]`), like Envoy's per-port RDS names.
   */
  routeConfig: string;
  /**
   * Set on listeners that receive connections redirected by the pod's iptables rules instead of
   * connections an app addressed to the proxy (absent otherwise). Outbound: the original destination
   * port is decoded from the local address the connection arrived at (127.1.hi.lo, see
   * src/capture/original-port.ts). Inbound: bound on 15100+i, logged as `<pod ip>:<port>`.
   */
  capture?: 'iptables';
}

export interface NodeInfo {
  /** `sidecar~127.20.1.5~catalog-6c89984555-rmmmm.istioinaction~istioinaction.svc.cluster.local` */
  id: string;
  role: 'sidecar' | 'gateway';
  pod: string;
  namespace: string;
  ip: string;
  labels: Record<string, string>;
  /** Workload name (the Deployment) for metrics labels. */
  workload: string;
}

export interface OutboundPolicy {
  mode: 'ALLOW_ANY' | 'REGISTRY_ONLY';
}

export interface ProxyTable {
  /** Content hash of everything below; the proxy reports the version it serves. */
  version: string;
  node: NodeInfo;
  listeners: Listener[];
  routeConfigs: Record<string, RouteConfiguration>;
  clusters: Record<string, Cluster>;
  /**
   * The lab's DNS for hosts outside the registry that should be reachable (the external stand-in):
   * `jsonplaceholder.typicode.com:80` -> `127.x.y.z:port`.
   */
  hosts: Record<string, { address: string; port: number }>;
  telemetry: { accessLog: boolean; metrics: boolean };
}

/** The top-level parts of a table; a delta push carries only those that changed. */
export const TABLE_SECTIONS = ['node', 'hosts', 'telemetry', 'listeners', 'routeConfigs', 'clusters'] as const;
export type TableSection = (typeof TABLE_SECTIONS)[number];

/**
 * An incremental push, like xDS's per-resource-type updates (a VirtualService change is an RDS
 * push; CDS and LDS are not resent): the sections that differ from the table at version `base`.
 * A proxy serving another version refuses it, and the control plane sends the whole table.
 */
export type ProxyTableDelta = { version: string; base: string } & Partial<Omit<ProxyTable, 'version'>>;
