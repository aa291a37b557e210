/**
 * Istio's naming conventions, built and parsed in one place (pilot's `model.BuildSubsetKey`).
 */

export const CLUSTER_DOMAIN = 'svc.cluster.local';

export function serviceFqdn(name: string, namespace: string): string {
  return `${name}.${namespace}.${CLUSTER_DOMAIN}`;
}

export function outboundClusterName(port: number, subset: string | undefined, fqdn: string): string {
  return `outbound|${port}|${subset ?? ''}|${fqdn}`;
}

export function inboundClusterName(port: number): string {
  return `inbound|${port}||`;
}

export interface ParsedClusterName {
  direction: 'outbound' | 'inbound';
  port: number;
  subset: string;
  host: string;
}

export function parseClusterName(name: string): ParsedClusterName | undefined {
  const parts = name.split('|');
  if (parts.length !== 4) return undefined;
  const [direction, port, subset, host] = parts;
  if (direction !== 'outbound' && direction !== 'inbound') return undefined;
  const n = Number(port);
  if (!Number.isInteger(n)) return undefined;
  return { direction, port: n, subset: subset!, host: host! };
}

/** Envoy's SNI for Istio mTLS: `outbound_.80_.version-v1_.catalog.istioinaction.svc.cluster.local`. */
export function sniForCluster(clusterName: string): string | undefined {
  const p = parseClusterName(clusterName);
  if (!p || p.direction !== 'outbound') return undefined;
  return `outbound_.${p.port}_.${p.subset}_.${p.host}`;
}

/**
 * Resolve a (possibly short) host name of a rule in `namespace` to an FQDN, as Istio does: the
 * namespace is that of the RULE, not of the service. Names with a dot other than the cluster
 * suffix forms are taken as they are (external hosts, already-qualified names).
 */
export function resolveShortHost(host: string, namespace: string): string {
  if (host === '*' || host.startsWith('*')) return host;
  if (!host.includes('.')) return serviceFqdn(host, namespace);
  return host;
}
