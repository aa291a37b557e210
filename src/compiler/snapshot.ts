import type { KubeObject } from '../model/objects.js';
import type { MeshConfig } from '../model/specs.js';
import { buildRegistry, type Registry } from '../registry/registry.js';

/** Where a gateway's server port is bound on the host (the istio-ingressgateway Service's port map). */
export type GatewayPortMapper = (serverPort: number) => { address: string; port: number } | undefined;

/**
 * Everything one push is compiled from. Built once per push (like Istio's PushContext), then each
 * proxy's table is a pure function of (snapshot, proxy).
 */
export interface Snapshot {
  objects: KubeObject[];
  /** The objects grouped by kind once, since every proxy's compile asks for them. */
  byKind: Map<string, KubeObject[]>;
  registry: Registry;
  mesh: MeshConfig;
  /** Lab DNS for hosts outside the registry (the external stand-in). */
  hosts: Record<string, { address: string; port: number }>;
  gatewayPorts: GatewayPortMapper;
  telemetry: { accessLog: boolean; metrics: boolean };
}

export function createSnapshot(
  objects: KubeObject[],
  mesh: MeshConfig,
  opts: Pick<Snapshot, 'hosts' | 'gatewayPorts'> & Partial<Pick<Snapshot, 'telemetry'>>,
): Snapshot {
  const byKind = new Map<string, KubeObject[]>();
  for (const o of objects) {
    const list = byKind.get(o.kind);
    if (list) list.push(o);
    else byKind.set(o.kind, [o]);
  }
  return {
    objects,
    byKind,
    registry: buildRegistry(objects),
    mesh,
    hosts: opts.hosts,
    gatewayPorts: opts.gatewayPorts,
    telemetry: opts.telemetry ?? { accessLog: true, metrics: true },
  };
}

export function ofKind(snapshot: Snapshot, kind: string): KubeObject[] {
  return snapshot.byKind.get(kind) ?? [];
}

/** What the compiler needs to know about one proxy. */
export interface ProxyNode {
  role: 'sidecar' | 'gateway';
  pod: string;
  namespace: string;
  ip: string;
  labels: Record<string, string>;
  workload: string;
  /**
   * Sidecars: one inbound listener per container port. `capture`: traffic for the port reaches the
   * listener through an iptables REDIRECT (Docker pods); unset for the local runtime.
   */
  inbound: Array<{ port: number; bindAddress: string; bindPort: number; appAddress: string; appPort: number; capture?: true }>;
  /**
   * Sidecars: the outbound listener. Without `capture`, the forward proxy the app's HTTP_PROXY
   * points at; with it, where the pod's iptables rules DNAT the app's connections (Docker pods).
   */
  outbound?: { bindAddress: string; bindPort: number; capture?: true };
}
