/**
 * Small builders for RouteConfiguration literals, so routing cases read as data.
 */
import type {
  MirrorPolicy,
  Route,
  RouteConfiguration,
  RouteMatch,
  VirtualHost,
  WeightedCluster,
} from '../../../src/model/table.js';
import type { RouteRequest } from '../../../src/router/request.js';

export function forward(
  name: string,
  matches: RouteMatch[],
  clusters: string | WeightedCluster[],
  extra: { mirrors?: MirrorPolicy[]; rewriteUri?: string } = {},
): Route {
  return {
    name,
    matches,
    action: {
      kind: 'route',
      clusters: typeof clusters === 'string' ? [{ cluster: clusters, weight: 100 }] : clusters,
      mirrors: extra.mirrors ?? [],
      ...(extra.rewriteUri !== undefined ? { rewriteUri: extra.rewriteUri } : {}),
    },
  };
}

export function direct(name: string, matches: RouteMatch[], status: number, body?: string): Route {
  return {
    name,
    matches,
    action: { kind: 'direct', status, body, details: 'direct_response', flags: '-' },
  };
}

export function vhost(name: string, domains: string[], routes: Route[]): VirtualHost {
  return { name, domains, routes };
}

export function config(virtualHosts: VirtualHost[], fallback?: Route): RouteConfiguration {
  return { name: '80', virtualHosts, ...(fallback ? { fallback } : {}) };
}

export function request(overrides: Partial<RouteRequest> = {}): RouteRequest {
  return {
    authority: 'catalog:80',
    path: '/',
    method: 'GET',
    scheme: 'http',
    headers: {},
    port: 80,
    ...overrides,
  };
}

/** Istio's sidecar domains for a Service: short, namespaced and FQDN forms, each with and without port. */
export function sidecarDomains(name: string, namespace: string, port: number): string[] {
  const forms = [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
  return forms.flatMap((f) => [f, `${f}:${port}`]);
}

/** `allow_any` / `block_all` as an Istio sidecar's outbound route configuration has them. */
export const ALLOW_ANY: Route = forward('allow_any', [], 'PassthroughCluster');
export const BLOCK_ALL: Route = {
  name: 'block_all',
  matches: [],
  action: {
    kind: 'direct',
    status: 502,
    details: 'direct_response',
    flags: '-',
    logCluster: 'BlackHoleCluster',
  },
};
