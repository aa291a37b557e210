/**
 * A sidecar's table: inbound listeners that hand requests to the app, and one outbound listener
 * (the app's HTTP proxy, or where iptables capture sends the app's connections: `capture`) whose
 * route configuration is chosen by the destination port, with a
 * virtual host per registry service on that port (pilot's `BuildSidecarOutboundVirtualHosts`).
 */
import { OUTBOUND_CAPTURE_PORT } from '../capture/original-port.js';
import type { KubeObject } from '../model/objects.js';
import { CLUSTER_DOMAIN, inboundClusterName, outboundClusterName, resolveShortHost } from '../model/names.js';
import type { SidecarSpec, VirtualServiceSpec } from '../model/specs.js';
import type { Cluster, Listener, Route, RouteConfiguration, VirtualHost } from '../model/table.js';
import { subsetMatch, type RegistryService } from '../registry/registry.js';
import { PASSTHROUGH_CLUSTER } from './clusters.js';
import { ofKind, type ProxyNode, type Snapshot } from './snapshot.js';
import { defaultRetryPolicy } from './retry.js';
import { buildVirtualServiceRoutes, vsGateways } from './virtual-service.js';

export const OUTBOUND_LISTENER = 'virtualOutbound';

/** Names a client in `clientNs` may use for a service, as Kubernetes DNS search paths allow. */
export function serviceDomains(svc: RegistryService, port: number, clientNs: string): string[] {
  const names: string[] = [];
  if (svc.source === 'kubernetes') {
    if (svc.namespace === clientNs) names.push(svc.name);
    names.push(`${svc.name}.${svc.namespace}`, `${svc.name}.${svc.namespace}.svc`, svc.hostname);
  } else {
    names.push(svc.hostname);
  }
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

function isHttp(protocol: string): boolean {
  return protocol === 'HTTP' || protocol === 'HTTP2' || protocol === 'GRPC';
}

/** Sidecar resource's outboundTrafficPolicy overrides the mesh default for the workloads it selects. */
export function outboundPolicyFor(snapshot: Snapshot, node: ProxyNode): 'ALLOW_ANY' | 'REGISTRY_ONLY' {
  const sidecars = ofKind(snapshot, 'Sidecar').filter((s) => (s.metadata.namespace ?? 'default') === node.namespace);
  const specific = sidecars.find((s) => {
    const sel = (s.spec as SidecarSpec).workloadSelector?.labels;
    return sel && Object.keys(sel).length > 0 && subsetMatch(sel, node.labels);
  });
  const namespaceWide = sidecars.find((s) => !(s.spec as SidecarSpec).workloadSelector?.labels);
  const chosen = specific ?? namespaceWide;
  return (chosen?.spec as SidecarSpec | undefined)?.outboundTrafficPolicy?.mode ?? snapshot.mesh.outboundTrafficPolicy.mode;
}

export function fallbackRoute(mode: 'ALLOW_ANY' | 'REGISTRY_ONLY'): Route {
  if (mode === 'ALLOW_ANY') {
    return { name: 'allow_any', matches: [], action: { kind: 'route', clusters: [{ cluster: PASSTHROUGH_CLUSTER, weight: 1 }], mirrors: [] } };
  }
  // Envoy's block_all is a direct response: no cluster is logged (`-`), flag `-`.
  return {
    name: 'block_all',
    matches: [],
    action: { kind: 'direct', status: 502, details: 'direct_response', flags: '-', logCluster: undefined },
  };
}

/** Mesh VirtualServices visible to this sidecar, keyed by the FQDN/host they claim (oldest wins). */
function meshVirtualServices(snapshot: Snapshot): Map<string, KubeObject> {
  const byHost = new Map<string, KubeObject>();
  for (const vs of ofKind(snapshot, 'VirtualService')) {
    if (!vsGateways(vs).includes('mesh')) continue;
    const ns = vs.metadata.namespace ?? 'default';
    for (const h of (vs.spec as VirtualServiceSpec).hosts ?? []) {
      const host = resolveShortHost(h, ns);
      if (!byHost.has(host)) byHost.set(host, vs);
    }
  }
  return byHost;
}

export function buildSidecarRouteConfigs(snapshot: Snapshot, node: ProxyNode): Record<string, RouteConfiguration> {
  const ctx = { kind: 'sidecar' as const, namespace: node.namespace, labels: node.labels };
  const vsByHost = meshVirtualServices(snapshot);
  const mode = outboundPolicyFor(snapshot, node);
  const byPort = new Map<number, VirtualHost[]>();
  const claimedHosts = new Set<string>();
  const add = (port: number, vh: VirtualHost) => {
    const list = byPort.get(port) ?? [];
    list.push(vh);
    byPort.set(port, list);
  };

  for (const svc of snapshot.registry.services) {
    for (const p of svc.ports) {
      if (!isHttp(p.protocol)) continue;
      const vs = vsByHost.get(svc.hostname);
      let routes: Route[];
      if (vs) {
        claimedHosts.add(svc.hostname);
        routes = buildVirtualServiceRoutes(snapshot, vs, ctx, p.port);
      } else {
        const cluster = outboundClusterName(p.port, undefined, svc.hostname);
        // Istio's BuildDefaultHTTPOutboundRoute: the default retry policy, no timeout.
        routes = [{ name: 'default', matches: [], action: { kind: 'route', clusters: [{ cluster, weight: 1 }], mirrors: [], retryPolicy: defaultRetryPolicy() } }];
      }
      add(p.port, { name: `${svc.hostname}:${p.port}`, domains: serviceDomains(svc, p.port, node.namespace), routes });
    }
  }

  // VirtualService hosts that are not registry services still get a virtual host (Istio builds one
  // on the HTTP ports the VS routes use); the lab puts them on port 80.
  for (const [host, vs] of vsByHost) {
    if (snapshot.registry.byHost.has(host) || claimedHosts.has(host) || host.startsWith(`*`)) continue;
    if (host.endsWith(`.${CLUSTER_DOMAIN}`)) continue;
    add(80, { name: `${host}:80`, domains: [host, `${host}:80`], routes: buildVirtualServiceRoutes(snapshot, vs, ctx, 80) });
  }

  const configs: Record<string, RouteConfiguration> = {};
  for (const [port, virtualHosts] of byPort) {
    configs[String(port)] = { name: String(port), virtualHosts, fallback: fallbackRoute(mode) };
  }
  // Ports no service uses still need a route configuration for passthrough/blocking.
  configs['*'] = { name: '*', virtualHosts: [], fallback: fallbackRoute(mode) };
  for (const inb of node.inbound) {
    const name = `inbound|${inb.port}`;
    configs[name] = {
      name,
      virtualHosts: [
        {
          name: `inbound|http|${inb.port}`,
          domains: ['*'],
          routes: [{ name: 'default', matches: [], action: { kind: 'route', clusters: [{ cluster: inboundClusterName(inb.port), weight: 1 }], mirrors: [] } }],
        },
      ],
    };
  }
  return configs;
}

export function buildSidecarListeners(node: ProxyNode): Listener[] {
  const listeners: Listener[] = node.inbound.map((inb) => ({
    name: `virtualInbound:${inb.port}`,
    direction: 'inbound',
    bindAddress: inb.bindAddress,
    bindPort: inb.bindPort,
    port: inb.port,
    routeConfig: `inbound|${inb.port}`,
    // Only when set: tables of the local runtime serialize (and hash) as before.
    ...(inb.capture ? { capture: 'iptables' as const } : {}),
  }));
  if (node.outbound) {
    listeners.push({
      name: OUTBOUND_LISTENER,
      direction: 'outbound',
      bindAddress: node.outbound.bindAddress,
      bindPort: node.outbound.bindPort,
      port: OUTBOUND_CAPTURE_PORT,
      routeConfig: '*',
      ...(node.outbound.capture ? { capture: 'iptables' as const } : {}),
    });
  }
  return listeners;
}

export function buildInboundClusters(node: ProxyNode): Record<string, Cluster> {
  const out: Record<string, Cluster> = {};
  for (const inb of node.inbound) {
    const name = inboundClusterName(inb.port);
    out[name] = { name, type: 'eds', lb: 'ROUND_ROBIN', endpoints: [{ address: inb.appAddress, port: inb.appPort, pod: node.pod }], port: inb.port };
  }
  return out;
}

