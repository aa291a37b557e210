/**
 * Cross-object checks, like `istioctl analyze`, on the whole would-be store content. Everything here
 * is accepted by Istio, so the results are warnings: references to gateways, hosts and subsets that
 * do not exist (IST0101), several mesh VirtualServices for one host (IST0109), an ambiguous
 * destination port (IST0112), Service port names (IST0118, analyze-services.ts), gateway ports and hosts (IST0104, IST0132, analyze-gateways.ts),
 * rules that can never match (IST0130, IST0131 and the lab's LAB0001, analyze-rules.ts), and
 * weights that do not sum to 100 (LAB0002, informational: Istio >= 1.15 takes them as relative).
 * Levels (Error/Warning/Info) are istioctl's, in analysis-messages.ts.
 *
 * Host names resolve as Istio does: a short name (no dot) in the namespace of the rule naming it.
 */
import type { KubeObject } from '../model/objects.js';
import { resolveShortHost, serviceFqdn } from '../model/names.js';
import { analyzeGateways } from './analyze-gateways.js';
import { analyzeRules } from './analyze-rules.js';
import { analyzeServices } from './analyze-services.js';
import { ConfigWarning } from './errors.js';
import { fieldPath, indexPath, isPlainObject } from './schema.js';

export const IST0101 = 'IST0101'; // ReferencedResourceNotFound
export const IST0109 = 'IST0109'; // ConflictingMeshGatewayVirtualServiceHosts
export const IST0112 = 'IST0112'; // VirtualServiceDestinationPortSelectorRequired
export const LAB0002 = 'LAB0002'; // RouteWeightsNormalized (the lab's own)

const ISTIO_GROUP = 'networking.istio.io/';

function isIstio(o: KubeObject, kind: string): boolean {
  return o.kind === kind && typeof o.apiVersion === 'string' && o.apiVersion.startsWith(ISTIO_GROUP);
}

function ns(o: KubeObject): string {
  return o.metadata.namespace ?? 'default';
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** `*.example.com` matches `a.example.com` and `a.b.example.com`; `*` matches everything. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) return host.endsWith(pattern.slice(1));
  return false;
}

interface RegistryEntry {
  /** Ports the host exposes (empty when unknown). */
  ports: number[];
}

/** The service registry: Services as FQDNs, plus ServiceEntry hosts (wildcards kept as patterns). */
function buildRegistry(objects: KubeObject[]): { exact: Map<string, RegistryEntry>; wildcards: Array<[string, RegistryEntry]> } {
  const exact = new Map<string, RegistryEntry>();
  const wildcards: Array<[string, RegistryEntry]> = [];
  for (const o of objects) {
    const spec = isPlainObject(o.spec) ? o.spec : {};
    if (o.kind === 'Service' && o.apiVersion === 'v1') {
      const ports = list(spec['ports']).flatMap((p) => (isPlainObject(p) && typeof p['port'] === 'number' ? [p['port']] : []));
      exact.set(serviceFqdn(o.metadata.name, ns(o)), { ports });
    } else if (isIstio(o, 'ServiceEntry')) {
      const ports = list(spec['ports']).flatMap((p) => (isPlainObject(p) && typeof p['number'] === 'number' ? [p['number']] : []));
      for (const h of list(spec['hosts'])) {
        if (typeof h !== 'string') continue;
        const host = resolveShortHost(h, ns(o));
        const entry = exact.get(host);
        if (entry) entry.ports.push(...ports);
        else if (host.startsWith('*')) wildcards.push([host, { ports }]);
        else exact.set(host, { ports: [...ports] });
      }
    }
  }
  return { exact, wildcards };
}

interface Destination {
  host: string;
  subset?: string;
  port?: number;
  path: string;
}

function destinationAt(d: unknown, path: string): Destination | undefined {
  if (!isPlainObject(d) || typeof d['host'] !== 'string') return undefined;
  const out: Destination = { host: d['host'], path };
  if (typeof d['subset'] === 'string' && d['subset'] !== '') out.subset = d['subset'];
  const port = d['port'];
  if (isPlainObject(port) && typeof port['number'] === 'number') out.port = port['number'];
  return out;
}

