/**
 * The one entry point: (snapshot, proxy) -> ProxyTable. Pure; the version is a content hash so an
 * unchanged table is not pushed again.
 */
import { createHash } from 'node:crypto';
import { TABLE_SECTIONS, type Cluster, type NodeInfo, type ProxyTable, type RouteConfiguration, type TableSection } from '../model/table.js';
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

/** Each section's JSON, as it appears in the table's JSON (a delta push sends the changed ones). */
export type SerializedSections = Record<TableSection, string>;

export interface SerializedTable {
  table: ProxyTable;
  /** The whole table's JSON (built on first use: a delta push never needs it). */
  readonly json: string;
  sections: SerializedSections;
  /** A content hash per section, to tell which sections changed without comparing their text. */
  hashes: Record<TableSection, string>;
}

const sha = (text: string) => createHash('sha256').update(text).digest('base64');

/** Hashes of text shared by many tables of one push, computed once per distinct string. */
class SharedHashes {
  private readonly cache = new Map<string, string>();
  of(text: string): string {
    let h = this.cache.get(text);
    if (h === undefined) {
      h = sha(text);
      this.cache.set(text, h);
    }
    return h;
  }
}

/** Compiles every proxy of a push; the outbound clusters are shared, built once. */
export class PushCompiler {
  private readonly outboundClusters: Record<string, Cluster>;
  /**
   * Sidecars with the same namespace and labels (replicas of one Deployment) get the same
   * route configurations: built once per push.
   */
  private readonly routeConfigCache = new Map<string, { value: Record<string, RouteConfiguration>; json: string }>();
  private clustersInner: string | undefined;
  private hostsJson: string | undefined;
  private telemetryJson: string | undefined;
  private readonly shared = new SharedHashes();

  constructor(private readonly snapshot: Snapshot) {
    this.outboundClusters = buildClusters(snapshot);
  }

  compile(node: ProxyNode): ProxyTable {
    return this.compileSerialized(node).table;
  }

  private sidecarRouteConfigs(node: ProxyNode): { value: Record<string, RouteConfiguration>; json: string } {
    const key = `${node.namespace}\u0000${JSON.stringify(node.labels)}\u0000${node.inbound.map((i) => i.port).join(',')}`;
    let rc = this.routeConfigCache.get(key);
    if (!rc) {
      const value = buildSidecarRouteConfigs(this.snapshot, node);
      rc = { value, json: JSON.stringify(value) };
      this.routeConfigCache.set(key, rc);
    }
    return rc;
  }

  /** The outbound clusters' JSON without its braces, so per-proxy (inbound) clusters can be appended. */
  private get outboundClustersInner(): string {
    this.clustersInner ??= JSON.stringify(this.outboundClusters).slice(1, -1);
    return this.clustersInner;
  }

  /**
   * The table, its sections' JSON and their hashes. The shared parts (clusters, a workload's
   * route configurations) are serialized once per push and spliced in.
   */
  compileSerialized(node: ProxyNode): SerializedTable {
    const s = this.snapshot;
    const info = nodeInfo(node);
    let listeners: ProxyTable['listeners'];
    let routeConfigs: ProxyTable['routeConfigs'];
    let routeConfigsJson: string;
    let clusters: ProxyTable['clusters'];
    let clustersJson: string;
    let clustersHash: string;
    if (node.role === 'gateway') {
      const parts = buildGatewayTableParts(s, node);
      listeners = parts.listeners;
      routeConfigs = parts.routeConfigs;
      routeConfigsJson = JSON.stringify(routeConfigs);
      clusters = this.outboundClusters;
      clustersJson = `{${this.outboundClustersInner}}`;
      clustersHash = this.shared.of(this.outboundClustersInner);
    } else {
      listeners = buildSidecarListeners(node);
      const rc = this.sidecarRouteConfigs(node);
      routeConfigs = rc.value;
      routeConfigsJson = rc.json;
      const inbound = buildInboundClusters(node);
      clusters = { ...this.outboundClusters, ...inbound };
      const inboundInner = JSON.stringify(inbound).slice(1, -1);
      // Inbound cluster names never collide with outbound ones (`inbound|...` vs `outbound|...`).
      clustersJson = `{${[this.outboundClustersInner, inboundInner].filter(Boolean).join(',')}}`;
      clustersHash = sha(`${this.shared.of(this.outboundClustersInner)}|${inboundInner}`);
    }
    // The same for every proxy of the push: serialized once (and so hashed once, by identity).
    this.hostsJson ??= JSON.stringify(s.hosts);
    this.telemetryJson ??= JSON.stringify(s.telemetry);
    const sections: SerializedSections = {
      node: JSON.stringify(info),
      hosts: this.hostsJson,
      telemetry: this.telemetryJson,
      listeners: JSON.stringify(listeners),
      routeConfigs: routeConfigsJson,
      clusters: clustersJson,
    };
    // Shared text (the outbound clusters, a workload's route configurations, hosts) is hashed
    // once per push; per-proxy text is small. The version is a hash of the section hashes.
    const hashes: Record<TableSection, string> = {
      node: sha(sections.node),
      hosts: this.shared.of(sections.hosts),
      telemetry: this.shared.of(sections.telemetry),
      listeners: sha(sections.listeners),
      routeConfigs: this.shared.of(routeConfigsJson),
      clusters: clustersHash,
    };
    const version = createHash('sha256').update(TABLE_SECTIONS.map((k) => hashes[k]).join('|')).digest('hex').slice(0, 12);
    const table: ProxyTable = { version, node: info, hosts: s.hosts, telemetry: s.telemetry, listeners, routeConfigs, clusters };
    let json: string | undefined;
    return {
      table,
      get json() {
        json ??= `{"version":${JSON.stringify(version)},${TABLE_SECTIONS.map((k) => `"${k}":${sections[k]}`).join(',')}}`;
        return json;
      },
      sections,
      hashes,
    };
  }
}
