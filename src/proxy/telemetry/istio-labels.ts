/**
 * The label set of Istio's standard request metrics (istio.io "Istio Standard Metrics"), and how a
 * proxy derives it from the two peers and the cluster it routed to. Building labels is the
 * cold path (once per distinct peer/cluster/response); the registry caches by label set.
 */

import type { Cluster, NodeInfo } from '../../model/table.js';

export interface IstioRequestLabels {
  /** `source` on client sidecars and gateways, `destination` on server sidecars. */
  reporter: string;
  source_workload: string;
  source_workload_namespace: string;
  source_app: string;
  source_version: string;
  source_canonical_service: string;
  source_canonical_revision: string;
  destination_workload: string;
  destination_workload_namespace: string;
  destination_app: string;
  destination_version: string;
  /** The service FQDN (or the requested host for Passthrough/BlackHole traffic). */
  destination_service: string;
  destination_service_name: string;
  destination_service_namespace: string;
  destination_canonical_service: string;
  destination_canonical_revision: string;
  request_protocol: string;
  response_code: string;
  /** `-` when none. */
  response_flags: string;
  connection_security_policy: string;
}

/** Exposition order: the order of Istio's reference documentation. */
export const ISTIO_LABEL_NAMES: readonly (keyof IstioRequestLabels)[] = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_app',
  'source_version',
  'source_canonical_service',
  'source_canonical_revision',
  'destination_workload',
  'destination_workload_namespace',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_canonical_service',
  'destination_canonical_revision',
  'request_protocol',
  'response_code',
  'response_flags',
  'connection_security_policy',
];

/** Everything but the response: fixed per (peer, cluster), so a proxy can build it once and keep it. */
export type IstioBaseLabels = Readonly<Omit<IstioRequestLabels, 'response_code' | 'response_flags'>>;

/** A workload at one end of a request, as the peer metadata exchange would describe it. */
export interface PeerInfo {
  workload: string;
  namespace: string;
  labels: Record<string, string>;
}

export const UNKNOWN = 'unknown';

/** Clusters Istio names in `destination_service_name` because they have no service behind them. */
const NAMED_CATCH_ALL_CLUSTERS = new Set(['PassthroughCluster', 'BlackHoleCluster']);

export function peerFromNode(node: NodeInfo): PeerInfo {
  return { workload: node.workload, namespace: node.namespace, labels: node.labels };
}

/** `service.istio.io/canonical-name`, else `app`, else the workload name (Istio's injector rule). */
export function canonicalService(peer: PeerInfo): string {
  return peer.labels['service.istio.io/canonical-name'] ?? peer.labels['app'] ?? peer.workload;
}

/** `service.istio.io/canonical-revision`, else `version`, else `latest`. */
export function canonicalRevision(peer: PeerInfo): string {
  return peer.labels['service.istio.io/canonical-revision'] ?? peer.labels['version'] ?? 'latest';
}

export interface BaseLabelInput {
  reporter: 'source' | 'destination';
  /** Undefined when the peer is unknown (e.g. a client outside the mesh): every field is `unknown`. */
  source?: PeerInfo;
  destination?: PeerInfo;
  /** The cluster the request was routed to (`service` metadata, or a catch-all cluster's name). */
  cluster?: Pick<Cluster, 'name' | 'service'>;
  /** The request's authority; names the destination service when the cluster has no service. */
  authority?: string;
  /** `http` unless told otherwise (Istio also uses `grpc`, `tcp`). */
  requestProtocol?: string;
  /** Default: `unknown` as reported by the client side, `none` (no mTLS in the lab) on the server side. */
  connectionSecurityPolicy?: string;
}

function hostOf(authority: string): string {
  // Strip a port but keep bracketed IPv6 literals intact.
  const colon = authority.lastIndexOf(':');
  return colon > authority.lastIndexOf(']') ? authority.slice(0, colon) : authority;
}

/** Frozen: the metrics registry caches series by this object's identity. */
export function istioBaseLabels(input: BaseLabelInput): IstioBaseLabels {
  const { source, destination, cluster } = input;
  const service = cluster?.service;
  const host = input.authority ? hostOf(input.authority) : undefined;
  const catchAll = cluster && NAMED_CATCH_ALL_CLUSTERS.has(cluster.name) ? cluster.name : undefined;
  return Object.freeze({
    reporter: input.reporter,
    source_workload: source?.workload ?? UNKNOWN,
    source_workload_namespace: source?.namespace ?? UNKNOWN,
    source_app: source?.labels['app'] ?? UNKNOWN,
    source_version: source?.labels['version'] ?? UNKNOWN,
    source_canonical_service: source ? canonicalService(source) : UNKNOWN,
    source_canonical_revision: source ? canonicalRevision(source) : UNKNOWN,
    destination_workload: destination?.workload ?? UNKNOWN,
    destination_workload_namespace: destination?.namespace ?? UNKNOWN,
    destination_app: destination?.labels['app'] ?? UNKNOWN,
    destination_version: destination?.labels['version'] ?? UNKNOWN,
    destination_service: service?.fqdn ?? host ?? UNKNOWN,
    destination_service_name: service?.name ?? catchAll ?? host ?? UNKNOWN,
    destination_service_namespace: service?.namespace ?? UNKNOWN,
    destination_canonical_service: destination ? canonicalService(destination) : UNKNOWN,
    destination_canonical_revision: destination ? canonicalRevision(destination) : UNKNOWN,
    request_protocol: input.requestProtocol ?? 'http',
    connection_security_policy:
      input.connectionSecurityPolicy ?? (input.reporter === 'destination' ? 'none' : UNKNOWN),
  });
}

/** Full labels for one response (allocates; the registry's `seriesFor` avoids this on the hot path). */
export function istioRequestLabels(
  base: IstioBaseLabels,
  responseCode: number,
  responseFlags: string,
): IstioRequestLabels {
  return {
    ...base,
    response_code: String(responseCode),
    response_flags: responseFlags === '' ? '-' : responseFlags,
  };
}
