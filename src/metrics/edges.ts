/**
 * Traffic per edge of the call graph (who calls whom, how often, how well, how fast), as Kiali
 * draws it: three PromQL queries over Istio's standard metrics through any provider.
 */
import { vectorOf, type MetricsProvider, type Series } from './provider.js';

const EDGE_LABELS = ['source_workload', 'source_workload_namespace', 'destination_workload', 'destination_workload_namespace', 'destination_service_name'] as const;

export interface EdgeStats {
  source: { workload: string; namespace: string };
  destination: { workload: string; namespace: string; service: string };
  /** Requests per second over the window. */
  rps: number;
  /** Percent of non-5xx responses; NaN when the window saw no request. */
  successRate: number;
  /** 90th percentile of request duration, ms (NaN: no data). */
  p90Ms: number;
}

export interface EdgeQueryOptions {
  /** The window, ms (rendered as `[<ms>ms]`). */
  windowMs: number;
  /** Whose reports: `destination` (server-side sidecars; Kiali's default) or `source`. */
  reporter?: 'destination' | 'source';
  at?: number;
}

export function edgeQueries(o: EdgeQueryOptions): { requests: string; ok: string; p90: string } {
  const by = EDGE_LABELS.join(', ');
  const sel = `reporter="${o.reporter ?? 'destination'}"`;
  const w = `[${Math.max(1, Math.round(o.windowMs))}ms]`;
  return {
    requests: `sum by (${by}) (rate(istio_requests_total{${sel}}${w}))`,
    ok: `sum by (${by}) (rate(istio_requests_total{${sel},response_code!~"5.*"}${w}))`,
    p90: `histogram_quantile(0.9, sum by (le, ${by}) (rate(istio_request_duration_milliseconds_bucket{${sel}}${w})))`,
  };
}

function key(labels: Record<string, string>): string {
  return EDGE_LABELS.map((l) => labels[l] ?? '').join('|');
}

export async function edgeStats(provider: MetricsProvider, o: EdgeQueryOptions): Promise<EdgeStats[]> {
  const q = edgeQueries(o);
  const [requests, ok, p90] = await Promise.all([q.requests, q.ok, q.p90].map(async (text) => vectorOf(await provider.query(text, o.at))));
  const index = (v: Series[]) => new Map(v.map((s) => [key(s.labels), s.value]));
  const okBy = index(ok!);
  const p90By = index(p90!);
  return requests!.map((s) => {
    const k = key(s.labels);
    const l = s.labels;
    return {
      source: { workload: l.source_workload ?? 'unknown', namespace: l.source_workload_namespace ?? 'unknown' },
      destination: { workload: l.destination_workload ?? 'unknown', namespace: l.destination_workload_namespace ?? 'unknown', service: l.destination_service_name ?? 'unknown' },
      rps: s.value,
      successRate: s.value > 0 ? (100 * (okBy.get(k) ?? 0)) / s.value : NaN,
      p90Ms: p90By.get(k) ?? NaN,
    };
  });
}
