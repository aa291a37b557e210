/**
 * VirtualService http routes -> table routes, for one context (a sidecar or a gateway) and one
 * listener port. Mirrors pilot's `route.BuildHTTPRoutesForVirtualService`: one table route per
 * match entry (so each can carry `<route>.<match>` as its name), matches that do not apply to this
 * context (sourceLabels, sourceNamespace, gateways, port) are dropped, and a route whose every match
 * was dropped disappears rather than becoming a catch-all.
 */
import type { KubeObject } from '../model/objects.js';
import { outboundClusterName, resolveShortHost } from '../model/names.js';
import type { Destination, HTTPMatchRequest, HTTPRoute, VirtualServiceSpec } from '../model/specs.js';
import type { HeaderMatch, MirrorPolicy, Route, RouteMatch, WeightedCluster } from '../model/table.js';
import { parseGoDuration as parseDuration } from '../config/duration.js';
import { subsetMatch } from '../registry/registry.js';
import { convertRetryPolicy } from './retry.js';
import type { Snapshot } from './snapshot.js';

export type RouteContext =
  | { kind: 'sidecar'; namespace: string; labels: Record<string, string> }
  | { kind: 'gateway'; gateway: string /* `ns/name` */ };

/** The gateways a VirtualService binds to, as `ns/name` or `mesh`. */
export function vsGateways(vs: KubeObject): string[] {
  const spec = vs.spec as VirtualServiceSpec;
  const ns = vs.metadata.namespace ?? 'default';
  const list = spec.gateways && spec.gateways.length > 0 ? spec.gateways : ['mesh'];
  return list.map((g) => qualifyGateway(g, ns));
}

export function qualifyGateway(g: string, ns: string): string {
  if (g === 'mesh') return 'mesh';
  return g.includes('/') ? g : `${ns}/${g}`;
}

function contextGateway(ctx: RouteContext): string {
  return ctx.kind === 'sidecar' ? 'mesh' : ctx.gateway;
}

function matchApplies(m: HTTPMatchRequest, ctx: RouteContext, vsNs: string, port: number): boolean {
  if (m.port !== undefined && m.port !== port) return false;
  if (m.gateways && m.gateways.length > 0) {
    // A match-level `gateways` replaces the top-level list, and sourceLabels is not consulted.
    return m.gateways.map((g) => qualifyGateway(g, vsNs)).includes(contextGateway(ctx));
  }
  if (ctx.kind === 'sidecar') {
    if (m.sourceLabels && !subsetMatch(m.sourceLabels, ctx.labels)) return false;
    if (m.sourceNamespace && m.sourceNamespace !== ctx.namespace) return false;
  }
  return true;
}

function toRouteMatch(m: HTTPMatchRequest): RouteMatch {
  const out: RouteMatch = {};
  if (m.name) out.name = m.name;
  if (m.uri) out.uri = m.uri;
  if (m.ignoreUriCase) out.ignoreUriCase = true;
  if (m.scheme) out.scheme = m.scheme;
  if (m.method) out.method = m.method;
  if (m.authority) out.authority = m.authority;
  if (m.headers) out.headers = headerMatches(m.headers);
  if (m.withoutHeaders) out.withoutHeaders = headerMatches(m.withoutHeaders);
  if (m.queryParams) out.queryParams = m.queryParams;
  if (m.port !== undefined) out.port = m.port;
  return out;
}

function headerMatches(h: NonNullable<HTTPMatchRequest['headers']>): Record<string, HeaderMatch> {
  const out: Record<string, HeaderMatch> = {};
  for (const [name, match] of Object.entries(h)) {
    const isEmpty = !('exact' in match) && !('prefix' in match) && !('regex' in match);
    out[name.toLowerCase()] = isEmpty ? { present: true } : (match as HeaderMatch);
  }
  return out;
}

/** Cluster name for a destination, seen from a rule in `ns` on a listener of `listenerPort`. */
export function destinationCluster(snapshot: Snapshot, dest: Destination, ns: string, listenerPort: number): string {
  const host = resolveShortHost(dest.host, ns);
  let port = dest.port?.number;
  if (port === undefined) {
    const svc = snapshot.registry.byHost.get(host);
    port = svc && svc.ports.length === 1 ? svc.ports[0]!.port : listenerPort;
  }
  return outboundClusterName(port, dest.subset, host);
}

function percentage(value: number | undefined): number {
  return value === undefined ? 100 : Math.max(0, Math.min(100, value));
}

function toAction(snapshot: Snapshot, http: HTTPRoute, ns: string, port: number): Route['action'] {
  if (http.directResponse) {
    return {
      kind: 'direct',
      status: http.directResponse.status,
      body: http.directResponse.body?.string,
      details: 'direct_response',
      flags: '-',
    };
  }
  const dests = http.route ?? [];
  const clusters: WeightedCluster[] = dests.map((d) => ({
    cluster: destinationCluster(snapshot, d.destination, ns, port),
    // A lone destination gets everything whatever its weight (Istio >= 1.15).
    weight: dests.length === 1 ? 1 : (d.weight ?? 0),
  }));
  const mirrors: MirrorPolicy[] = [];
  if (http.mirror) {
    const pct = percentage(http.mirrorPercentage?.value);
    if (pct > 0) mirrors.push({ cluster: destinationCluster(snapshot, http.mirror, ns, port), percentage: pct });
  }
  for (const m of http.mirrors ?? []) {
    const pct = percentage(m.percentage?.value);
    if (pct > 0) mirrors.push({ cluster: destinationCluster(snapshot, m.destination, ns, port), percentage: pct });
  }
  const action: Route['action'] = { kind: 'route', clusters, mirrors };
  if (http.timeout !== undefined) {
    const ms = parseDuration(http.timeout);
    if (ms !== undefined && ms > 0) action.timeoutMs = ms;
  }
  const retryPolicy = convertRetryPolicy(http.retries);
  if (retryPolicy) action.retryPolicy = retryPolicy;
  if (http.rewrite?.uri !== undefined) action.rewriteUri = http.rewrite.uri;
  if (http.rewrite?.authority !== undefined) action.rewriteAuthority = http.rewrite.authority;
  if (http.headers?.request) action.requestHeaders = http.headers.request;
  if (http.headers?.response) action.responseHeaders = http.headers.response;
  return action;
}

export function buildVirtualServiceRoutes(snapshot: Snapshot, vs: KubeObject, ctx: RouteContext, port: number): Route[] {
  const spec = vs.spec as VirtualServiceSpec;
  const ns = vs.metadata.namespace ?? 'default';
  const routes: Route[] = [];
  for (const http of spec.http ?? []) {
    const action = toAction(snapshot, http, ns, port);
    const baseName = http.name ?? '';
    if (!http.match || http.match.length === 0) {
      routes.push({ name: baseName, matches: [], action });
      continue;
    }
    for (const m of http.match) {
      if (!matchApplies(m, ctx, ns, port)) continue;
      // The router appends `.<match name>` for the access log's route name.
      routes.push({ name: baseName, matches: [toRouteMatch(m)], action });
    }
  }
  return routes;
}
