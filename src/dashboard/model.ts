/**
 * The dashboard's model, pure: the lab's objects, scrapes of every proxy, access-log tails, the
 * canary controller's events and the metrics provider's answers to the canaries' checks in; one
 * JSON snapshot out (graph, workloads, egress, canaries), which
 * the server streams to the page. No I/O here, so it is tested table-driven.
 */
import type { KubeObject } from '../model/objects.js';
import type { DeploymentSpec } from '../model/specs.js';
import { windowStart, type Scrape } from './scrapes.js';
import { buildEdges, UNKNOWN_NODE, workloadNode, type EdgeStats } from './edges.js';
import { canaryKey, canaryView, parseCanaryEvents, type CanaryView, type CheckAnswer } from './canary-view.js';
import type { ProviderName } from '../metrics/provider.js';
import { egressView, type EgressView } from './egress.js';
import { ruleWeights } from './rule-weights.js';
import { objectsShaping, templateLabels, toConfigObject, type ConfigObject } from './traffic-config.js';

export interface GraphNode {
  id: string;
  kind: 'ingress' | 'workload' | 'external' | 'service' | 'client';
  label: string;
  /** `v1`, `v2`, ... for workloads (the pods' `version` label). */
  version?: string;
  namespace?: string;
  /** Ready / desired replicas, for workloads that still exist. */
  ready?: number;
  replicas?: number;
  /** Column in the drawing: callers left of the called. */
  layer: number;
}

export interface WorkloadView {
  id: string;
  namespace: string;
  name: string;
  app: string;
  version?: string;
  replicas: number;
  ready: number;
  pods: string[];
  /** The newest access-log lines of its sidecars (or gateway), oldest first. */
  logs: string[];
  config: ConfigObject[];
}

export interface DashboardSnapshot {
  at: number;
  /** What the counts, success rates, latencies and splits cover. */
  window: { label: string; seconds: number };
  rateWindowSeconds: number;
  lab: { runtime: string; ingressPort: number; timeScale: number };
  nodes: GraphNode[];
  edges: EdgeStats[];
  workloads: WorkloadView[];
  egress: EgressView;
  canaries: CanaryView[];
}

export interface ModelInput {
  now: number;
  objects: readonly KubeObject[];
  meshMode: string;
  /** Scrapes of every proxy, oldest first, samples labelled with their `pod`; the last is now's. */
  scrapes: readonly Scrape[];
  windowMs: number;
  rateWindowMs: number;
  /** Access-log tails by workload node id (`namespace/deployment`). */
  logs: Readonly<Record<string, readonly string[]>>;
  /** The canary controller's log lines (newest last). */
  flaggerLines: readonly string[];
  /** The metrics provider's answers to each Canary's checks, by `name.namespace`. */
  canaryChecks: Readonly<Record<string, readonly CheckAnswer[]>>;
  /** The provider that answered them. */
  metricsProvider?: ProviderName;
  lab: { runtime: string; ingressPort: number; timeScale: number };
}

const GATEWAY_LABEL = 'istio';

function isGateway(d: KubeObject): boolean {
  return templateLabels(d)[GATEWAY_LABEL] === 'ingressgateway';
}

function fmtWindow(ms: number): string {
  const s = Math.round(ms / 1000);
  return s % 60 === 0 ? `${s / 60}m` : `${s}s`;
}

