/**
 * Metric checks as Flagger runs them: which PromQL a check sends (builtin or MetricTemplate,
 * rendered with Flagger's model), Flagger's messages, and the refusal at apply of queries the
 * current provider cannot run.
 */
import { describe, expect, it } from 'vitest';
import { checkQuery, judge, runCheck } from '../../../src/canary/checks.js';
import { checkMetricQueries } from '../../../src/canary/metric-admission.js';
import { readCanary } from '../../../src/canary/spec.js';
import { EmbeddedProvider } from '../../../src/metrics/embedded.js';
import type { MetricsProvider } from '../../../src/metrics/provider.js';
import type { KubeObject } from '../../../src/model/objects.js';
import { ObjectStore } from '../../../src/store/store.js';
import { objects } from '../../helpers/sim.js';

const [canaryObj, template, datadog] = objects(`
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: { name: catalog-release }
spec:
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: catalog }
  service: { port: 80 }
  analysis:
    interval: 45s
    threshold: 5
    stepWeight: 10
    metrics:
    - { name: request-success-rate, thresholdRange: { min: 99 }, interval: 1m }
    - name: not-found-percentage
      templateRef: { name: not-found-percentage, namespace: istio-system }
      templateVariables: { code: "404" }
      thresholdRange: { max: 5 }
      interval: 30s
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: { name: not-found-percentage, namespace: istio-system }
spec:
  provider: { type: prometheus, address: "http://prometheus.istio-system:9090" }
  query: |
    100 - sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload="{{ target }}",response_code!="{{ variables.code }}"}[{{ interval }}]))
    / sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload="{{ target }}"}[{{ interval }}])) * 100
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: { name: dd }
spec:
  provider: { type: datadog }
  query: avg:requests{*}
`) as [KubeObject, KubeObject, KubeObject];
const spec = readCanary(canaryObj);
const [successRate, notFound] = spec.metrics as [typeof spec.metrics[0], typeof spec.metrics[0]];
const lookup = (ns: string, name: string) => (ns === 'istio-system' && name === 'not-found-percentage' ? template : undefined);

describe('checkQuery', () => {
  it('renders Flagger’s builtin query with the scaled interval', () => {
    const q = checkQuery(spec, successRate, lookup, 45);
    expect('query' in q && q.query).toContain('destination_workload_namespace="istioinaction",destination_workload=~"catalog",response_code!~"5.*"}[1333ms]');
  });

  it('renders a MetricTemplate with the canary’s model and templateVariables', () => {
    const q = checkQuery(spec, notFound, lookup, 1);
    expect('query' in q && q.query).toContain('destination_workload="catalog",response_code!="404"}[30s]');
  });

  it('reports a missing template, another provider type, a template that does not render', () => {
    expect(checkQuery(spec, notFound, () => undefined, 1)).toEqual({ error: 'Metric template not-found-percentage.istio-system error: metrictemplate.flagger.app "not-found-percentage" not found' });
    expect(checkQuery(spec, notFound, () => datadog, 1)).toMatchObject({ error: expect.stringMatching(/provider datadog error/) });
    const broken = { ...template, spec: { provider: { type: 'prometheus' }, query: '{{ nope }}' } };
    expect(checkQuery(spec, notFound, () => broken, 1)).toMatchObject({ error: expect.stringMatching(/query render error: template: function "nope" not defined/) });
  });
});

describe('judge (Flagger’s messages)', () => {
  it('custom metrics: value with two decimals against the range; no values', () => {
    expect(judge(spec, notFound, { value: 7.5 })).toEqual({ name: 'not-found-percentage', value: 7.5, ok: false, message: 'Halt catalog-release.istioinaction advancement not-found-percentage 7.50 > 5' });
    expect(judge(spec, notFound, { value: 2 }).ok).toBe(true);
    expect(judge(spec, notFound, { noValues: 'x' }).message).toBe('Halt advancement no values found for custom metric: not-found-percentage: no values found');
    expect(judge(spec, notFound, { failed: 'error response: bad_data: parse error' }).message).toBe('Metric query failed for not-found-percentage: error response: bad_data: parse error');
  });
  it('builtin: Flagger’s success-rate wording and its query-failure event', () => {
    expect(judge(spec, successRate, { value: 50 }).message).toBe('Halt catalog-release.istioinaction advancement success rate 50.00% < 99%');
    expect(judge(spec, successRate, { failed: 'request failed: ECONNREFUSED' }).message).toBe('Prometheus query failed: request failed: ECONNREFUSED');
  });
});

