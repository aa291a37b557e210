/**
 * The split a mesh VirtualService asks for, per edge of the graph, so the page can show the
 * configured weight beside the observed share ("9% · rule 10%"). For a client workload and a
 * server workload: the first route of a `mesh` VirtualService that applies to the client (no
 * match, or only `sourceLabels` it carries) and has several weighted destinations, one of which
 * is the server (a destination's Service, narrowed by its DestinationRule subset, selects the
 * server's pods). Routes matching on the request (headers, uri, ...) cannot be judged per edge
 * and are passed over.
 */
import type { KubeObject } from '../model/objects.js';
import { resolveShortHost } from '../model/names.js';
import type { ServiceSpec } from '../model/specs.js';
import { templateLabels } from './traffic-config.js';
import { workloadNode } from './edges.js';

interface Destination {
  host: string;
  subset?: string;
  weight?: number;
}
interface HttpRoute {
  match?: Array<Record<string, unknown>>;
  route?: Array<{ destination?: Destination; weight?: number }>;
}

function contains(labels: Record<string, string>, wanted: Record<string, string> | undefined): boolean {
  return !!wanted && Object.entries(wanted).every(([k, v]) => labels[k] === v);
}

/** Whether a route applies to every request of a client with these labels (undefined: cannot tell). */
function appliesTo(route: HttpRoute, labels: Record<string, string>): boolean | undefined {
  if (!route.match || route.match.length === 0) return true;
  let any = false;
  for (const m of route.match) {
    const keys = Object.keys(m).filter((k) => k !== 'name');
    if (keys.length !== 1 || keys[0] !== 'sourceLabels') return undefined;
    if (contains(labels, m.sourceLabels as Record<string, string>)) any = true;
  }
  return any;
}

/** Workload node ids a destination reaches: the Service's selector plus the subset's labels. */
function workloadsOf(objects: readonly KubeObject[], d: Destination, ruleNs: string): string[] {
  const fqdn = resolveShortHost(d.host, ruleNs);
  const svc = objects.find((o) => o.kind === 'Service' && resolveShortHost(o.metadata.name, o.metadata.namespace ?? 'default') === fqdn);
  const selector = (svc?.spec as ServiceSpec | undefined)?.selector;
  if (!svc || !selector) return [];
  let subsetLabels: Record<string, string> = {};
  if (d.subset) {
    const dr = objects.find((o) => o.kind === 'DestinationRule' && resolveShortHost((o.spec as { host?: string } | undefined)?.host ?? '', o.metadata.namespace ?? 'default') === fqdn);
    const subset = ((dr?.spec as { subsets?: Array<{ name: string; labels?: Record<string, string> }> } | undefined)?.subsets ?? []).find((s) => s.name === d.subset);
    if (!subset) return [];
    subsetLabels = subset.labels ?? {};
  }
  const ns = svc.metadata.namespace ?? 'default';
  return objects
    .filter((o) => o.kind === 'Deployment' && (o.metadata.namespace ?? 'default') === ns && contains(templateLabels(o), { ...selector, ...subsetLabels }))
    .map((o) => workloadNode(ns, o.metadata.name));
}

/** Edge (`source->target` of workload nodes) -> the weight (percent) the applicable route gives the target. */
export function ruleWeights(objects: readonly KubeObject[], pairs: ReadonlyArray<{ source: string; target: string }>): Map<string, number> {
  const out = new Map<string, number>();
  const labelsOf = new Map(objects.filter((o) => o.kind === 'Deployment').map((d) => [workloadNode(d.metadata.namespace ?? 'default', d.metadata.name), templateLabels(d)]));
  const meshRules = objects.filter((o) => o.kind === 'VirtualService' && (((o.spec as { gateways?: string[] } | undefined)?.gateways ?? ['mesh']).includes('mesh')));
  for (const { source, target } of pairs) {
    const labels = labelsOf.get(source);
    if (!labels || !labelsOf.has(target)) continue;
    for (const vs of meshRules) {
      const ns = vs.metadata.namespace ?? 'default';
      const routes = ((vs.spec as { http?: HttpRoute[] } | undefined)?.http ?? []).map((r) => ({ r, reach: (r.route ?? []).map((d) => ({ weight: d.weight, to: d.destination ? workloadsOf(objects, d.destination, ns) : [] })) }));
      // Only rules that can send this client's requests to the target at all.
      if (!routes.some((x) => x.reach.some((d) => d.to.includes(target)))) continue;
      const route = routes.find((x) => appliesTo(x.r, labels) !== false);
      if (!route || appliesTo(route.r, labels) === undefined || route.reach.length < 2) continue;
      if (route.reach.some((d) => d.weight === undefined)) continue;
      const weight = route.reach.filter((d) => d.to.includes(target)).reduce((sum, d) => sum + d.weight!, 0);
      out.set(`${source}->${target}`, weight);
      break;
    }
  }
  return out;
}
