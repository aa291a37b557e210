/**
 * A pushed ProxyTable, hydrated once into what the request path reads: compiled route
 * configurations and a balancer per cluster. The proxy holds one reference and swaps it whole.
 */
import type { Cluster, Listener, ProxyTable } from '../model/table.js';
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

export function hydrate(table: ProxyTable, rng: Random): RuntimeTable {
  const routeConfigs = new Map<string, CompiledRouteConfig>();
  for (const [name, rc] of Object.entries(table.routeConfigs)) routeConfigs.set(name, compileRouteConfig(rc));
  const clusters = new Map<string, RuntimeCluster>();
  for (const [name, cluster] of Object.entries(table.clusters)) clusters.set(name, { cluster, balancer: createBalancer(cluster, rng) });
  const listenersByName = new Map(table.listeners.map((l) => [l.name, l] as const));
  return Object.freeze({ version: table.version, table, routeConfigs, clusters, listenersByName, peerHeader: encodePeer(table.node) });
}
