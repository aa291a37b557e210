/**
 * The embedded evaluator: parsing (and refusing) PromQL, evaluating it over scrapes, and Flagger's
 * builtin queries giving the same values as the direct functions they replaced.
 */
import { describe, expect, it } from 'vitest';
import { istioBaseLabels } from '../../../src/proxy/telemetry/istio-labels.js';
import { IstioMetrics } from '../../../src/proxy/telemetry/metrics.js';
import { parsePrometheusText, type PromSample } from '../../../src/metrics/prometheus-text.js';
import { requestDuration, requestSuccessRate } from '../../../src/metrics/promql-lite.js';
import { parsePromQL, parsePromDuration } from '../../../src/metrics/promql/parse.js';
import { evaluateExpr, type Scrape } from '../../../src/metrics/promql/evaluate.js';
import { BUILTIN_QUERIES, renderInterval, renderQuery, type TemplateModel } from '../../../src/metrics/flagger-queries.js';
import { NoValuesError, singleValue } from '../../../src/metrics/provider.js';

const model: TemplateModel = { name: 'catalog-release', namespace: 'istioinaction', target: 'catalog', service: 'catalog', ingress: '', interval: '1m', variables: { code: '404' } };

const run = (q: string, history: Scrape[], at: number) => evaluateExpr(parsePromQL(q), history, at);
const value = (q: string, history: Scrape[], at: number) => singleValue(run(q, history, at), q);

describe('parsePromQL', () => {
  it.each([
    'sum(rate(istio_requests_total{reporter="destination",response_code!~"5.*"}[1m])) / sum(rate(istio_requests_total[1m])) * 100',
    'histogram_quantile(0.99, sum(rate(x_bucket{a=~"b"}[30s])) by (le))',
    'histogram_quantile(0.9, sum by (le, pod) (rate(x_bucket[1333ms])))',
    '100 - sum(increase(x{code!="404"}[1m30s])) / sum(increase(x[1m30s])) * 100',
    '-vector(1) + 2 % 3',
    'avg without (pod) (x) - min(x) + max(x) + count(x) + abs(x)',
    '{__name__="x", a=\'b\'}',
  ])('parses %s', (q) => {
    expect(() => parsePromQL(q)).not.toThrow();
  });

  it.each([
    ['sum(x) > 1', /comparison ">"/],
    ['x and y', /"and".*not supported/],
    ['sum(x) by (a) or vector(0)', /"or".*not supported/],
    ['irate(x[1m])', /function irate\(\).*not supported/],
    ['topk(3, x)', /"topk".*not supported/],
    ['rate(x)', /needs a range vector/],
    ['x[1m]', /range vector/],
    ['rate(x[5m:1m])', /subqueries/],
    ['x offset 5m', /"offset".*not supported/],
    ['sum(rate(x{a=~"("}[1m]))', /bad regex/],
    ['sum(rate(x{a=b}[1m]))', /quoted label value/],
    ['{a="b"}', /metric name/],
    ['sum(x', /expected "\)"/],
  ])('refuses %s', (q, why) => {
    expect(() => parsePromQL(q)).toThrow(why);
  });

  it('reads PromQL durations', () => {
    expect(parsePromDuration('1m30s')).toBe(90_000);
    expect(parsePromDuration('1333ms')).toBe(1333);
    expect(parsePromDuration('1x')).toBeUndefined();
  });
});

describe('renderQuery (Flagger template functions)', () => {
  it('renders the model and variables, trims with {{- -}}', () => {
    expect(renderQuery('{{ namespace }}/{{target}} {{ interval }} {{ variables.code }} {{ variables.nope }}', model)).toBe('istioinaction/catalog 1m 404 <no value>');
    expect(renderQuery('a  {{- name -}}  b', model)).toBe('acatalog-releaseb');
  });
  it('refuses what it does not implement, as Go does', () => {
    expect(() => renderQuery('{{ foo }}', model)).toThrow(/function "foo" not defined/);
    expect(() => renderQuery('{{ if target }}x{{ end }}', model)).toThrow(/not supported/);
    expect(() => renderQuery('{{ target ', model)).toThrow(/unclosed/);
  });
  it('scales the interval with the lab’s time scale', () => {
    expect(renderInterval('1m', 60_000, 1)).toBe('1m');
    expect(renderInterval('1m', 60_000, 45)).toBe('1333ms');
  });
});

const counter = (code: string, value: number, workload = 'catalog', pod = 'catalog-1'): PromSample => ({
  name: 'istio_requests_total',
  labels: { reporter: 'destination', destination_workload_namespace: 'istioinaction', destination_workload: workload, response_code: code, pod },
  value,
});

