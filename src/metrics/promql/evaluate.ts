/**
 * Evaluates a parsed PromQL expression at one instant over a history of scrapes (each scrape: every
 * proxy's stats at one moment). Prometheus keeps samples per series and extrapolates `rate` to the
 * window's edges; here a window is the span between two whole scrapes, which gives the same ratios
 * and quantiles (the window cancels out of them) and rates within a scrape interval of Prometheus's.
 */
import type { PromSample } from '../prometheus-text.js';
import { histogramQuantile, matches, type HistogramBucket } from '../promql-lite.js';
import { PromQLError, type AggregateOp, type BinaryOp, type Expr } from './parse.js';

export interface Scrape {
  /** When the scrape was taken, ms since the epoch. */
  at: number;
  samples: readonly PromSample[];
}

export interface Series {
  labels: Record<string, string>;
  value: number;
}

export type QueryValue = { type: 'scalar'; value: number } | { type: 'vector'; series: Series[] };

/** Prometheus's default lookback: an instant selector sees samples at most this old. */
const LOOKBACK_MS = 5 * 60_000;

interface Ctx {
  /** Sorted by time, oldest first. */
  history: readonly Scrape[];
  at: number;
}

export function evaluateExpr(expr: Expr, history: readonly Scrape[], at: number): QueryValue {
  return evalNode(expr, { history, at });
}

function newestAtOrBefore(history: readonly Scrape[], t: number): Scrape | undefined {
  let found: Scrape | undefined;
  for (const s of history) {
    if (s.at <= t) found = s;
    else break;
  }
  return found;
}

function seriesKey(name: string, labels: Record<string, string>): string {
  return name + JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function labelKey(labels: Record<string, string>): string {
  return seriesKey('', labels);
}

function evalNode(e: Expr, c: Ctx): QueryValue {
  switch (e.kind) {
    case 'number':
      return { type: 'scalar', value: e.value };
    case 'negate': {
      const v = evalNode(e.expr, c);
      return v.type === 'scalar' ? { type: 'scalar', value: -v.value } : { type: 'vector', series: v.series.map((s) => ({ labels: s.labels, value: -s.value })) };
    }
    case 'selector': {
      if (e.rangeMs !== undefined) throw new PromQLError('a range vector can only be an argument of rate() or increase()');
      const scrape = newestAtOrBefore(c.history, c.at);
      if (!scrape || c.at - scrape.at > LOOKBACK_MS) return { type: 'vector', series: [] };
      // Selectors keep the metric name (as __name__) so that `a / b` of two metrics matches on labels only.
      return { type: 'vector', series: scrape.samples.filter((s) => s.name === e.name && matches(s.labels, e.matchers)).map((s) => ({ labels: { ...s.labels, __name__: s.name }, value: s.value })) };
    }
    case 'call':
      return evalCall(e.fn, e.args, c);
    case 'aggregate':
      return { type: 'vector', series: aggregate(e.op, e.grouping, vectorOf(evalNode(e.expr, c), e.op)) };
    case 'binary':
      return binary(e.op, evalNode(e.lhs, c), evalNode(e.rhs, c));
  }
}

function vectorOf(v: QueryValue, where: string): Series[] {
  if (v.type !== 'vector') throw new PromQLError(`${where}: expected an instant vector, got a scalar`);
  return v.series;
}

function dropName(labels: Record<string, string>): Record<string, string> {
  if (!('__name__' in labels)) return labels;
  const { __name__: _, ...rest } = labels;
  return rest;
}

/**
 * `rate`/`increase` over `[range]` ending at `at`: the counter's change from the scrape that opens
 * the window (the newest at least `range` old; else the oldest there is) to the newest scrape. A
 * series missing from the opening scrape counts from 0: proxies create a series on its first
 * request, so it started inside the window. A counter that went down restarted (Prometheus's reset
 * rule): all of its current value is new. With a single scrape, every counter counts from 0.
 */
function windowDelta(sel: Extract<Expr, { kind: 'selector' }>, c: Ctx): { series: Series[]; seconds: number } {
  const range = sel.rangeMs!;
  const end = newestAtOrBefore(c.history, c.at);
  if (!end) return { series: [], seconds: range / 1000 };
  let start = newestAtOrBefore(c.history, c.at - range);
  if (!start || start === end) start = c.history[0] !== end ? c.history[0] : undefined;
  const previous = new Map<string, number>();
  for (const s of start?.samples ?? []) if (s.name === sel.name && matches(s.labels, sel.matchers)) previous.set(seriesKey(s.name, s.labels), s.value);
  const series = end.samples
    .filter((s) => s.name === sel.name && matches(s.labels, sel.matchers))
    .map((s) => {
      const old = previous.get(seriesKey(s.name, s.labels)) ?? 0;
      return { labels: s.labels, value: s.value >= old ? s.value - old : s.value };
    });
  return { series, seconds: start ? (end.at - start.at) / 1000 : range / 1000 };
}

function evalCall(fn: string, args: Expr[], c: Ctx): QueryValue {
  switch (fn) {
    case 'rate':
    case 'increase': {
      const sel = args[0] as Extract<Expr, { kind: 'selector' }>;
      const { series, seconds } = windowDelta(sel, c);
      const rangeSeconds = sel.rangeMs! / 1000;
      // increase() is the rate over the whole range, as Prometheus extrapolates it.
      const factor = fn === 'rate' ? 1 / seconds : rangeSeconds / seconds;
      return { type: 'vector', series: series.map((s) => ({ labels: s.labels, value: s.value * factor })) };
    }
    case 'histogram_quantile': {
      const q = evalNode(args[0]!, c);
      if (q.type !== 'scalar') throw new PromQLError('histogram_quantile(): the first argument must be a scalar');
      const groups = new Map<string, { labels: Record<string, string>; buckets: HistogramBucket[] }>();
      for (const s of vectorOf(evalNode(args[1]!, c), 'histogram_quantile()')) {
        const le = s.labels.le;
        if (le === undefined) continue;
        const { le: _, ...rest } = dropName(s.labels);
        const key = labelKey(rest);
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { labels: rest, buckets: [] }));
        g.buckets.push({ le: le === '+Inf' || le === 'Inf' ? Infinity : Number(le), count: s.value });
      }
      return { type: 'vector', series: [...groups.values()].map((g) => ({ labels: g.labels, value: histogramQuantile(q.value, g.buckets) })) };
    }
    case 'vector': {
      const v = evalNode(args[0]!, c);
      if (v.type !== 'scalar') throw new PromQLError('vector(): the argument must be a scalar');
      return { type: 'vector', series: [{ labels: {}, value: v.value }] };
    }
    case 'abs':
      return { type: 'vector', series: vectorOf(evalNode(args[0]!, c), 'abs()').map((s) => ({ labels: dropName(s.labels), value: Math.abs(s.value) })) };
    default:
      throw new PromQLError(`function ${fn}() is not supported by the embedded evaluator`);
  }
}

