/**
 * What the lab's DNS server answers, as pure functions: a table of names built from the lab's
 * Services (each Service with a virtual address is `<name>.<ns>.svc.cluster.local`, as Kubernetes
 * DNS names it) plus static hosts, and `answer(name, type, table)`.
 *
 * Only fully qualified names are in the table: short names (`catalog`, `catalog.istioinaction`)
 * resolve through the search domains pods get (`<ns>.svc.cluster.local svc.cluster.local
 * cluster.local`, ndots:5), as in Kubernetes. Anything not in the table is NXDOMAIN: nothing is
 * forwarded anywhere (the lab has no internet).
 */
import type { KubeObject } from '../model/objects.js';
import type { ServiceSpec } from '../model/specs.js';
import { TYPE_A, TYPE_ANY } from './wire.js';

/** Kubernetes' cluster domain. */
export const CLUSTER_DOMAIN = 'cluster.local';
/** Seconds resolvers may cache an answer: short, since Services come and go (CoreDNS's default). */
export const DNS_TTL = 5;

export interface DnsTable {
  /** FQDN (lowercase, no trailing dot) -> IPv4 address. */
  readonly hosts: ReadonlyMap<string, string>;
  /**
   * Names that exist only as ancestors of hosts (`istioinaction.svc.cluster.local`): they get
   * NOERROR with no answers rather than NXDOMAIN, which would say nothing exists below them
   * (RFC 8020).
   */
  readonly nonTerminals: ReadonlySet<string>;
}

export type DnsAnswer = { rcode: 'NOERROR'; addresses: string[] } | { rcode: 'NXDOMAIN'; addresses: [] };

/** Lowercase (ASCII, as DNS compares names) without one trailing dot. */
export function normalizeName(name: string): string {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  return n.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

/** A table from FQDN -> address pairs (names normalized; addresses that are not IPv4 are skipped). */
export function dnsTableFromHosts(hosts: Iterable<readonly [string, string]>): DnsTable {
  const map = new Map<string, string>();
  const nonTerminals = new Set<string>();
  for (const [rawName, address] of hosts) {
    const name = normalizeName(rawName);
    if (name === '' || !isIPv4(address)) continue;
    map.set(name, address);
    const labels = name.split('.');
    for (let i = 1; i < labels.length; i++) nonTerminals.add(labels.slice(i).join('.'));
  }
  for (const name of map.keys()) nonTerminals.delete(name);
  return { hosts: map, nonTerminals };
}

/**
 * The lab's table: every Service with a virtual address (`spec.clusterIP`, not `None`) as
 * `<name>.<ns>.svc.cluster.local`, plus `extraHosts` (FQDN -> IPv4, e.g. the external stand-in's
 * `jsonplaceholder.typicode.com`). A Service name wins over an extra host of the same name.
 */
export function buildDnsTable(objects: readonly KubeObject[], extraHosts: Readonly<Record<string, string>> = {}): DnsTable {
  const pairs: Array<[string, string]> = Object.entries(extraHosts);
  for (const o of objects) {
    if (o.kind !== 'Service') continue;
    const vip = (o.spec as ServiceSpec | undefined)?.clusterIP;
    if (!vip || vip === 'None') continue;
    pairs.push([`${o.metadata.name}.${o.metadata.namespace ?? 'default'}.svc.${CLUSTER_DOMAIN}`, vip]);
  }
  return dnsTableFromHosts(pairs);
}

/**
 * The answer for a question: A (or ANY) for a known name gets its address; any other type for a
 * known name, or any type for an ancestor of one, gets NOERROR with no answers (so a resolver
 * asking AAAA then A still gets the A); anything else is NXDOMAIN.
 */
export function answer(name: string, type: number, table: DnsTable): DnsAnswer {
  const n = normalizeName(name);
  const address = table.hosts.get(n);
  if (address !== undefined) return { rcode: 'NOERROR', addresses: type === TYPE_A || type === TYPE_ANY ? [address] : [] };
  if (table.nonTerminals.has(n)) return { rcode: 'NOERROR', addresses: [] };
  return { rcode: 'NXDOMAIN', addresses: [] };
}
