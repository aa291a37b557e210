/**
 * Which of the lab's objects shape a workload's traffic, as Istio applies them: VirtualServices
 * and DestinationRules for the Services that select the workload (and VirtualServices that route
 * to them or, for a gateway, bind to its Gateways), ServiceEntries visible in its namespace (they
 * decide its egress), Sidecars selecting it (or namespace- and mesh-wide ones without a selector).
 */
import { stringify } from 'yaml';
import type { KubeObject } from '../model/objects.js';
import { resolveShortHost } from '../model/names.js';
import type { DeploymentSpec, ServiceSpec } from '../model/specs.js';

export interface ConfigObject {
  kind: string;
  namespace: string;
  name: string;
  yaml: string;
}

const ROOT_NAMESPACE = 'istio-system';
const KIND_ORDER = ['Gateway', 'VirtualService', 'DestinationRule', 'ServiceEntry', 'Sidecar'];

function subsetOf(labels: Record<string, string>, of: Record<string, string> | undefined): boolean {
  if (!of || Object.keys(of).length === 0) return false;
  return Object.entries(of).every(([k, v]) => labels[k] === v);
}

export function templateLabels(d: KubeObject): Record<string, string> {
  return (d.spec as unknown as DeploymentSpec | undefined)?.template?.metadata?.labels ?? {};
}

/** FQDNs of the Services selecting pods with these labels in `namespace`. */
export function servicesFor(objects: readonly KubeObject[], namespace: string, labels: Record<string, string>): string[] {
  return objects
    .filter((o) => o.kind === 'Service' && (o.metadata.namespace ?? 'default') === namespace && subsetOf(labels, (o.spec as ServiceSpec | undefined)?.selector))
    .map((o) => resolveShortHost(o.metadata.name, namespace));
}

function visibleIn(o: KubeObject, namespace: string): boolean {
  const exportTo = (o.spec as { exportTo?: string[] } | undefined)?.exportTo;
  if (!exportTo || exportTo.length === 0 || exportTo.includes('*')) return true;
  const own = o.metadata.namespace ?? 'default';
  return exportTo.some((e) => (e === '.' ? own === namespace : e === namespace));
}

function routeHosts(vs: KubeObject, ns: string): string[] {
  const spec = (vs.spec ?? {}) as { http?: Array<{ route?: Array<{ destination?: { host?: string } }>; mirror?: { host?: string }; mirrors?: Array<{ destination?: { host?: string } }> }> };
  const out: string[] = [];
  for (const r of spec.http ?? []) {
    for (const d of r.route ?? []) if (d.destination?.host) out.push(resolveShortHost(d.destination.host, ns));
    if (r.mirror?.host) out.push(resolveShortHost(r.mirror.host, ns));
    for (const m of r.mirrors ?? []) if (m.destination?.host) out.push(resolveShortHost(m.destination.host, ns));
  }
  return out;
}

function hostsOf(o: KubeObject): string[] {
  const ns = o.metadata.namespace ?? 'default';
  const spec = (o.spec ?? {}) as { hosts?: string[]; host?: string };
  return [...(spec.hosts ?? []), ...(spec.host ? [spec.host] : [])].map((h) => resolveShortHost(h, ns));
}

/** The objects shaping the traffic of a workload (a Deployment's pods) with `labels` in `namespace`. */
export function objectsShaping(objects: readonly KubeObject[], namespace: string, labels: Record<string, string>): KubeObject[] {
  const services = new Set(servicesFor(objects, namespace, labels));
  const gateways = new Set(
    objects
      .filter((o) => o.kind === 'Gateway' && subsetOf(labels, (o.spec as { selector?: Record<string, string> } | undefined)?.selector))
      .map((g) => `${g.metadata.namespace ?? 'default'}/${g.metadata.name}`),
  );
  const boundToGateway = (vs: KubeObject) => {
    const ns = vs.metadata.namespace ?? 'default';
    const gws = (vs.spec as { gateways?: string[] } | undefined)?.gateways ?? [];
    return gws.some((g) => gateways.has(g.includes('/') ? g : `${ns}/${g}`));
  };
  const isSidecarWorkload = gateways.size === 0;
  return objects
    .filter((o) => {
      switch (o.kind) {
        case 'Gateway':
          return gateways.has(`${o.metadata.namespace ?? 'default'}/${o.metadata.name}`);
        case 'VirtualService':
          return hostsOf(o).some((h) => services.has(h)) || routeHosts(o, o.metadata.namespace ?? 'default').some((h) => services.has(h)) || boundToGateway(o);
        case 'DestinationRule':
          return hostsOf(o).some((h) => services.has(h));
        case 'ServiceEntry':
          return isSidecarWorkload && visibleIn(o, namespace);
        case 'Sidecar': {
          const sel = (o.spec as { workloadSelector?: { labels?: Record<string, string> } } | undefined)?.workloadSelector?.labels;
          const ns = o.metadata.namespace ?? 'default';
          if (sel) return ns === namespace && subsetOf(labels, sel);
          return isSidecarWorkload && (ns === namespace || ns === ROOT_NAMESPACE);
        }
        default:
          return false;
      }
    })
    .sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.metadata.name.localeCompare(b.metadata.name));
}

/** An object as `lab get -o yaml` would show its user-facing part. */
export function toConfigObject(o: KubeObject): ConfigObject {
  const { apiVersion, kind, metadata, spec } = o;
  const meta: Record<string, unknown> = { name: metadata.name, namespace: metadata.namespace };
  if (metadata.labels && Object.keys(metadata.labels).length) meta.labels = metadata.labels;
  if (metadata.ownerReferences?.length) meta.ownerReferences = metadata.ownerReferences.map((r) => ({ kind: r.kind, name: r.name }));
  return { kind, namespace: metadata.namespace ?? 'default', name: metadata.name, yaml: stringify({ apiVersion, kind, metadata: meta, spec }) };
}
