/**
 * Istio's metadata exchange for plaintext HTTP: the client sidecar sends its identity in
 * `x-envoy-peer-metadata(-id)` headers and the server sidecar strips them, so both ends can label
 * metrics with the other side's workload. The lab's encoding is base64 JSON rather than protobuf.
 * `x-lab-requested-server-name` stands in for the mTLS SNI Istio would send (logged by the server
 * side as %REQUESTED_SERVER_NAME%).
 */
import type { NodeInfo } from '../model/table.js';

export const PEER_METADATA = 'x-envoy-peer-metadata';
export const PEER_METADATA_ID = 'x-envoy-peer-metadata-id';
export const REQUESTED_SERVER_NAME = 'x-lab-requested-server-name';

export interface PeerInfo {
  workload: string;
  namespace: string;
  labels: Record<string, string>;
}

export function encodePeer(node: NodeInfo): string {
  const peer: PeerInfo = { workload: node.workload, namespace: node.namespace, labels: node.labels };
  return Buffer.from(JSON.stringify(peer)).toString('base64');
}

const cache = new Map<string, PeerInfo | undefined>();

export function decodePeer(value: string | string[] | undefined): PeerInfo | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  if (cache.has(value)) return cache.get(value);
  let peer: PeerInfo | undefined;
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as Partial<Record<keyof PeerInfo, unknown>>;
    // Any client can send this header: only string labels are kept (a `null` here used to throw
    // in the metrics code at the end of the exchange and leave the connection stuck).
    if (typeof parsed.workload === 'string' && typeof parsed.namespace === 'string') {
      peer = { workload: parsed.workload, namespace: parsed.namespace, labels: stringLabels(parsed.labels) };
    }
  } catch {
    peer = undefined;
  }
  // Few distinct peers exist in a lab; the bound only guards against a client sending junk.
  if (cache.size > 1000) cache.clear();
  cache.set(value, peer);
  return peer;
}

function stringLabels(v: unknown): Record<string, string> {
  const labels: Record<string, string> = {};
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) if (typeof x === 'string') labels[k] = x;
  }
  return labels;
}
