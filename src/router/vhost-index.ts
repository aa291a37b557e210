/**
 * Virtual host selection by authority, in Envoy's order (RouteMatcher::findVirtualHost):
 *   1. exact domain (case-insensitive): one Map lookup;
 *   2. suffix wildcard `*.foo.com`, longest first: one Map lookup per distinct wildcard length;
 *   3. prefix wildcard `foo.*`, longest first: the same;
 *   4. `*`.
 * A wildcard must stand for at least one character: `*.foo.com` does not match `.foo.com`.
 *
 * The cost of a lookup does not grow with the number of virtual hosts: one Map lookup for exact
 * names plus one per distinct wildcard LENGTH (bounded by the longest host name).
 *
 * Port fallback: Istio lists both `host` and `host:port` as domains of a sidecar virtual host, and
 * for gateways it adds `host:*`, so that a Host header with an explicit port still selects the
 * host's virtual host. A compiled table that lists only `host` (or a client that sends a port the
 * table did not spell out, e.g. `Host: catalog.istioinaction.io:80` through a gateway) would then
 * fall to `*` or to "no route". So when the full `host:port` finds nothing (steps 1-3), steps 1-3
 * are tried again with the bare host, before `*`: the port of the Host header is not what routes the
 * request (the listener port is, through the route configuration and `match.port`), and a known
 * host with an unexpected port spelling is not an unknown host.
 */
import { asciiLowerCase } from './ascii.js';
import { RouteCompileError } from './errors.js';

export interface VirtualHostIndex<T> {
  find(authority: string): T | undefined;
}

interface WildcardBucket<T> {
  readonly length: number;
  readonly byKey: ReadonlyMap<string, T>;
}

export interface DomainEntry<T> {
  readonly domains: readonly string[];
  readonly value: T;
  /** For error messages. */
  readonly name: string;
}

export function createVirtualHostIndex<T>(entries: readonly DomainEntry<T>[]): VirtualHostIndex<T> {
  const exact = new Map<string, T>();
  const suffixes = new Map<number, Map<string, T>>();
  const prefixes = new Map<number, Map<string, T>>();
  let any: T | undefined;
  const owner = new Map<string, string>();

  for (const { domains, value, name } of entries) {
    for (const raw of domains) {
      const domain = asciiLowerCase(raw);
      if (domain.length === 0) throw new RouteCompileError(`vhost ${name}`, 'empty domain');
      // Envoy rejects a route configuration listing one domain twice; Istio dedupes before pushing.
      const previous = owner.get(domain);
      if (previous !== undefined) {
        throw new RouteCompileError(`vhost ${name}`, `domain ${raw} is already used by vhost ${previous}`);
      }
      owner.set(domain, name);
      if (domain === '*') any = value;
      else if (domain.startsWith('*')) addWildcard(suffixes, domain.slice(1), value);
      else if (domain.endsWith('*')) addWildcard(prefixes, domain.slice(0, -1), value);
      else exact.set(domain, value);
    }
  }

  const suffixBuckets = sortedBuckets(suffixes);
  const prefixBuckets = sortedBuckets(prefixes);

  const search = (host: string): T | undefined =>
    exact.get(host) ??
    (suffixBuckets.length === 0 ? undefined : findWildcard(host, suffixBuckets, true)) ??
    (prefixBuckets.length === 0 ? undefined : findWildcard(host, prefixBuckets, false));

  return Object.freeze({
    find(authority: string): T | undefined {
      const host = asciiLowerCase(authority);
      const found = search(host);
      if (found !== undefined) return found;
      const portStart = portStartOf(host);
      if (portStart >= 0) {
        const bare = search(host.slice(0, portStart));
        if (bare !== undefined) return bare;
      }
      return any;
    },
  });
}

function addWildcard<T>(buckets: Map<number, Map<string, T>>, key: string, value: T): void {
  let bucket = buckets.get(key.length);
  if (!bucket) buckets.set(key.length, (bucket = new Map()));
  bucket.set(key, value);
}

function sortedBuckets<T>(buckets: Map<number, Map<string, T>>): readonly WildcardBucket<T>[] {
  return Object.freeze(
    [...buckets.entries()]
      .sort((a, b) => b[0] - a[0])
      .map(([length, byKey]) => Object.freeze({ length, byKey })),
  );
}

function findWildcard<T>(
  host: string,
  buckets: readonly WildcardBucket<T>[],
  suffix: boolean,
): T | undefined {
  for (const { length, byKey } of buckets) {
    // `>=`: the wildcard must cover at least one character.
    if (length >= host.length) continue;
    const key = suffix ? host.slice(host.length - length) : host.slice(0, length);
    const found = byKey.get(key);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Index of the ':' that starts a port in an authority, or -1. Like Envoy's getPortStart: the last
 * ':', unless it is inside an IPv6 literal (`[::1]`); here also only when digits follow.
 */
export function portStartOf(authority: string): number {
  const colon = authority.lastIndexOf(':');
  if (colon < 0 || colon === authority.length - 1) return -1;
  const bracket = authority.lastIndexOf(']');
  if (bracket > colon) return -1;
  if (bracket < 0 && authority.indexOf(':') !== colon) return -1; // bare IPv6: no port
  for (let i = colon + 1; i < authority.length; i++) {
    const c = authority.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  return colon;
}
