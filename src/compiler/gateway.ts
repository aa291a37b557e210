/**
 * An ingress gateway's table: a listener per port that some Gateway selecting this proxy declares
 * (none otherwise, so the port refuses connections), and per port a route configuration whose
 * virtual hosts come from the VirtualServices bound to those Gateways (pilot's gateway.go).
 */
import type { KubeObject } from '../model/objects.js';
import type { GatewayServer, GatewaySpec, VirtualServiceSpec } from '../model/specs.js';
import type { Listener, Route, RouteConfiguration, VirtualHost } from '../model/table.js';
import { subsetMatch } from '../registry/registry.js';
import { ofKind, type ProxyNode, type Snapshot } from './snapshot.js';
import { buildVirtualServiceRoutes, vsGateways } from './virtual-service.js';

const HTTP_PROTOCOLS = new Set(['HTTP', 'HTTP2', 'GRPC']);

export interface GatewayServerBinding {
  gateway: string; // ns/name
  server: GatewayServer;
}

export function gatewaysForProxy(snapshot: Snapshot, node: ProxyNode): KubeObject[] {
  return ofKind(snapshot, 'Gateway').filter((g) => {
    const sel = (g.spec as unknown as GatewaySpec).selector;
    return sel !== undefined && Object.keys(sel).length > 0 && subsetMatch(sel, node.labels);
  });
}

/** `ns/host`, `./host`, `*\/host` -> the host part (namespace scoping of server hosts is not modelled). */
function serverHost(h: string): string {
  const i = h.indexOf('/');
  return i >= 0 ? h.slice(i + 1) : h;
}

function wildcardCovers(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) || host === pattern;
  return pattern === host;
}

/** The domains a VS host and a server host share (Istio's host intersection), or undefined. */
export function intersectHosts(vsHost: string, srvHost: string): string | undefined {
  const a = vsHost.toLowerCase();
  const b = srvHost.toLowerCase();
  if (wildcardCovers(b, a)) return a;
  if (wildcardCovers(a, b)) return b;
  return undefined;
}

export function buildGatewayTableParts(
  snapshot: Snapshot,
  node: ProxyNode,
): { listeners: Listener[]; routeConfigs: Record<string, RouteConfiguration> } {
  const byPort = new Map<number, GatewayServerBinding[]>();
  for (const gw of gatewaysForProxy(snapshot, node)) {
    const key = `${gw.metadata.namespace ?? 'default'}/${gw.metadata.name}`;
    for (const server of (gw.spec as unknown as GatewaySpec).servers ?? []) {
      if (!HTTP_PROTOCOLS.has(server.port.protocol.toUpperCase())) continue;
      const list = byPort.get(server.port.number) ?? [];
      list.push({ gateway: key, server });
      byPort.set(server.port.number, list);
    }
  }

  const listeners: Listener[] = [];
  const routeConfigs: Record<string, RouteConfiguration> = {};
  const virtualServices = ofKind(snapshot, 'VirtualService');
  for (const [port, bindings] of [...byPort].sort((a, b) => a[0] - b[0])) {
    const bind = snapshot.gatewayPorts(port);
    if (!bind) continue;
    const rcName = `http.${port}`;
    listeners.push({ name: `0.0.0.0_${port}`, direction: 'gateway', bindAddress: bind.address, bindPort: bind.port, port, routeConfig: rcName });
    // Domain -> routes, merged across VirtualServices in creation order (Istio merges gateway VSs).
    const routesByDomain = new Map<string, Route[]>();
    for (const { gateway, server } of bindings) {
      for (const vs of virtualServices) {
        if (!vsGateways(vs).includes(gateway)) continue;
        const routes = buildVirtualServiceRoutes(snapshot, vs, { kind: 'gateway', gateway }, port);
        for (const vsHost of (vs.spec as VirtualServiceSpec).hosts ?? []) {
          for (const sh of server.hosts) {
            const domain = intersectHosts(vsHost, serverHost(sh));
            if (!domain) continue;
            const list = routesByDomain.get(domain) ?? [];
            if (!list.some((r) => routes.includes(r))) list.push(...routes);
            routesByDomain.set(domain, list);
          }
        }
      }
    }
    const virtualHosts: VirtualHost[] = [...routesByDomain].map(([domain, routes]) => ({
      name: `${domain}:${port}`,
      domains: [domain, `${domain}:${port}`],
      routes,
    }));
    // No fallback: an authority without a virtual host gets 404 NR route_not_found.
    routeConfigs[rcName] = { name: rcName, virtualHosts };
  }
  return { listeners, routeConfigs };
}
