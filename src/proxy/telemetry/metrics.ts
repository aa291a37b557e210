/**
 * A tiny Prometheus registry holding exactly Istio's standard HTTP metrics, exposed by the proxy's
 * stats endpoint in the text format 0.0.4 (what Prometheus, and later the lab's canary controller,
 * scrape).
 *
 * Hot path: `seriesFor(base, code, flags).observe(...)` allocates nothing once the series exists
 * (nested Map lookups on a pre-built, frozen base label object). `record(labels, ...)` costs one
 * key string per call. Labels are read by value, never by object identity, except for the base
 * objects `seriesFor` keys on, which `istioBaseLabels` freezes.
 */

import {
  ISTIO_LABEL_NAMES,
  type IstioBaseLabels,
  type IstioRequestLabels,
  istioRequestLabels,
} from './istio-labels.js';

/** Envoy's default histogram buckets (ms for durations, bytes for sizes); `+Inf` is implicit. */
export const ENVOY_DEFAULT_BUCKETS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000,
  1800000, 3600000,
];

/** Rendered once per bucket list, not per scrape line. */
const BUCKET_LE = [...ENVOY_DEFAULT_BUCKETS.map((b) => String(b)), '+Inf'];

/** Per-bucket (non-cumulative) counts; the exposition makes them cumulative. */
class HistogramData {
  /** Index i counts values in (bound[i-1], bound[i]]; the last slot is the +Inf overflow. */
  readonly counts = new Float64Array(ENVOY_DEFAULT_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  observe(value: number): void {
    const bounds = ENVOY_DEFAULT_BUCKETS;
    let i = 0;
    // `le` is inclusive: a value equal to a bound belongs to that bound's bucket.
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

/** One distinct label set: its request counter and its three histograms. */
export class IstioRequestSeries {
  requests = 0;
  readonly duration = new HistogramData();
  readonly requestBytes = new HistogramData();
  readonly responseBytes = new HistogramData();
  /** `reporter="source",...` pre-rendered for the exposition. */
  readonly labelText: string;

  constructor(readonly labels: Readonly<IstioRequestLabels>) {
    this.labelText = ISTIO_LABEL_NAMES.map((n) => n + '="' + escapeLabelValue(labels[n]) + '"').join(',');
  }

  observe(durationMs: number, requestBytes: number, responseBytes: number): void {
    this.requests++;
    this.duration.observe(durationMs);
    this.requestBytes.observe(requestBytes);
    this.responseBytes.observe(responseBytes);
  }
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelKey(labels: IstioRequestLabels): string {
  let key = labels[ISTIO_LABEL_NAMES[0]];
  for (let i = 1; i < ISTIO_LABEL_NAMES.length; i++) key += '\u0001' + labels[ISTIO_LABEL_NAMES[i]];
  return key;
}

const HISTOGRAMS = [
  ['istio_request_duration_milliseconds', 'Request duration in milliseconds.', 'duration'],
  ['istio_request_bytes', 'Request sizes in bytes.', 'requestBytes'],
  ['istio_response_bytes', 'Response sizes in bytes.', 'responseBytes'],
] as const;

export class IstioMetrics {
  private readonly byKey = new Map<string, IstioRequestSeries>();
  private readonly byBase = new WeakMap<IstioBaseLabels, Map<number, Map<string, IstioRequestSeries>>>();

  /** Counts one request under `labels`. */
  record(labels: IstioRequestLabels, durationMs: number, requestBytes: number, responseBytes: number): void {
    this.series(labels).observe(durationMs, requestBytes, responseBytes);
  }

  /** The series for a full label set, created on first use. */
  series(labels: IstioRequestLabels): IstioRequestSeries {
    const key = labelKey(labels);
    let s = this.byKey.get(key);
    if (!s) {
      // Copy so a caller mutating its object later cannot change an existing series' identity.
      s = new IstioRequestSeries({ ...labels });
      this.byKey.set(key, s);
    }
    return s;
  }

  /**
   * The series for a pre-built base label set plus the response; allocation-free once it exists.
   * Keep `base` (e.g. per cluster) and call this per request.
   */
  seriesFor(base: IstioBaseLabels, responseCode: number, responseFlags: string): IstioRequestSeries {
    let byCode = this.byBase.get(base);
    if (!byCode) this.byBase.set(base, (byCode = new Map()));
    let byFlags = byCode.get(responseCode);
    if (!byFlags) byCode.set(responseCode, (byFlags = new Map()));
    let s = byFlags.get(responseFlags);
    if (!s) {
      s = this.series(istioRequestLabels(base, responseCode, responseFlags));
      byFlags.set(responseFlags, s);
    }
    return s;
  }

  /** All series, in creation order. */
  allSeries(): IterableIterator<IstioRequestSeries> {
    return this.byKey.values();
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const out: string[] = [];
    out.push('# HELP istio_requests_total Total number of requests.');
    out.push('# TYPE istio_requests_total counter');
    for (const s of this.byKey.values()) out.push('istio_requests_total{' + s.labelText + '} ' + s.requests);
    for (const [name, help, field] of HISTOGRAMS) {
      out.push('# HELP ' + name + ' ' + help);
      out.push('# TYPE ' + name + ' histogram');
      for (const s of this.byKey.values()) {
        const h = s[field];
        let cumulative = 0;
        for (let i = 0; i < h.counts.length; i++) {
          cumulative += h.counts[i];
          out.push(name + '_bucket{' + s.labelText + ',le="' + BUCKET_LE[i] + '"} ' + cumulative);
        }
        out.push(name + '_sum{' + s.labelText + '} ' + h.sum);
        out.push(name + '_count{' + s.labelText + '} ' + h.count);
      }
    }
    return out.join('\n') + '\n';
  }
}
