/**
 * The mesh's egress as the dashboard shows it: the outbound traffic policy (mesh-wide, and the
 * Sidecars that override it), and each external host the workloads called: allowed (a
 * ServiceEntry names it), passed through (ALLOW_ANY's PassthroughCluster) or blocked
 * (REGISTRY_ONLY's BlackHoleCluster, or the 502 the sidecar answers itself).
 */
import type { KubeObject } from '../model/objects.js';
import type { EdgeStats } from './edges.js';

export type Verdict = 'allowed' | 'passthrough' | 'blocked';

export interface ExternalHostView {
  host: string;
  verdict: Verdict;
  /** Requests in the window (0: a ServiceEntry host nobody called yet). */
  requests: number;
  codes: Record<string, number>;
  /** Clients (node ids) that called it. */
  clients: string[];
  /** The ServiceEntry naming it, for allowed hosts. */
  serviceEntry?: string;
}

export interface EgressView {
  mode: string;
  sidecars: Array<{ namespace: string; name: string; selector?: Record<string, string>; mode?: string }>;
  hosts: ExternalHostView[];
}

function serviceEntryFor(objects: readonly KubeObject[], host: string): KubeObject | undefined {
  return objects.find(
    (o) =>
      o.kind === 'ServiceEntry' &&
      ((o.spec as { hosts?: string[] } | undefined)?.hosts ?? []).some((h) => h === host || (h.startsWith('*.') && host.endsWith(h.slice(1)))),
  );
}

export function egressView(objects: readonly KubeObject[], meshMode: string, edges: readonly EdgeStats[]): EgressView {
  const hosts = new Map<string, ExternalHostView>();
  for (const e of edges) {
    if (!e.target.startsWith('ext:') || e.kind !== 'traffic') continue;
    const host = e.target.slice(4);
    const verdict: Verdict = e.catchAll === 'BlackHoleCluster' ? 'blocked' : e.catchAll === 'PassthroughCluster' ? 'passthrough' : 'allowed';
    const k = `${host}\u0001${verdict}`;
    const se = verdict === 'allowed' ? serviceEntryFor(objects, host) : undefined;
    const v = hosts.get(k) ?? { host, verdict, requests: 0, codes: {}, clients: [], ...(se ? { serviceEntry: `${se.metadata.namespace}/${se.metadata.name}` } : {}) };
    v.requests += e.requests;
    for (const [c, n] of Object.entries(e.codes)) v.codes[c] = (v.codes[c] ?? 0) + n;
    if (!v.clients.includes(e.source)) v.clients.push(e.source);
    hosts.set(k, v);
  }
  // ServiceEntry hosts are allowed whether or not anyone has called them yet.
  for (const se of objects.filter((o) => o.kind === 'ServiceEntry')) {
    for (const host of (se.spec as { hosts?: string[] } | undefined)?.hosts ?? []) {
      const k = `${host}\u0001allowed`;
      if (!hosts.has(k)) hosts.set(k, { host, verdict: 'allowed', requests: 0, codes: {}, clients: [], serviceEntry: `${se.metadata.namespace}/${se.metadata.name}` });
    }
  }
  const sidecars = objects
    .filter((o) => o.kind === 'Sidecar')
    .map((o) => {
      const spec = (o.spec ?? {}) as { workloadSelector?: { labels?: Record<string, string> }; outboundTrafficPolicy?: { mode?: string } };
      return {
        namespace: o.metadata.namespace ?? 'default',
        name: o.metadata.name,
        ...(spec.workloadSelector?.labels ? { selector: spec.workloadSelector.labels } : {}),
        ...(spec.outboundTrafficPolicy?.mode ? { mode: spec.outboundTrafficPolicy.mode } : {}),
      };
    });
  return { mode: meshMode, sidecars, hosts: [...hosts.values()].sort((a, b) => a.host.localeCompare(b.host) || a.verdict.localeCompare(b.verdict)) };
}
