/**
 * Outbound clusters: one per (service, port) plus one per DestinationRule subset, like pilot's CDS.
 * Shared by every proxy of a push, so they are built once per snapshot.
 */
import { outboundClusterName, resolveShortHost } from '../model/names.js';
import type { DestinationRuleSpec, LoadBalancerSettings } from '../model/specs.js';
import type { Cluster, LoadBalancer } from '../model/table.js';
import { subsetMatch, type RegistryService } from '../registry/registry.js';
import { ofKind, type Snapshot } from './snapshot.js';

export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';

/** Istio's default since 1.14. */
const DEFAULT_LB: LoadBalancer = 'LEAST_REQUEST';

function lbOf(settings: LoadBalancerSettings | undefined, fallback: LoadBalancer): LoadBalancer {
  switch (settings?.simple) {
    case 'ROUND_ROBIN':
      return 'ROUND_ROBIN';
    case 'RANDOM':
      return 'RANDOM';
    case 'PASSTHROUGH':
      return 'PASSTHROUGH';
    case 'LEAST_REQUEST':
    case 'LEAST_CONN':
      return 'LEAST_REQUEST';
    default:
      return fallback;
  }
}

/** The DestinationRule for each host: the oldest one wins, as in Istio (objects are creation-sorted). */
export function destinationRulesByHost(snapshot: Snapshot): Map<string, DestinationRuleSpec> {
  const out = new Map<string, DestinationRuleSpec>();
  for (const dr of ofKind(snapshot, 'DestinationRule')) {
    const spec = dr.spec as unknown as DestinationRuleSpec;
    const host = resolveShortHost(spec.host, dr.metadata.namespace ?? 'default');
    if (!out.has(host)) out.set(host, spec);
  }
  return out;
}

function clusterType(svc: RegistryService): Cluster['type'] {
  if (svc.source === 'serviceentry' && (svc.resolution === 'DNS' || svc.resolution === 'DNS_ROUND_ROBIN')) return 'dns';
  if (svc.source === 'serviceentry' && svc.resolution === 'NONE' && (svc.endpoints.values().next().value ?? []).length === 0) {
    return 'original_dst';
  }
  return 'eds';
}

export function buildClusters(snapshot: Snapshot): Record<string, Cluster> {
  const clusters: Record<string, Cluster> = {};
  const rules = destinationRulesByHost(snapshot);
  for (const svc of snapshot.registry.services) {
    const dr = rules.get(svc.hostname);
    const baseLb = lbOf(dr?.trafficPolicy?.loadBalancer, DEFAULT_LB);
    // `vip` only when the registry has one, so tables without VIPs serialize (and hash) as before.
    const service: NonNullable<Cluster['service']> = { fqdn: svc.hostname, name: svc.name, namespace: svc.namespace, ...(svc.vip ? { vip: svc.vip } : {}) };
    const type = clusterType(svc);
    for (const port of svc.ports) {
      const endpoints = svc.endpoints.get(port.port) ?? [];
      const name = outboundClusterName(port.port, undefined, svc.hostname);
      clusters[name] = { name, type, lb: baseLb, endpoints, service, port: port.port };
      for (const subset of dr?.subsets ?? []) {
        const sname = outboundClusterName(port.port, subset.name, svc.hostname);
        clusters[sname] = {
          name: sname,
          type,
          lb: lbOf(subset.trafficPolicy?.loadBalancer, baseLb),
          endpoints: endpoints.filter((e) => subsetMatch(subset.labels, e.labels)),
          service,
          subset: subset.name,
          port: port.port,
        };
      }
    }
  }
  clusters[PASSTHROUGH_CLUSTER] = { name: PASSTHROUGH_CLUSTER, type: 'original_dst', lb: 'PASSTHROUGH', endpoints: [] };
  clusters[BLACKHOLE_CLUSTER] = { name: BLACKHOLE_CLUSTER, type: 'eds', lb: 'ROUND_ROBIN', endpoints: [] };
  return clusters;
}
