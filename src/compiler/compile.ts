/**
 * The one entry point: (snapshot, proxy) -> ProxyTable. Pure; the version is a content hash so an
 * unchanged table is not pushed again.
 */
import { createHash } from 'node:crypto';
import type { Cluster, NodeInfo, ProxyTable } from '../model/table.js';
import { buildClusters } from './clusters.js';
import { buildGatewayTableParts } from './gateway.js';
import { buildInboundClusters, buildSidecarListeners, buildSidecarRouteConfigs } from './sidecar.js';
import type { ProxyNode, Snapshot } from './snapshot.js';

export function nodeInfo(node: ProxyNode): NodeInfo {
  const role = node.role === 'gateway' ? 'router' : 'sidecar';
  return {
    id: `${role}~${node.ip}~${node.pod}.${node.namespace}~${node.namespace}.svc.cluster.local`,
    role: node.role,
    pod: node.pod,
    namespace: node.namespace,
    ip: node.ip,
    labels: node.labels,
    workload: node.workload,
  };
}

/** Compiles every proxy of a push; the outbound clusters are shared, built once. */
export class PushCompiler {
  private readonly outboundClusters: Record<string, Cluster>;

  constructor(private readonly snapshot: Snapshot) {
    this.outboundClusters = buildClusters(snapshot);
  }

  compile(node: ProxyNode): ProxyTable {
    return this.compileSerialized(node).table;
  }

  /** The table and its JSON, serialized once: the push sends the same bytes it hashed. */
  compileSerialized(node: ProxyNode): { table: ProxyTable; json: string } {
    const s = this.snapshot;
    let body: Omit<ProxyTable, 'version'>;
    const base = { node: nodeInfo(node), hosts: s.hosts, telemetry: s.telemetry };
    if (node.role === 'gateway') {
      const { listeners, routeConfigs } = buildGatewayTableParts(s, node);
      body = { ...base, listeners, routeConfigs, clusters: this.outboundClusters };
    } else {
      body = {
        ...base,
        listeners: buildSidecarListeners(node),
        routeConfigs: buildSidecarRouteConfigs(s, node),
        clusters: { ...this.outboundClusters, ...buildInboundClusters(node) },
      };
    }
    const bodyJson = JSON.stringify(body);
    const version = createHash('sha256').update(bodyJson).digest('hex').slice(0, 12);
    // `{"version":...,` + the body's fields: the same object as `{ version, ...body }`, without a second stringify.
    const json = `{"version":${JSON.stringify(version)},${bodyJson.slice(1)}`;
    return { table: { version, ...body }, json };
  }
}

export function compileProxyTable(snapshot: Snapshot, node: ProxyNode): ProxyTable {
  return new PushCompiler(snapshot).compile(node);
}
