/**
 * The lab's current metrics provider as seen from outside the control plane (the dashboard, a
 * script): queries go through the control plane's `GET /metrics/query`, so they are answered by
 * whichever provider the canary uses (embedded or Prometheus).
 */
import type { QueryValue } from './promql/evaluate.js';
import type { MetricsProvider, ProviderName } from './provider.js';

/** `get(path)`: an authenticated GET on the lab's API returning the parsed JSON (e.g. ApiClient.call). */
export class LabApiProvider implements MetricsProvider {
  /** The provider that answered the last query. */
  name: ProviderName = 'embedded';

  constructor(private readonly get: (path: string) => Promise<unknown>) {}

  async query(promql: string, at?: number): Promise<QueryValue> {
    const params = new URLSearchParams({ query: promql });
    if (at !== undefined) params.set('time', String(at / 1000));
    const r = (await this.get(`/metrics/query?${params}`)) as { provider: ProviderName; result: QueryValue };
    this.name = r.provider;
    // JSON has no NaN or Infinity: they arrive as null.
    if (r.result.type === 'scalar') return { type: 'scalar', value: r.result.value ?? NaN };
    return { type: 'vector', series: r.result.series.map((s) => ({ labels: s.labels, value: s.value ?? NaN })) };
  }

  refuses(): string | undefined {
    return undefined;
  }

  keepWarm(): void {
    // Every query keeps the control plane's provider warm.
  }

  async close(): Promise<void> {}
}
