/**
 * One interface for where metrics come from, like Flagger's metric providers: the canary controller
 * runs its checks through it, and the dashboard reads the canary's check values through it (its
 * graph keeps its own 1 s scrapes: exact counts for the split). Two implementations: the
 * embedded provider (scrapes the proxies itself; no install) and a real Prometheus server's HTTP API.
 */
import type { QueryValue, Series } from './promql/evaluate.js';

export type { QueryValue, Series } from './promql/evaluate.js';

export type ProviderName = 'embedded' | 'prometheus';

export interface MetricsProvider {
  readonly name: ProviderName;
  /** An instant query at `at` (ms since the epoch; default now), as Prometheus' `/api/v1/query` answers it. */
  query(promql: string, at?: number): Promise<QueryValue>;
  /**
   * Why this provider cannot run the query (undefined: it can). The embedded provider refuses
   * PromQL beyond its evaluator, so a MetricTemplate it cannot run is rejected at apply.
   */
  refuses(promql: string): string | undefined;
  /**
   * Someone will query soon (the canary controller on every tick, an open dashboard): keep scraping.
   * The embedded provider scrapes only while asked; Prometheus scrapes anyway.
   */
  keepWarm(): void;
  close(): Promise<void>;
}

/** Flagger's `ErrNoValuesFound`: the query returned nothing (or NaN) to judge. */
export class NoValuesError extends Error {
  constructor(query: string) {
    super(`no values found for query ${query}`);
  }
}

/**
 * What Flagger reads from a query result (providers/prometheus.go RunQuery): the value of the last
 * series of the vector, or the scalar. An empty result is "no values found"; so is NaN, which the
 * lab treats as no data (0/0 when the window saw no request) where Flagger would compare it.
 */
export function singleValue(v: QueryValue, query: string): number {
  let value: number | undefined;
  if (v.type === 'scalar') value = v.value;
  else for (const s of v.series) value = s.value;
  if (value === undefined || Number.isNaN(value)) throw new NoValuesError(query);
  return value;
}

export function vectorOf(v: QueryValue): Series[] {
  return v.type === 'vector' ? v.series : [{ labels: {}, value: v.value }];
}