/** Every destination of a VirtualService: routes (http, tcp, tls), mirror and mirrors. */
function destinations(spec: Record<string, unknown>): Destination[] {
  const out: Destination[] = [];
  for (const section of ['http', 'tcp', 'tls'] as const) {
    list(spec[section]).forEach((route, i) => {
      if (!isPlainObject(route)) return;
      const base = indexPath(fieldPath('spec', section), i);
      list(route['route']).forEach((rd, j) => {
        if (!isPlainObject(rd)) return;
        const d = destinationAt(rd['destination'], fieldPath(indexPath(fieldPath(base, 'route'), j), 'destination'));
        if (d) out.push(d);
      });
      if (section !== 'http') return;
      const mirror = destinationAt(route['mirror'], fieldPath(base, 'mirror'));
      if (mirror) out.push(mirror);
      list(route['mirrors']).forEach((m, j) => {
        if (!isPlainObject(m)) return;
        const d = destinationAt(m['destination'], fieldPath(indexPath(fieldPath(base, 'mirrors'), j), 'destination'));
        if (d) out.push(d);
      });
    });
  }
  return out;
}

/** Gateway references with their paths: top-level `gateways` and each match's `gateways`. */
function gatewayRefs(spec: Record<string, unknown>): Array<{ ref: string; path: string }> {
  const out: Array<{ ref: string; path: string }> = [];
  list(spec['gateways']).forEach((g, i) => {
    if (typeof g === 'string') out.push({ ref: g, path: indexPath('spec.gateways', i) });
  });
  for (const section of ['http', 'tcp', 'tls'] as const) {
    list(spec[section]).forEach((route, i) => {
      if (!isPlainObject(route)) return;
      list(route['match']).forEach((m, j) => {
        if (!isPlainObject(m)) return;
        list(m['gateways']).forEach((g, k) => {
          if (typeof g === 'string') out.push({ ref: g, path: indexPath(`spec.${section}[${i}].match[${j}].gateways`, k) });
        });
      });
    });
  }
  return out;
}