describe('runCheck through a provider', () => {
  it('sends the rendered query and judges the last series’ value', async () => {
    const sent: string[] = [];
    const provider: MetricsProvider = {
      name: 'prometheus',
      query: async (q) => {
        sent.push(q);
        return { type: 'vector', series: [{ labels: {}, value: 12 }] };
      },
      refuses: () => undefined,
      keepWarm: () => undefined,
      close: async () => undefined,
    };
    expect(await runCheck(spec, notFound, provider, lookup, 1)).toMatchObject({ ok: false, value: 12 });
    expect(sent[0]).toContain('response_code!="404"');
  });
});

describe('checkMetricQueries at apply', () => {
  const embedded = new EmbeddedProvider({ targets: () => [], scrapeIntervalMs: 1000, retentionMs: 60_000 });
  const prometheusLike: MetricsProvider = { name: 'prometheus', query: async () => ({ type: 'scalar', value: 0 }), refuses: () => undefined, keepWarm: () => undefined, close: async () => undefined };
  const doc = (o: KubeObject, index = 0) => ({ object: o, source: { file: 'mt.yaml', index } });
  const topk = { ...template, metadata: { ...template.metadata, name: 'top' }, spec: { provider: { type: 'prometheus' }, query: 'sum(topk(3, rate(istio_requests_total{destination_workload="{{ target }}"}[{{ interval }}])))' } };

  it('accepts what the embedded evaluator runs (the templates above)', () => {
    expect(() => checkMetricQueries([template, canaryObj], [doc(template), doc(canaryObj, 1)], new ObjectStore(), embedded, 45)).not.toThrow();
  });

  it('refuses, naming file, document, object and field, PromQL the embedded provider cannot run', () => {
    expect(() => checkMetricQueries([topk], [doc(topk)], new ObjectStore(), embedded, 1)).toThrow(
      'mt.yaml: document 1 (MetricTemplate top): spec.query: the embedded metrics provider cannot run this query: "topk" (at 4) is not supported by the embedded evaluator (a real Prometheus runs any PromQL: lab install prometheus)',
    );
    expect(() => checkMetricQueries([topk], [doc(topk)], new ObjectStore(), prometheusLike, 1)).not.toThrow();
  });

  it('checks a Canary’s inline query and the stored template it references', () => {
    const store = new ObjectStore();
    store.apply({ ...topk, metadata: { ...topk.metadata, name: 'not-found-percentage', namespace: 'istio-system' } });
    expect(() => checkMetricQueries([canaryObj], [doc(canaryObj)], store, embedded, 1)).toThrow(/Canary catalog-release\): spec\.analysis\.metrics\[1\]\.templateRef: MetricTemplate not-found-percentage: the embedded metrics provider cannot run/);
    const inline = { ...canaryObj, spec: { ...(canaryObj.spec as object), analysis: { interval: '45s', threshold: 1, stepWeight: 10, metrics: [{ name: 'x', query: 'sum(x) > 1', thresholdRange: { max: 1 } }] } } };
    expect(() => checkMetricQueries([inline], [doc(inline)], new ObjectStore(), embedded, 1)).toThrow(/spec\.analysis\.metrics\[0\]\.query: .*comparison ">"/);
  });

  it('refuses a template for a provider the lab does not have, whatever the current provider', () => {
    expect(() => checkMetricQueries([datadog], [doc(datadog)], new ObjectStore(), prometheusLike, 1)).toThrow(/spec\.provider\.type: provider type "datadog" is not available in the lab/);
  });
});
