import { describe, expect, it } from 'vitest';
import { istioBaseLabels } from '../../../src/proxy/telemetry/istio-labels.js';
import { IstioMetrics } from '../../../src/proxy/telemetry/metrics.js';
import { parsePrometheusText, type PromSample } from '../../../src/metrics/prometheus-text.js';
import {
  histogramQuantile,
  increase,
  matches,
  rate,
  requestDuration,
  requestSuccessRate,
  sum,
  sumByLe,
} from '../../../src/metrics/promql-lite.js';

const INF = Infinity;

describe('histogramQuantile', () => {
  // 100 observations: 10 in (0,10], 50 in (10,25], 30 in (25,50], 10 in (50,100].
  const buckets = [
    { le: 25, count: 60 },
    { le: 10, count: 10 },
    { le: INF, count: 100 },
    { le: 50, count: 90 },
    { le: 100, count: 100 },
  ];

  it('interpolates linearly inside the bucket holding the rank', () => {
    expect(histogramQuantile(0.05, buckets)).toBe(5); // rank 5 in (0,10]: 0 + 10 * 5/10
    expect(histogramQuantile(0.5, buckets)).toBe(22); // rank 50: 10 + 15 * (50-10)/50
    expect(histogramQuantile(0.99, buckets)).toBeCloseTo(95, 10); // rank 99: 50 + 50 * 9/10
    expect(histogramQuantile(1, buckets)).toBe(100);
    expect(histogramQuantile(0, buckets)).toBe(0);
  });

  it('returns the highest finite bound when the rank falls in +Inf', () => {
    expect(histogramQuantile(0.99, [{ le: 10, count: 0 }, { le: INF, count: 5 }])).toBe(10);
  });

  it('follows Prometheus for edge inputs', () => {
    expect(histogramQuantile(-0.1, buckets)).toBe(-INF);
    expect(histogramQuantile(1.1, buckets)).toBe(INF);
    expect(histogramQuantile(NaN, buckets)).toBeNaN();
    expect(histogramQuantile(0.5, [])).toBeNaN();
    expect(histogramQuantile(0.5, [{ le: 10, count: 3 }])).toBeNaN(); // no +Inf bucket
    expect(histogramQuantile(0.5, [{ le: INF, count: 3 }])).toBeNaN(); // fewer than 2 buckets
    expect(histogramQuantile(0.5, [{ le: 10, count: 0 }, { le: INF, count: 0 }])).toBeNaN();
  });

  it('repairs non-monotonic counts and merges equal bounds', () => {
    // 5, 3, 10 -> 5, 5, 10; rank 5 lands in (0,10] with count 5.
    const fixed = [{ le: 10, count: 5 }, { le: 20, count: 3 }, { le: INF, count: 10 }];
    expect(histogramQuantile(0.5, fixed)).toBe(10);
    const split = [{ le: 10, count: 2 }, { le: 10, count: 2 }, { le: INF, count: 4 }, { le: INF, count: 4 }];
    expect(histogramQuantile(0.25, split)).toBe(5);
  });
});

describe('matchers', () => {
  it('anchors regexes and treats a missing label as empty', () => {
    const labels = { destination_workload: 'catalog-primary', response_code: '503' };
    expect(matches(labels, [{ label: 'destination_workload', op: '=~', value: 'catalog' }])).toBe(false);
    expect(matches(labels, [{ label: 'destination_workload', op: '=~', value: 'catalog.*' }])).toBe(true);
    expect(matches(labels, [{ label: 'response_code', op: '!~', value: '5.*' }])).toBe(false);
    expect(matches(labels, [{ label: 'missing', op: '=', value: '' }])).toBe(true);
    expect(matches(labels, [{ label: 'missing', op: '!=', value: 'x' }])).toBe(true);
  });
});

const counter = (code: string, value: number, workload = 'catalog'): PromSample => ({
  name: 'istio_requests_total',
  labels: {
    reporter: 'destination',
    destination_workload_namespace: 'istioinaction',
    destination_workload: workload,
    response_code: code,
  },
  value,
});

describe('increase and rate between two scrapes', () => {
  it('is the delta, from 0 for new series, and the whole value after a reset', () => {
    const before = [counter('200', 10), counter('500', 7)];
    const after = [counter('200', 40), counter('500', 2), counter('404', 3)];
    const deltas = increase(before, after, 'istio_requests_total', []);
    expect(deltas.map((d) => [d.labels.response_code, d.value])).toEqual([
      ['200', 30],
      ['500', 2],
      ['404', 3],
    ]);
    expect(sum(rate(before, after, 10, 'istio_requests_total', []))).toBe(3.5);
    expect(sum([])).toBeNaN();
  });
});

describe('requestSuccessRate', () => {
  const target = { namespace: 'istioinaction', workload: 'catalog' };

  it('is 100 * non-5xx / all for the canary workload only', () => {
    const before = [counter('200', 100), counter('500', 10), counter('500', 50, 'catalog-primary')];
    const after = [counter('200', 190), counter('500', 20), counter('500', 900, 'catalog-primary')];
    // 90 ok out of 100 new requests; the primary's failures are not the canary's.
    expect(requestSuccessRate(before, after, target)).toBe(90);
  });

  it('is NaN without traffic (Flagger: no values found)', () => {
    expect(requestSuccessRate([], [], target)).toBeNaN();
    expect(requestSuccessRate([counter('200', 5)], [counter('200', 5)], target)).toBeNaN();
    expect(requestSuccessRate([], [counter('500', 4)], target)).toBeNaN();
  });
});

describe('requestDuration from real scrapes of IstioMetrics', () => {
  it('computes p99 over the requests between two scrapes', () => {
    const m = new IstioMetrics();
    const base = istioBaseLabels({
      reporter: 'destination',
      destination: { workload: 'catalog', namespace: 'istioinaction', labels: { app: 'catalog' } },
    });
    const series = m.seriesFor(base, 200, '-');
    for (let i = 0; i < 50; i++) series.observe(3000, 0, 0); // before the window: slow
    const before = parsePrometheusText(m.render());
    for (let i = 0; i < 100; i++) series.observe(i < 90 ? 7 : 40, 0, 0); // 90 in (5,10], 10 in (25,50]
    m.seriesFor(base, 503, 'UH').observe(2, 0, 0); // one more request, in (1,5]
    const after = parsePrometheusText(m.render());

    const target = { namespace: 'istioinaction', workload: 'catalog' };
    // 101 observations: rank 99.99 falls in (25,50] whose cumulative range is 91..101.
    expect(requestDuration(before, after, target)).toBeCloseTo(25 + 25 * ((99.99 - 91) / 10), 10);
    expect(requestDuration(before, after, target, 0.5)).toBeCloseTo(5 + 5 * ((50.5 - 1) / 90), 10);
    expect(requestSuccessRate(before, after, target)).toBeCloseTo((100 * 100) / 101, 10);
    expect(sumByLe(increase(before, after, 'istio_request_duration_milliseconds_bucket', []))).toHaveLength(20);
    expect(requestDuration(after, after, target)).toBeNaN();
  });
});