/** Analyse the store content; warnings carry kind, name, namespace and field path (no file). */
export function analyze(objects: KubeObject[]): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  const warn = (o: KubeObject, path: string, message: string, code?: string) =>
    warnings.push(new ConfigWarning({ file: '', index: 0, kind: o.kind, name: o.metadata.name, namespace: ns(o), path }, message, code));

  const gateways = new Set(objects.filter((o) => isIstio(o, 'Gateway')).map((o) => `${ns(o)}/${o.metadata.name}`));
  const registry = buildRegistry(objects);
  const lookupHost = (fqdn: string): RegistryEntry | undefined =>
    registry.exact.get(fqdn) ?? registry.wildcards.find(([pattern]) => hostMatches(pattern, fqdn))?.[1];

  /** Subsets per DestinationRule host pattern (FQDN, may be a wildcard). */
  const subsetsByHost = new Map<string, Set<string>>();
  for (const dr of objects.filter((o) => isIstio(o, 'DestinationRule'))) {
    const spec = isPlainObject(dr.spec) ? dr.spec : {};
    const host = str(spec['host']);
    if (!host) continue;
    const fqdn = resolveShortHost(host, ns(dr));
    const set = subsetsByHost.get(fqdn) ?? new Set<string>();
    for (const s of list(spec['subsets'])) if (isPlainObject(s) && typeof s['name'] === 'string') set.add(s['name']);
    subsetsByHost.set(fqdn, set);
  }
  const subsetDefined = (fqdn: string, subset: string): boolean => {
    for (const [pattern, subsets] of subsetsByHost) if (hostMatches(pattern, fqdn) && subsets.has(subset)) return true;
    return false;
  };

  /** mesh-bound hosts -> the VirtualServices defining them, for IST0109. */
  const meshHosts = new Map<string, KubeObject[]>();

  for (const vs of objects.filter((o) => isIstio(o, 'VirtualService'))) {
    const spec = isPlainObject(vs.spec) ? vs.spec : {};
    const vsNs = ns(vs);

    for (const { ref, path } of gatewayRefs(spec)) {
      if (ref === 'mesh') continue;
      const key = ref.includes('/') ? ref : `${vsNs}/${ref}`;
      if (!gateways.has(key)) warn(vs, path, `Referenced gateway not found: ${JSON.stringify(ref)}`, IST0101);
    }

    for (const d of destinations(spec)) {
      const fqdn = resolveShortHost(d.host, vsNs);
      const entry = lookupHost(fqdn);
      if (!entry) {
        warn(vs, d.path, `Referenced host not found: ${JSON.stringify(d.host)}`, IST0101);
      } else if (d.port !== undefined) {
        if (entry.ports.length > 0 && !entry.ports.includes(d.port)) {
          warn(vs, fieldPath(d.path, 'port'), `Referenced host:port not found: ${JSON.stringify(`${d.host}:${d.port}`)}`, IST0101);
        }
      } else if (new Set(entry.ports).size > 1) {
        warn(
          vs,
          d.path,
          `This VirtualService routes to a service ${JSON.stringify(d.host)} that exposes multiple ports [${[...new Set(entry.ports)].join(' ')}]. Specifying a port in the destination is required to disambiguate.`,
          IST0112,
        );
      }
      if (d.subset !== undefined && !subsetDefined(fqdn, d.subset)) {
        warn(vs, d.path, `Referenced host+subset in destinationrule not found: ${JSON.stringify(`${d.host}+${d.subset}`)}`, IST0101);
      }
    }

    // Weights: relative since Istio 1.15; a sum other than 100 was an error before.
    for (const section of ['http', 'tcp', 'tls'] as const) {
      list(spec[section]).forEach((route, i) => {
        if (!isPlainObject(route)) return;
        const rds = list(route['route']).filter(isPlainObject);
        const weights = rds.map((rd) => (typeof rd['weight'] === 'number' ? rd['weight'] : undefined));
        if (weights.every((w) => w === undefined)) return;
        const sum = weights.reduce<number>((a, w) => a + (w ?? 0), 0);
        if (sum === 100 || sum === 0) return;
        const path = fieldPath(indexPath(fieldPath('spec', section), i), 'route');
        const share = rds.length === 1 ? 'a lone destination gets all traffic' : `each destination gets weight/${sum}`;
        warn(vs, path, `route weights sum to ${sum}, not 100: Istio >= 1.15 takes them as relative (${share}); Istio before 1.15 rejected this`, LAB0002);
      });
    }

    const gws = list(spec['gateways']);
    if (gws.length === 0 || gws.includes('mesh')) {
      for (const h of list(spec['hosts'])) {
        if (typeof h !== 'string') continue;
        const fqdn = resolveShortHost(h, vsNs);
        const owners = meshHosts.get(fqdn) ?? [];
        owners.push(vs);
        meshHosts.set(fqdn, owners);
      }
    }
  }

  for (const [host, owners] of meshHosts) {
    if (owners.length < 2) continue;
    const names = owners.map((o) => `${ns(o)}/${o.metadata.name}`).join(',');
    for (const o of owners) {
      warn(
        o,
        'spec.hosts',
        `The VirtualServices ${names} associated with mesh gateway define the same host ${host} which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.`,
        IST0109,
      );
    }
  }
  for (const vs of objects.filter((o) => isIstio(o, 'VirtualService'))) {
    for (const f of analyzeRules(vs)) warn(vs, f.path, f.message, f.code);
  }
  for (const f of analyzeGateways(objects)) warn(f.object, f.path, f.message, f.code);
  for (const f of analyzeServices(objects)) warn(f.object, f.path, f.message, f.code);
  return warnings;
}
