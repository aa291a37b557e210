/**
 * The real Prometheus as a metrics provider: instant queries through its HTTP API
 * (`GET /api/v1/query`), as Flagger's Prometheus provider sends them (whitespace collapsed).
 */
import type { QueryValue, Series } from './promql/evaluate.js';
import type { MetricsProvider } from './provider.js';

interface ApiResponse {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

function sampleValue(v: unknown): number {
  // The API sends values as strings ("NaN", "+Inf" included), as Go's ParseFloat reads them.
  const text = Array.isArray(v) ? String(v[1]) : '';
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

export class PrometheusProvider implements MetricsProvider {
  readonly name = 'prometheus' as const;

  /** `base`: the server's URL, e.g. `http://127.0.0.1:9090`. */
  constructor(
    readonly base: string,
    private readonly timeoutMs = 5000,
  ) {}

  async query(promql: string, at?: number): Promise<QueryValue> {
    const params = new URLSearchParams({ query: promql.replace(/\s+/g, ' ').trim() });
    if (at !== undefined) params.set('time', (at / 1000).toFixed(3));
    const res = await fetch(`${this.base}/api/v1/query?${params}`, { signal: AbortSignal.timeout(this.timeoutMs) });
    const text = await res.text();
    let body: ApiResponse;
    try {
      body = JSON.parse(text) as ApiResponse;
    } catch {
      throw new Error(`error response: ${res.status} ${text.slice(0, 200)}`);
    }
    if (body.status !== 'success' || !body.data) throw new Error(`error response: ${body.errorType ?? res.status}: ${body.error ?? text.slice(0, 200)}`);
    const { resultType, result } = body.data;
    if (resultType === 'scalar') return { type: 'scalar', value: sampleValue(result) };
    if (resultType === 'vector') {
      const series: Series[] = (result as Array<{ metric: Record<string, string>; value: unknown }>).map((r) => ({ labels: r.metric, value: sampleValue(r.value) }));
      return { type: 'vector', series };
    }
    throw new Error(`unexpected result type ${resultType} (an instant query returns a vector or a scalar)`);
  }

  refuses(): string | undefined {
    return undefined;
  }

  keepWarm(): void {
    // Prometheus scrapes on its own schedule.
  }

  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.base}/-/ready`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {}
}

/** Prometheus' own readiness endpoint: true once it has loaded its config and can answer queries. */
export async function prometheusReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}