describe('evaluate over scrapes', () => {
  const t0 = 1_000_000;
  const history: Scrape[] = [
    { at: t0, samples: [counter('200', 10), counter('500', 7)] },
    { at: t0 + 30_000, samples: [counter('200', 20), counter('500', 7)] },
    { at: t0 + 60_000, samples: [counter('200', 40), counter('500', 2), counter('404', 3)] },
  ];

  it('rate/increase span from the newest scrape at least the range old; new series from 0; resets', () => {
    // 200: +30, 500: reset -> 2, 404: new -> 3, over 60 s.
    expect(value('sum(increase(istio_requests_total[1m]))', history, t0 + 60_000)).toBe(35);
    expect(value('sum(rate(istio_requests_total[1m]))', history, t0 + 60_000)).toBeCloseTo(35 / 60, 12);
    // A 30 s range opens at the middle scrape.
    expect(value('sum(increase(istio_requests_total{response_code="200"}[30s]))', history, t0 + 60_000)).toBe(20);
    // Not enough history: the oldest scrape opens it, and increase extrapolates to the range.
    expect(value('sum(increase(istio_requests_total{response_code="200"}[2m]))', history, t0 + 60_000)).toBe(60);
  });

  it('groups with by/without, matches vectors one-to-one, drops the metric name', () => {
    const r = run('sum by (response_code) (istio_requests_total)', history, t0 + 60_000);
    expect(r).toEqual({ type: 'vector', series: [{ labels: { response_code: '200' }, value: 40 }, { labels: { response_code: '500' }, value: 2 }, { labels: { response_code: '404' }, value: 3 }] });
    const ratio = run('sum by (response_code) (istio_requests_total) / sum by (response_code) (istio_requests_total)', history, t0 + 60_000);
    expect(ratio.type === 'vector' && ratio.series.every((s) => s.value === 1)).toBe(true);
    expect(run('count without (pod, response_code) (istio_requests_total)', history, t0 + 60_000)).toMatchObject({ series: [{ value: 3 }] });
    expect(() => run('istio_requests_total / sum(istio_requests_total)', history, t0 + 60_000)).not.toThrow();
    expect(run('istio_requests_total / sum(istio_requests_total)', history, t0 + 60_000)).toEqual({ type: 'vector', series: [] });
  });

  it('gives Flagger no values for an empty result or NaN', () => {
    const q = renderQuery(BUILTIN_QUERIES['request-success-rate']!, model);
    expect(() => value(q, [], t0)).toThrow(NoValuesError);
    // Series exist but saw no request in the window: 0/0.
    const idle: Scrape[] = [{ at: t0, samples: [counter('200', 5)] }, { at: t0 + 60_000, samples: [counter('200', 5)] }];
    expect(() => value(q, idle, t0 + 60_000)).toThrow(NoValuesError);
    expect(value('vector(1)', [], t0)).toBe(1);
    expect(value('2 * 3', [], t0)).toBe(6);
  });
});

describe('Flagger builtin queries equal the direct computation', () => {
  it('success rate and p99 from real IstioMetrics scrapes', () => {
    const m = new IstioMetrics();
    const base = istioBaseLabels({ reporter: 'destination', destination: { workload: 'catalog', namespace: 'istioinaction', labels: { app: 'catalog' } } });
    const primary = istioBaseLabels({ reporter: 'destination', destination: { workload: 'catalog-primary', namespace: 'istioinaction', labels: { app: 'catalog' } } });
    const series = m.seriesFor(base, 200, '-');
    for (let i = 0; i < 50; i++) series.observe(3000, 0, 0);
    m.seriesFor(primary, 500, '-').observe(1, 0, 0);
    const before = parsePrometheusText(m.render());
    for (let i = 0; i < 100; i++) series.observe(i < 90 ? 7 : 40, 0, 0);
    m.seriesFor(base, 503, 'UH').observe(2, 0, 0);
    for (let i = 0; i < 30; i++) m.seriesFor(primary, 500, '-').observe(900, 0, 0);
    const after = parsePrometheusText(m.render());
    const history: Scrape[] = [{ at: 0, samples: before }, { at: 60_000, samples: after }];
    const target = { namespace: 'istioinaction', workload: 'catalog' };
    const sr = value(renderQuery(BUILTIN_QUERIES['request-success-rate']!, model), history, 60_000);
    const p99 = value(renderQuery(BUILTIN_QUERIES['request-duration']!, model), history, 60_000);
    expect(sr).toBeCloseTo(requestSuccessRate(before, after, target), 10);
    expect(sr).toBeCloseTo((100 * 100) / 101, 10);
    expect(p99).toBeCloseTo(requestDuration(before, after, target), 10);
    expect(p99).toBeCloseTo(25 + 25 * ((99.99 - 91) / 10), 10);
  });
});