export function buildSnapshot(i: ModelInput): DashboardSnapshot {
  const latest = i.scrapes.length ? i.scrapes[i.scrapes.length - 1]! : { at: i.now, samples: [] };
  const start = windowStart(i.scrapes, latest.at, i.windowMs);
  // Younger than the window: counters from zero, i.e. since each proxy started.
  const window = start ? { label: `last ${fmtWindow(i.windowMs)}`, seconds: i.windowMs / 1000 } : { label: 'since the proxies started', seconds: 0 };
  const rateStart = windowStart(i.scrapes, latest.at, i.rateWindowMs) ?? (i.scrapes.length > 1 ? i.scrapes[0] : undefined);
  const edges = buildEdges({
    before: start?.samples ?? [],
    after: latest.samples,
    rateBefore: rateStart?.samples ?? latest.samples,
    rateSeconds: rateStart ? (latest.at - rateStart.at) / 1000 : 0,
  });

  const rules = ruleWeights(i.objects, edges.filter((e) => e.kind === 'traffic'));
  for (const e of edges) {
    const w = e.kind === 'traffic' ? rules.get(`${e.source}->${e.target}`) : undefined;
    if (w !== undefined) e.ruleWeight = w;
  }
  const deployments = i.objects.filter((o) => o.kind === 'Deployment');
  const pods = i.objects.filter((o) => o.kind === 'Pod');
  const nodes = new Map<string, GraphNode>();
  for (const d of deployments) {
    const labels = templateLabels(d);
    const ns = d.metadata.namespace ?? 'default';
    const spec = d.spec as unknown as DeploymentSpec;
    nodes.set(workloadNode(ns, d.metadata.name), {
      id: workloadNode(ns, d.metadata.name),
      kind: isGateway(d) ? 'ingress' : 'workload',
      label: isGateway(d) ? d.metadata.name : (labels.app ?? d.metadata.name),
      ...(labels.version ? { version: labels.version } : {}),
      namespace: ns,
      ready: ((d.status ?? {}) as { readyReplicas?: number }).readyReplicas ?? 0,
      replicas: spec.replicas ?? 1,
      layer: 0,
    });
  }
  for (const e of edges) {
    for (const id of [e.source, e.target]) {
      if (nodes.has(id)) continue;
      if (id === UNKNOWN_NODE) nodes.set(id, { id, kind: 'client', label: e.source === id ? 'outside the mesh' : 'no route', layer: 0 });
      else if (id.startsWith('ext:')) nodes.set(id, { id, kind: 'external', label: id.slice(4), layer: 0 });
      else if (id.startsWith('svc:')) nodes.set(id, { id, kind: 'service', label: id.slice(4).replace(/\.svc\.cluster\.local$/, ''), layer: 0 });
      else {
        // A workload gone since (its Deployment deleted) whose traffic is still in the window.
        const [ns, name] = id.split('/');
        nodes.set(id, { id, kind: 'workload', label: name!, namespace: ns!, layer: 0 });
      }
    }
  }
  const egress = egressView(i.objects, i.meshMode, edges);
  for (const h of egress.hosts) {
    const id = `ext:${h.host}`;
    if (!nodes.has(id)) nodes.set(id, { id, kind: 'external', label: h.host, layer: 0 });
  }
  assignLayers(nodes, edges);

  const workloads: WorkloadView[] = deployments.map((d) => {
    const ns = d.metadata.namespace ?? 'default';
    const labels = templateLabels(d);
    const id = workloadNode(ns, d.metadata.name);
    const own = pods.filter((p) => (p.metadata.namespace ?? 'default') === ns && p.metadata.ownerReferences?.some((r) => r.kind === 'Deployment' && r.name === d.metadata.name));
    return {
      id,
      namespace: ns,
      name: d.metadata.name,
      app: labels.app ?? d.metadata.name,
      ...(labels.version ? { version: labels.version } : {}),
      replicas: (d.spec as unknown as DeploymentSpec).replicas ?? 1,
      ready: ((d.status ?? {}) as { readyReplicas?: number }).readyReplicas ?? 0,
      pods: own.map((p) => p.metadata.name).sort(),
      logs: [...(i.logs[id] ?? [])],
      config: objectsShaping(i.objects, ns, labels).map(toConfigObject),
    };
  });
  workloads.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));

  const canaries = i.objects
    .filter((o) => o.kind === 'Canary')
    .map((c) => {
      const key = canaryKey(c);
      return canaryView({
        canary: c,
        events: parseCanaryEvents(i.flaggerLines, key),
        answers: i.canaryChecks[key] ?? [],
        ...(i.metricsProvider ? { provider: i.metricsProvider } : {}),
        now: latest.at,
        timeScale: i.lab.timeScale,
      });
    });

  const order = (n: GraphNode) => `${n.layer}\u0001${n.kind === 'client' ? 0 : 1}${n.label}\u0001${n.version ?? ''}\u0001${n.id}`;
  return {
    at: latest.at,
    window,
    rateWindowSeconds: i.rateWindowMs / 1000,
    lab: i.lab,
    nodes: [...nodes.values()].sort((a, b) => (order(a) < order(b) ? -1 : 1)),
    edges,
    workloads,
    egress,
    canaries,
  };
}

/**
 * Columns left to right in call order: gateways and outside clients first, each other node one
 * right of its furthest caller (bounded, so a call cycle cannot loop), external hosts last.
 */
function assignLayers(nodes: Map<string, GraphNode>, edges: readonly EdgeStats[]): void {
  const layer = new Map<string, number>();
  for (const n of nodes.values()) layer.set(n.id, n.kind === 'ingress' || n.kind === 'client' ? 0 : 1);
  const calls = edges.filter((e) => e.source !== e.target && nodes.has(e.source) && nodes.has(e.target));
  for (let round = 0; round < nodes.size; round++) {
    let changed = false;
    for (const e of calls) {
      const want = layer.get(e.source)! + 1;
      if (nodes.get(e.target)!.kind !== 'ingress' && want > layer.get(e.target)! && want <= nodes.size) {
        layer.set(e.target, want);
        changed = true;
      }
    }
    if (!changed) break;
  }
  let last = 1;
  for (const n of nodes.values()) if (n.kind !== 'external' && n.kind !== 'service') last = Math.max(last, layer.get(n.id)!);
  for (const n of nodes.values()) n.layer = n.kind === 'external' || n.kind === 'service' ? Math.max(last + 1, layer.get(n.id)!) : layer.get(n.id)!;
}
