import { describe, expect, it } from 'vitest';
import { checkQuery } from '../../../src/canary/checks.js';
import { readCanary } from '../../../src/canary/spec.js';
import { askCanaryChecks } from '../../../src/dashboard/canary-checks.js';
import { canaryView, type CheckAnswer } from '../../../src/dashboard/canary-view.js';
import type { MetricsProvider, QueryValue } from '../../../src/metrics/provider.js';
import { evaluateExpr, type Scrape } from '../../../src/metrics/promql/evaluate.js';
import { parsePromQL } from '../../../src/metrics/promql/parse.js';
import type { KubeObject } from '../../../src/model/objects.js';
import { CATALOG_V1, FakeProxy, WEBAPP, scrapeAll } from './fixtures.js';

const CANARY: KubeObject = {
  apiVersion: 'flagger.app/v1beta1',
  kind: 'Canary',
  metadata: { name: 'catalog-release', namespace: 'istioinaction' },
  spec: {
    targetRef: { name: 'catalog' },
    service: { port: 80 },
    analysis: {
      interval: '45s',
      threshold: 5,
      maxWeight: 50,
      stepWeight: 10,
      metrics: [
        { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '1m' },
        { name: 'request-duration', thresholdRange: { max: 500 }, interval: '30s' },
        { name: 'error-count', templateRef: { name: 'errors', namespace: 'istio-system' }, thresholdRange: { max: 5 }, interval: '1m' },
      ],
    },
  },
  status: { phase: 'Progressing', canaryWeight: 20, failedChecks: 1 },
};

const ERRORS_TEMPLATE: KubeObject = {
  apiVersion: 'flagger.app/v1beta1',
  kind: 'MetricTemplate',
  metadata: { name: 'errors', namespace: 'istio-system' },
  spec: {
    provider: { type: 'prometheus', address: 'http://prometheus.istio-system:9090' },
    query: 'sum(increase(istio_requests_total{reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload="{{ target }}",response_code=~"5.."}[{{ interval }}]))',
  },
};

/** A provider answering from the embedded PromQL evaluator over given scrapes, recording what it was asked. */
class ScrapesProvider implements MetricsProvider {
  readonly name = 'prometheus' as const;
  readonly asked: Array<{ query: string; at?: number }> = [];
  constructor(private readonly history: readonly Scrape[]) {}
  async query(promql: string, at?: number): Promise<QueryValue> {
    this.asked.push({ query: promql, ...(at !== undefined ? { at } : {}) });
    return evaluateExpr(parsePromQL(promql), this.history, at ?? 0);
  }
  refuses(): string | undefined {
    return undefined;
  }
  keepWarm(): void {}
  async close(): Promise<void> {}
}

describe("a canary's checks asked of the metrics provider", () => {
  // Two scrapes 2 s apart (at 45x every check's window, 1.33 s or 0.67 s, starts at the first):
  // 100 requests to catalog in between, 10 of them 500s, each taking 40 ms.
  const proxy = new FakeProxy('catalog-1', CATALOG_V1).received(100, WEBAPP, { name: 'inbound|3000||' });
  const history: Scrape[] = [{ at: 0, samples: scrapeAll(proxy) }];
  proxy.received(90, WEBAPP, { name: 'inbound|3000||' }, { ms: 40 }).received(10, WEBAPP, { name: 'inbound|3000||' }, { code: 500, ms: 40 });
  history.push({ at: 2_000, samples: scrapeAll(proxy) });

  it("sends the controller's rendered queries (time-scaled windows, MetricTemplates from the lab's objects) at one time", async () => {
    const provider = new ScrapesProvider(history);
    const answers = await askCanaryChecks(CANARY, [CANARY, ERRORS_TEMPLATE], provider, 45, 2_000);
    const spec = readCanary(CANARY);
    const lookup = () => ERRORS_TEMPLATE;
    const want = spec.metrics.map((m) => (checkQuery(spec, m, lookup, 45) as { query: string }).query);
    expect(provider.asked.map((a) => a.query)).toEqual(want);
    expect(provider.asked.every((a) => a.at === 2_000)).toBe(true);
    expect(want[0]).toContain('[1333ms]');
    expect(want[1]).toContain('[667ms]');
    expect(want[2]).toContain('destination_workload="catalog"');
    const values = answers.map((a) => ('outcome' in a && 'value' in a.outcome ? a.outcome.value : NaN));
    expect(values[0]).toBeCloseTo(90);
    // p99 of 40 ms requests: within their histogram bucket (25, 50].
    expect(values[1]).toBeGreaterThan(25);
    expect(values[1]).toBeLessThanOrEqual(50);
    // increase() over the 1333 ms window, which the evaluator scales from the 2 s between scrapes.
    expect(values[2]).toBeCloseTo((10 * 1333) / 2000);
  });

  it.each([
    { name: 'a MetricTemplate that is not there', objects: [CANARY], want: /Metric template errors.istio-system error: metrictemplate.flagger.app "errors" not found/ },
    {
      name: 'a MetricTemplate of a provider the lab does not have',
      objects: [CANARY, { ...ERRORS_TEMPLATE, spec: { ...ERRORS_TEMPLATE.spec, provider: { type: 'datadog' } } }],
      want: /provider datadog error: the lab has no datadog/,
    },
  ])("$name is the controller's error, and nothing is sent for it", async ({ objects, want }) => {
    const provider = new ScrapesProvider(history);
    const answers = await askCanaryChecks(CANARY, objects, provider, 45, 2_000);
    expect(provider.asked).toHaveLength(2);
    expect('error' in answers[2]! && answers[2].error).toMatch(want);
  });
});