function aggregate(op: AggregateOp, grouping: { mode: 'by' | 'without'; labels: string[] } | undefined, input: Series[]): Series[] {
  const groups = new Map<string, { labels: Record<string, string>; values: number[] }>();
  for (const s of input) {
    let labels: Record<string, string>;
    if (!grouping) labels = {};
    else if (grouping.mode === 'by') {
      labels = {};
      for (const l of grouping.labels) if (s.labels[l] !== undefined && s.labels[l] !== '') labels[l] = s.labels[l]!;
    } else {
      labels = { ...dropName(s.labels) };
      for (const l of grouping.labels) delete labels[l];
    }
    const key = labelKey(labels);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { labels, values: [] }));
    g.values.push(s.value);
  }
  return [...groups.values()].map((g) => ({ labels: g.labels, value: reduce(op, g.values) }));
}

function reduce(op: AggregateOp, values: number[]): number {
  switch (op) {
    case 'sum':
      return values.reduce((a, b) => a + b, 0);
    case 'avg':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'min':
      return values.reduce((a, b) => (Number.isNaN(a) || b < a ? b : a));
    case 'max':
      return values.reduce((a, b) => (Number.isNaN(a) || b > a ? b : a));
    case 'count':
      return values.length;
  }
}

function arith(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '%':
      return a % b;
  }
}

/** Arithmetic: scalar-scalar, vector-scalar, and one-to-one matching of two vectors on all labels. */
function binary(op: BinaryOp, l: QueryValue, r: QueryValue): QueryValue {
  if (l.type === 'scalar' && r.type === 'scalar') return { type: 'scalar', value: arith(op, l.value, r.value) };
  if (l.type === 'vector' && r.type === 'scalar') return { type: 'vector', series: l.series.map((s) => ({ labels: dropName(s.labels), value: arith(op, s.value, r.value) })) };
  if (l.type === 'scalar' && r.type === 'vector') return { type: 'vector', series: r.series.map((s) => ({ labels: dropName(s.labels), value: arith(op, l.value, s.value) })) };
  const right = new Map<string, Series>();
  for (const s of (r as { series: Series[] }).series) {
    const key = labelKey(dropName(s.labels));
    if (right.has(key)) throw new PromQLError(`found duplicate series for the match group ${key} on the right-hand side of "${op}" (many-to-one matching is not supported)`);
    right.set(key, s);
  }
  const out: Series[] = [];
  const seen = new Set<string>();
  for (const s of (l as { series: Series[] }).series) {
    const labels = dropName(s.labels);
    const key = labelKey(labels);
    if (seen.has(key)) throw new PromQLError(`found duplicate series for the match group ${key} on the left-hand side of "${op}" (many-to-one matching is not supported)`);
    seen.add(key);
    const other = right.get(key);
    if (other) out.push({ labels, value: arith(op, s.value, other.value) });
  }
  return { type: 'vector', series: out };
}
