/**
 * PromQL's semantics as plain functions over two scrapes of the proxies' stats: label matchers,
 * `increase`/`rate` over the window between the scrapes, `sum`, `sum by (le)` and
 * `histogram_quantile` (Prometheus's bucketQuantile). The embedded evaluator (`promql/`) builds on
 * the matchers and the quantile; `requestSuccessRate`/`requestDuration` compute Flagger's builtin
 * Istio checks (fluxcd/flagger pkg/metrics/observers/istio.go) directly, the reference the
 * evaluator's answers to Flagger's own queries are tested against.
 */

import type { PromSample } from './prometheus-text.js';

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  label: string;
  op: MatchOp;
  value: string;
}

/** Regexes are compiled once per matcher object (the controller reuses its matchers every tick). */
const compiled = new WeakMap<LabelMatcher, RegExp>();

function regexOf(m: LabelMatcher): RegExp {
  let re = compiled.get(m);
  if (!re) {
    // PromQL regex matchers are fully anchored.
    re = new RegExp('^(?:' + m.value + ')$');
    compiled.set(m, re);
  }
  return re;
}

/** A missing label matches as the empty string, as in PromQL. */
export function matches(labels: Record<string, string>, matchers: readonly LabelMatcher[]): boolean {
  for (const m of matchers) {
    const v = labels[m.label] ?? '';
    const ok =
      m.op === '=' ? v === m.value
      : m.op === '!=' ? v !== m.value
      : m.op === '=~' ? regexOf(m).test(v)
      : !regexOf(m).test(v);
    if (!ok) return false;
  }
  return true;
}

export function select(samples: readonly PromSample[], name: string, matchers: readonly LabelMatcher[]): PromSample[] {
  return samples.filter((s) => s.name === name && matches(s.labels, matchers));
}

function seriesKey(s: PromSample): string {
  return s.name + JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Per-series counter increase between two scrapes (`increase(x[W])` where W spans the scrapes).
 * A series missing from `before` counts from 0: the registry creates series on their first request,
 * so the counter started inside the window. A value that went down means the proxy restarted, so
 * the whole `after` value is new (Prometheus's counter-reset rule).
 */
export function increase(
  before: readonly PromSample[],
  after: readonly PromSample[],
  name: string,
  matchers: readonly LabelMatcher[],
): PromSample[] {
  const previous = new Map<string, number>();
  for (const s of select(before, name, matchers)) previous.set(seriesKey(s), s.value);
  return select(after, name, matchers).map((s) => {
    const old = previous.get(seriesKey(s)) ?? 0;
    return { name: s.name, labels: s.labels, value: s.value >= old ? s.value - old : s.value };
  });
}

/** `rate(x[W])` with W = the time between the scrapes: increase per second. */
export function rate(
  before: readonly PromSample[],
  after: readonly PromSample[],
  windowSeconds: number,
  name: string,
  matchers: readonly LabelMatcher[],
): PromSample[] {
  return increase(before, after, name, matchers).map((s) => ({ ...s, value: s.value / windowSeconds }));
}

/** `sum(v)`; NaN for an empty vector (Prometheus returns no result, which Flagger treats as no data). */
export function sum(samples: readonly PromSample[]): number {
  if (samples.length === 0) return NaN;
  let total = 0;
  for (const s of samples) total += s.value;
  return total;
}

export interface HistogramBucket {
  /** Upper bound (inclusive); Infinity for `+Inf`. */
  le: number;
  /** Cumulative count. */
  count: number;
}

/** `sum by (le) (v)` over `_bucket` samples. */
export function sumByLe(samples: readonly PromSample[]): HistogramBucket[] {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    const le = parseBound(s.labels.le);
    if (Number.isNaN(le)) continue;
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe].map(([le, count]) => ({ le, count }));
}

function parseBound(text: string | undefined): number {
  if (text === undefined) return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  return Number(text);
}

/**
 * `histogram_quantile(q, buckets)` as Prometheus computes it (promql/quantile.go, bucketQuantile):
 * find the bucket holding rank q*total and interpolate linearly inside it, assuming the lowest
 * bucket starts at 0. Needs a `+Inf` bucket; a rank in the `+Inf` bucket returns the highest finite
 * bound. Non-monotonic counts (from racing scrapes) are raised to the running maximum.
 */
export function histogramQuantile(q: number, buckets: readonly HistogramBucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (buckets.length === 0) return NaN;

  // Sort, and merge buckets with the same bound (e.g. from differently ordered label sets).
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const merged: HistogramBucket[] = [];
  for (const b of sorted) {
    const last = merged[merged.length - 1];
    if (last && last.le === b.le) last.count += b.count;
    else merged.push({ le: b.le, count: b.count });
  }
  if (merged[merged.length - 1].le !== Infinity) return NaN;
  for (let i = 1; i < merged.length; i++) {
    if (merged[i].count < merged[i - 1].count) merged[i].count = merged[i - 1].count;
  }
  if (merged.length < 2) return NaN;

  const observations = merged[merged.length - 1].count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let b = 0;
  while (b < merged.length - 1 && merged[b].count < rank) b++;
  if (b === merged.length - 1) return merged[merged.length - 2].le;
  if (b === 0 && merged[0].le <= 0) return merged[0].le;

  let bucketStart = 0;
  const bucketEnd = merged[b].le;
  let count = merged[b].count;
  if (b > 0) {
    bucketStart = merged[b - 1].le;
    count -= merged[b - 1].count;
    rank -= merged[b - 1].count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

/** Flagger's `{{ namespace }}` / `{{ target }}` (the canary's targetRef name, used as a regex). */
export interface CanaryTarget {
  namespace: string;
  workload: string;
}

/** The selectors Flagger's Istio builtins share: server-side reports for the canary workload. */
export function canaryMatchers(target: CanaryTarget): LabelMatcher[] {
  return [
    { label: 'reporter', op: '=', value: 'destination' },
    { label: 'destination_workload_namespace', op: '=', value: target.namespace },
    { label: 'destination_workload', op: '=~', value: target.workload },
  ];
}

const NOT_5XX: LabelMatcher = { label: 'response_code', op: '!~', value: '5.*' };

/**
 * Flagger `request-success-rate`: percent of non-5xx requests between two scrapes. The window
 * cancels out of the rate ratio, so deltas suffice. NaN = no data ("no values found").
 */
export function requestSuccessRate(
  before: readonly PromSample[],
  after: readonly PromSample[],
  target: CanaryTarget,
): number {
  const all = canaryMatchers(target);
  const ok = sum(increase(before, after, 'istio_requests_total', [...all, NOT_5XX]));
  const total = sum(increase(before, after, 'istio_requests_total', all));
  // Like Prometheus, an empty numerator (no non-5xx series ever) is no result, not 0%.
  return (100 * ok) / total;
}

/**
 * Flagger `request-duration`: the q-quantile (default p99) of request duration in ms between two
 * scrapes. Rates would divide every bucket by the same window, so deltas give the same quantile.
 */
export function requestDuration(
  before: readonly PromSample[],
  after: readonly PromSample[],
  target: CanaryTarget,
  q = 0.99,
): number {
  const deltas = increase(before, after, 'istio_request_duration_milliseconds_bucket', canaryMatchers(target));
  return histogramQuantile(q, sumByLe(deltas));
}
