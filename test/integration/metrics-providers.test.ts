/**
 * The two metrics providers on the same traffic: a real lab, a real Prometheus (`lab install
 * prometheus`) and the embedded provider scraping the same proxies. The catalog answers 500 to
 * part of its requests and waits a random 0..200 ms; Flagger's two builtin queries then give the
 * same values on both, equal to what the client saw, and so the same verdicts.
 *
 * Tolerance: the embedded provider equals the client's count (0.01 percentage points: rounding).
 * Prometheus may differ by up to 0.1 percentage point for the success rate and 2% for the p99: its
 * `rate` extrapolates every series to the window's edges by the same factor (one target, shared
 * scrape times), except that a counter's extrapolation stops where it would reach zero, which
 * scales a series whose value at the window's start is small against its increase by less. The
 * warm-up below is as large as the measured traffic, so no series is near zero at the start;
 * with a warm-up of 30 requests the success rates were up to 1.4 points apart; with this one they
 * were equal in every run. The verdicts must agree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judge, runCheck } from '../../src/canary/checks.js';
import { readCanary } from '../../src/canary/spec.js';
import { EmbeddedProvider } from '../../src/metrics/embedded.js';
import { BUILTIN_QUERIES, renderQuery, type TemplateModel } from '../../src/metrics/flagger-queries.js';
import { PrometheusProvider } from '../../src/metrics/prometheus.js';
import { scrapeIntervalMs } from '../../src/metrics/prometheus-config.js';
import { singleValue, type MetricsProvider } from '../../src/metrics/provider.js';
import { scrapeTargets } from '../../src/metrics/targets.js';
import type { KubeObject } from '../../src/model/objects.js';
import { prometheusBinary } from '../../src/runtime/local/prometheus-process.js';
import { LabApiProvider } from '../../src/metrics/lab-api.js';
import { ApiClient } from '../../src/cli/client.js';
import { readLabInfo, readToken } from '../../src/controlplane/lab-home.js';
import { httpRequest, TestLab, waitFor } from '../helpers/lab.js';

const TIME_SCALE = 15;
const SCRAPE_MS = scrapeIntervalMs(TIME_SCALE);
const bin = prometheusBinary();
if (!bin) console.log('metrics-providers.test.ts skipped: no prometheus binary (apt-get install -y prometheus, or set PROMETHEUS_BIN)');

describe.skipIf(!bin)('embedded and Prometheus providers on the same traffic', () => {
  const lab = new TestLab();
  let pods: KubeObject[] = [];
  let podIP = '';
  let prometheus: PrometheusProvider;
  let embedded: EmbeddedProvider;

  const model = (interval: string): TemplateModel => ({ name: 'catalog-release', namespace: 'istioinaction', target: 'catalog', service: 'catalog', ingress: '', interval, variables: {} });
  const total = (p: MetricsProvider) => p.query('sum(istio_requests_total{reporter="destination",destination_workload="catalog"})').then((v) => (v.type === 'vector' && v.series[0] ? v.series[0].value : 0));
  const items = async (n: number, concurrency: number) => {
    const statuses: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          next++;
          statuses.push((await httpRequest({ host: podIP, port: 3000, path: '/items' })).status);
        }
      }),
    );
    return statuses;
  };

  // PromQL beyond the embedded evaluator (`or on() vector(0)`: 0 when no request was a 404).
  const template = `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: { name: not-found-percentage, namespace: istio-system }
spec:
  provider: { type: prometheus, address: "http://prometheus.istio-system:9090" }
  query: |
    sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload="{{ target }}",response_code="404"}[{{ interval }}]))
    / sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload="{{ target }}"}[{{ interval }}])) * 100
    or on() vector(0)
`;
  let refusedByEmbedded: { code: number; stderr: string };

  beforeAll(async () => {
    await lab.up('--time-scale', String(TIME_SCALE));
    writeFileSync(join(lab.home, 'template.yaml'), template);
    refusedByEmbedded = await lab.cli('apply', '-f', join(lab.home, 'template.yaml'));
    const out = await lab.ok('install', 'prometheus');
    expect(out).toMatch(/prometheus is running at http:\/\/127\.0\.0\.1:\d+/);
    const state = JSON.parse(readFileSync(join(lab.home, 'prometheus', 'state.json'), 'utf8')) as { url: string };
    prometheus = new PrometheusProvider(state.url);
    await lab.ok('apply', '-f', 'services/catalog/kubernetes/catalog.yaml', '-n', 'istioinaction');
    pods = (JSON.parse(await lab.ok('get', 'pods', '-n', 'istioinaction', '-l', 'app=catalog', '-o', 'json')) as { items: KubeObject[] }).items;
    podIP = (pods[0]!.status as { podIP: string }).podIP;
    embedded = new EmbeddedProvider({ targets: () => scrapeTargets(pods), scrapeIntervalMs: SCRAPE_MS, retentionMs: 120_000 });
    embedded.keepWarm();
  }, 120_000);

  afterAll(async () => {
    await embedded?.close();
    await lab.down();
    lab.destroy();
  }, 60_000);

  it('gives the same success rate and p99, equal to what the client saw, and the same verdicts', async () => {
    for (const rule of ['{"type":"500","percentage":30}', '{"type":"latency","latencyMs":200,"volatile":true}']) {
      const r = await httpRequest({ host: podIP, port: 3000, path: '/blowup', method: 'POST', headers: { 'content-type': 'application/json' }, body: rule });
      expect(r.status).toBe(200);
    }
    // Warm-up: both 200 and 500 series exist and both providers have scraped them, so the window
    // below opens on samples that already hold them (Prometheus cannot see a series' first value).
    const warm = await items(300, 5);
    expect(new Set(warm)).toEqual(new Set([200, 500]));
    const warmTotal = await waitFor(async () => {
      const [e, p] = [await total(embedded), await total(prometheus)];
      return e > 0 && e === p ? e : undefined;
    }, 'both providers to see the warm-up', 30_000);
    // A quiet spell of more than two scrapes: the window opens inside it.
    await new Promise((r) => setTimeout(r, 2.5 * SCRAPE_MS));

    const t0 = Date.now();
    const statuses = await items(300, 5);
    const clientRate = (100 * statuses.filter((s) => s < 500).length) / statuses.length;
    await waitFor(async () => {
      const [e, p] = [await total(embedded), await total(prometheus)];
      return e === warmTotal + statuses.length && p === e ? true : undefined;
    }, 'both providers to see all the traffic', 30_000);
    const at = Date.now();
    const interval = `${at - t0 + Math.round(1.5 * SCRAPE_MS)}ms`;

    const values = async (p: MetricsProvider) => ({
      successRate: singleValue(await p.query(renderQuery(BUILTIN_QUERIES['request-success-rate']!, model(interval)), at), 'success rate'),
      p99: singleValue(await p.query(renderQuery(BUILTIN_QUERIES['request-duration']!, model(interval)), at), 'duration'),
    });
    const e = await values(embedded);
    const p = await values(prometheus);
    // The control plane's GET /metrics/query answers with the lab's provider, Prometheus now.
    const api = new ApiClient(readLabInfo(lab.home)!, readToken(lab.home));
    const viaLab = new LabApiProvider((path) => api.call('GET', path));
    expect(await values(viaLab)).toEqual(p);
    expect(viaLab.name).toBe('prometheus');
    console.log(`client: ${statuses.length} requests, success ${clientRate.toFixed(2)}%; embedded: ${e.successRate.toFixed(3)}%, p99 ${e.p99.toFixed(1)} ms; prometheus: ${p.successRate.toFixed(3)}%, p99 ${p.p99.toFixed(1)} ms`);

    expect(Math.abs(e.successRate - clientRate)).toBeLessThan(0.01);
    expect(Math.abs(p.successRate - e.successRate)).toBeLessThan(0.1);
    expect(Math.abs(p.p99 - e.p99) / e.p99).toBeLessThan(0.02);
    // 0..200 ms of injected latency: p99 lands in Envoy's (100, 250] ms bucket.
    expect(e.p99).toBeGreaterThan(100);
    expect(e.p99).toBeLessThanOrEqual(250);

    const canary = readCanary({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name: 'catalog-release', namespace: 'istioinaction' },
      spec: {
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'catalog' },
        service: { port: 80 },
        analysis: { interval: '45s', threshold: 5, stepWeight: 10, metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }, { name: 'request-duration', thresholdRange: { max: 500 } }] },
      },
    } as unknown as KubeObject);
    const verdicts = (v: { successRate: number; p99: number }) => [judge(canary, canary.metrics[0]!, { value: v.successRate }).ok, judge(canary, canary.metrics[1]!, { value: v.p99 }).ok];
    expect(verdicts(e)).toEqual([false, true]);
    expect(verdicts(p)).toEqual(verdicts(e));
  }, 180_000);

  it('a MetricTemplate: refused at apply with the embedded provider, run by Prometheus', async () => {
    expect(refusedByEmbedded.code).not.toBe(0);
    expect(refusedByEmbedded.stderr).toMatch(/template\.yaml: document 1 \(MetricTemplate not-found-percentage\): spec\.query: the embedded metrics provider cannot run this query: "or" \(at \d+\) is not supported/);
    await lab.ok('apply', '-f', join(lab.home, 'template.yaml'));
    const stored = JSON.parse(await lab.ok('get', 'metrictemplate', 'not-found-percentage', '-n', 'istio-system', '-o', 'json')) as KubeObject;
    const canary = readCanary({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name: 'catalog-release', namespace: 'istioinaction' },
      spec: {
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'catalog' },
        service: { port: 80 },
        analysis: { interval: '45s', threshold: 5, stepWeight: 10, metrics: [{ name: 'not-found-percentage', templateRef: { name: 'not-found-percentage', namespace: 'istio-system' }, thresholdRange: { max: 5 }, interval: '1m' }] },
      },
    } as unknown as KubeObject);
    const r = await runCheck(canary, canary.metrics[0]!, prometheus, (ns, name) => (ns === 'istio-system' && name === stored.metadata.name ? stored : undefined), TIME_SCALE);
    // The catalog answered no 404 (only 200s and 500s): 0%, a pass.
    expect(r).toEqual({ name: 'not-found-percentage', value: 0, ok: true });
  }, 60_000);
});