describe('canary view of the provider answers', () => {
  const SR = 'sum(rate(...)) * 100';
  const at = (value: number): CheckAnswer => ({ query: SR, outcome: { value } });
  it.each<{ name: string; answers: CheckAnswer[]; want: Array<{ value: number; ok: boolean; message?: string }> }>([
    {
      name: 'values within the thresholds pass',
      answers: [at(100), at(41.7), at(0)],
      want: [
        { value: 100, ok: true },
        { value: 41, ok: true },
        { value: 0, ok: true },
      ],
    },
    {
      name: "values beyond them fail with Flagger's messages (request duration in whole ms)",
      answers: [at(90), at(612.7), at(6)],
      want: [
        { value: 90, ok: false, message: 'Halt catalog-release.istioinaction advancement success rate 90.00% < 99%' },
        { value: 612, ok: false, message: 'Halt catalog-release.istioinaction advancement request duration 612ms > 500ms' },
        { value: 6, ok: false, message: 'Halt catalog-release.istioinaction advancement error-count 6.00 > 5' },
      ],
    },
    {
      name: 'no values, a failed query and a check that cannot run have no value and do not pass',
      answers: [{ query: SR, outcome: { noValues: 'no values found' } }, { query: SR, outcome: { failed: 'HTTP 503' } }, { error: 'Metric template errors.istio-system error: not found' }],
      want: [
        { value: NaN, ok: false, message: 'Halt advancement no values found for istio metric request-success-rate probably catalog.istioinaction is not receiving traffic: running query failed: no values found' },
        { value: NaN, ok: false, message: 'Prometheus query failed: HTTP 503' },
        { value: NaN, ok: false, message: 'Metric template errors.istio-system error: not found' },
      ],
    },
    {
      name: 'checks not asked yet',
      answers: [at(100)],
      want: [
        { value: 100, ok: true },
        { value: NaN, ok: false, message: 'not queried yet' },
        { value: NaN, ok: false, message: 'not queried yet' },
      ],
    },
  ])('$name', ({ answers, want }) => {
    const v = canaryView({ canary: CANARY, events: [], answers, provider: 'prometheus', now: 2_000, timeScale: 45 });
    expect(v.checks.map((c) => ({ value: c.value, ok: c.ok, ...(c.message ? { message: c.message } : {}) }))).toEqual(want);
    expect(v.checks.map((c) => [c.name, c.min, c.max])).toEqual([
      ['request-success-rate', 99, undefined],
      ['request-duration', undefined, 500],
      ['error-count', undefined, 5],
    ]);
    expect(v.checks[0]!.windowMs).toBeCloseTo(60_000 / 45);
    expect(v.checks[1]!.windowMs).toBeCloseTo(30_000 / 45);
    expect(v.provider).toBe('prometheus');
    expect([v.phase, v.weight, v.failedChecks, v.threshold, v.maxWeight]).toEqual(['Progressing', 20, 1, 5, 50]);
  });
});
