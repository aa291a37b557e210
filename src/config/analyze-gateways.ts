/**
 * Gateway checks of istioctl analyze (Istio 1.16): IngressGatewayPortAnalyzer (IST0101 for a
 * selector no workload carries, IST0104 for a server port the gateway workload's Services do not
 * expose) and the VirtualService/Gateway host check (IST0132).
 *
 * Workloads are Pods when there are any (a running lab), else what each Deployment would start.
 * The lab's built-in ingress gateway counts as a workload with the istio-ingressgateway Service of
 * Istio's default profile (ports 15021, 80, 443, 31400, 15443), so Istio's examples get Istio's
 * verdicts (a Gateway on port 8004 is IST0104, as in the IST0104 documentation).
 */
import type { KubeObject } from '../model/objects.js';
import { goList } from './analysis-messages.js';
import { hostMatches } from './analyze.js';
import { isPlainObject } from './schema.js';

export interface GatewayFinding {
  code: 'IST0101' | 'IST0104' | 'IST0132';
  object: KubeObject;
  path: string;
  message: string;
}

const BUILTIN_GATEWAY = { namespace: 'istio-system', labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' } };
const BUILTIN_GATEWAY_PORTS = [15021, 80, 443, 31400, 15443];

interface Workload {
  namespace: string;
  labels: Record<string, string>;
}

const ns = (o: KubeObject) => o.metadata.namespace ?? 'default';
const isIstio = (o: KubeObject, kind: string) => o.kind === kind && typeof o.apiVersion === 'string' && o.apiVersion.startsWith('networking.istio.io/');
const spec = (o: KubeObject): Record<string, unknown> => (isPlainObject(o.spec) ? o.spec : {});
const strMap = (v: unknown): Record<string, string> =>
  isPlainObject(v) ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string')) : {};

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

/** Kubernetes' `labels.SelectorFromSet(...).String()`: keys sorted, `k=v` joined with commas. */
export function selectorString(selector: Record<string, string>): string {
  return Object.keys(selector).sort().map((k) => `${k}=${selector[k]}`).join(',');
}

function workloads(objects: KubeObject[]): Workload[] {
  const pods = objects.filter((o) => o.kind === 'Pod');
  const out: Workload[] = pods.length
    ? pods.map((p) => ({ namespace: ns(p), labels: p.metadata.labels ?? {} }))
    : objects
        .filter((o) => o.kind === 'Deployment')
        .map((d) => ({ namespace: ns(d), labels: strMap((spec(d)['template'] as { metadata?: { labels?: unknown } } | undefined)?.metadata?.labels) }));
  if (!out.some((w) => w.namespace === BUILTIN_GATEWAY.namespace && selects(BUILTIN_GATEWAY.labels, w.labels))) out.push(BUILTIN_GATEWAY);
  return out;
}

function servicePorts(objects: KubeObject[], w: Workload): number[] {
  const ports: number[] = [];
  let selected = false;
  for (const s of objects) {
    if (s.kind !== 'Service' || ns(s) !== w.namespace || !selects(strMap(spec(s)['selector']), w.labels)) continue;
    selected = true;
    for (const p of Array.isArray(spec(s)['ports']) ? (spec(s)['ports'] as unknown[]) : []) {
      if (isPlainObject(p) && typeof p['port'] === 'number' && (p['protocol'] === undefined || p['protocol'] === 'TCP')) ports.push(p['port']);
    }
  }
  if (!selected && w.namespace === BUILTIN_GATEWAY.namespace && selects(BUILTIN_GATEWAY.labels, w.labels)) ports.push(...BUILTIN_GATEWAY_PORTS);
  return ports;
}

function serverHosts(gw: KubeObject): string[] {
  const out: string[] = [];
  for (const s of Array.isArray(spec(gw)['servers']) ? (spec(gw)['servers'] as unknown[]) : []) {
    if (!isPlainObject(s) || !Array.isArray(s['hosts'])) continue;
    // `namespace/host` limits which namespaces' VirtualServices may bind; the host is the part after it.
    for (const h of s['hosts']) if (typeof h === 'string') out.push(h.includes('/') ? h.slice(h.indexOf('/') + 1) : h);
  }
  return out;
}

export function analyzeGateways(objects: KubeObject[]): GatewayFinding[] {
  const out: GatewayFinding[] = [];
  const wls = workloads(objects);
  const gateways = objects.filter((o) => isIstio(o, 'Gateway'));
  for (const gw of gateways) {
    const selector = strMap(spec(gw)['selector']);
    const selected = wls.filter((w) => selects(selector, w.labels));
    if (selected.length === 0) {
      out.push({ code: 'IST0101', object: gw, path: 'spec.selector', message: `Referenced selector not found: ${JSON.stringify(selectorString(selector))}` });
      continue;
    }
    const ports = new Set(selected.flatMap((w) => servicePorts(objects, w)));
    const servers = Array.isArray(spec(gw)['servers']) ? (spec(gw)['servers'] as unknown[]) : [];
    servers.forEach((s, i) => {
      const port = isPlainObject(s) && isPlainObject(s['port']) ? s['port']['number'] : undefined;
      if (typeof port === 'number' && !ports.has(port)) {
        out.push({
          code: 'IST0104',
          object: gw,
          path: `spec.servers[${i}].port.number`,
          message: `The gateway refers to a port that is not exposed on the workload (pod selector ${selectorString(selector)}; port ${port})`,
        });
      }
    });
  }
  const byKey = new Map<string, KubeObject>(gateways.map((g) => [`${ns(g)}/${g.metadata.name}`, g]));
  for (const vs of objects.filter((o) => isIstio(o, 'VirtualService'))) {
    const hosts = (Array.isArray(spec(vs)['hosts']) ? (spec(vs)['hosts'] as unknown[]) : []).filter((h): h is string => typeof h === 'string');
    const refs = (Array.isArray(spec(vs)['gateways']) ? (spec(vs)['gateways'] as unknown[]) : []).filter((g): g is string => typeof g === 'string' && g !== 'mesh');
    refs.forEach((ref) => {
      const key = ref.includes('/') ? ref : `${ns(vs)}/${ref}`;
      const gw = byKey.get(key);
      if (!gw) return; // IST0101 reports it
      const gwHosts = serverHosts(gw);
      const missing = hosts.filter((h) => !gwHosts.some((g) => hostMatches(g, h) || hostMatches(h, g)));
      if (missing.length > 0) {
        out.push({
          code: 'IST0132',
          object: vs,
          path: 'spec.hosts',
          message: `one or more host ${goList(missing)} defined in VirtualService ${ns(vs)}/${vs.metadata.name} not found in Gateway ${key}.`,
        });
      }
    });
  }
  return out;
}
