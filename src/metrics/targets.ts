/**
 * What both providers scrape: every pod's proxy stats endpoint (`/stats/prometheus` on its admin
 * port), with the target labels Istio's Prometheus configuration adds (`namespace`, `pod`), so both
 * keep each pod's series apart the same way.
 */
import type { KubeObject } from '../model/objects.js';
import type { PodStatus } from '../model/specs.js';

export const STATS_PATH = '/stats/prometheus';

export interface ScrapeTarget {
  /** `host:port` of the proxy's admin listener. */
  address: string;
  labels: { namespace: string; pod: string };
}

export function scrapeTargets(pods: readonly KubeObject[]): ScrapeTarget[] {
  const out: ScrapeTarget[] = [];
  for (const p of pods) {
    const st = p.status as unknown as PodStatus | undefined;
    if (!st?.adminUrl || st.phase !== 'Running') continue;
    out.push({ address: new URL(st.adminUrl).host, labels: { namespace: p.metadata.namespace ?? 'default', pod: p.metadata.name } });
  }
  return out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}
