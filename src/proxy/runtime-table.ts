/**
 * A pushed ProxyTable, hydrated once into what the request path reads: compiled route
 * configurations and a balancer per cluster. The proxy holds one reference and swaps it whole.
 */
import type { Cluster, Listener, ProxyTable, TableSection } from '../model/table.js';
import { compileRouteConfig, type CompiledRouteConfig } from '../router/compile.js';
import { createBalancer, type Balancer } from '../router/load-balancer.js';
import type { Random } from '../router/random.js';
import { encodePeer } from './peer-metadata.js';

export interface RuntimeCluster {
  cluster: Cluster;
  balancer: Balancer;
}

export interface RuntimeTable {
  readonly version: string;
  readonly table: ProxyTable;
  readonly routeConfigs: ReadonlyMap<string, CompiledRouteConfig>;
  readonly clusters: ReadonlyMap<string, RuntimeCluster>;
  readonly listenersByName: ReadonlyMap<string, Listener>;
  /** This node's identity as sent in x-envoy-peer-metadata, encoded once. */
  readonly peerHeader: string;
}

/**
 * Builds what the request path reads. With `previous` (a delta push), the sections not in
 * `changed` are taken from it as they are: unchanged clusters keep their balancers (round-robin
 * position included, as Envoy keeps a cluster across an RDS-only update).
 */
export function hydrate(table: ProxyTable, rng: Random, previous?: RuntimeTable, changed?: ReadonlySet<TableSection>): RuntimeTable {
  const reuse = (section: TableSection) => previous !== undefined && changed !== undefined && !changed.has(section);
  let routeConfigs = previous?.routeConfigs;
  if (!reuse('routeConfigs')) {
    const m = new Map<string, CompiledRouteConfig>();
    for (const [name, rc] of Object.entries(table.routeConfigs)) m.set(name, compileRouteConfig(rc));
    routeConfigs = m;
  }
  let clusters = previous?.clusters;
  if (!reuse('clusters')) {
    const m = new Map<string, RuntimeCluster>();
    for (const [name, cluster] of Object.entries(table.clusters)) m.set(name, { cluster, balancer: createBalancer(cluster, rng) });
    clusters = m;
  }
  const listenersByName = reuse('listeners') ? previous!.listenersByName : new Map(table.listeners.map((l) => [l.name, l] as const));
  const peerHeader = reuse('node') ? previous!.peerHeader : encodePeer(table.node);
  return Object.freeze({ version: table.version, table, routeConfigs: routeConfigs!, clusters: clusters!, listenersByName, peerHeader });
}
