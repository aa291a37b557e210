import { describe, expect, it } from 'vitest';
import { istioBaseLabels, istioRequestLabels } from '../../../src/proxy/telemetry/istio-labels.js';
import { ENVOY_DEFAULT_BUCKETS, IstioMetrics } from '../../../src/proxy/telemetry/metrics.js';
import { parsePrometheusText } from '../../../src/metrics/prometheus-text.js';

const base = istioBaseLabels({
  reporter: 'destination',
  source: { workload: 'webapp', namespace: 'istioinaction', labels: { app: 'webapp' } },
  destination: { workload: 'catalog', namespace: 'istioinaction', labels: { app: 'catalog', version: 'v1' } },
  cluster: {
    name: 'inbound|3000||',
    service: { fqdn: 'catalog.istioinaction.svc.cluster.local', name: 'catalog', namespace: 'istioinaction' },
  },
});

const L =
  'reporter="destination",source_workload="webapp",source_workload_namespace="istioinaction",' +
  'source_app="webapp",source_version="unknown",source_canonical_service="webapp",' +
  'source_canonical_revision="latest",destination_workload="catalog",' +
  'destination_workload_namespace="istioinaction",destination_app="catalog",destination_version="v1",' +
  'destination_service="catalog.istioinaction.svc.cluster.local",destination_service_name="catalog",' +
  'destination_service_namespace="istioinaction",destination_canonical_service="catalog",' +
  'destination_canonical_revision="v1",request_protocol="http",response_code="200",' +
  'response_flags="-",connection_security_policy="none"';

/** Expected cumulative counts per `le`, for a histogram holding one observation in bucket `at`. */
function oneObservation(name: string, at: string, sum: number): string {
  const les = ['0.5', '1', '5', '10', '25', '50', '100', '250', '500', '1000', '2500', '5000', '10000',
    '30000', '60000', '300000', '600000', '1800000', '3600000', '+Inf'];
  const hit = les.indexOf(at);
  return [
    ...les.map((le, i) => `${name}_bucket{${L},le="${le}"} ${i >= hit ? 1 : 0}`),
    `${name}_sum{${L}} ${sum}`,
    `${name}_count{${L}} 1`,
  ].join('\n');
}

describe('IstioMetrics.render', () => {
  it('renders one series exactly', () => {
    const m = new IstioMetrics();
    m.record(istioRequestLabels(base, 200, '-'), 7, 0, 502);
    expect(m.render()).toBe(
      [
        '# HELP istio_requests_total Total number of requests.',
        '# TYPE istio_requests_total counter',
        `istio_requests_total{${L}} 1`,
        '# HELP istio_request_duration_milliseconds Request duration in milliseconds.',
        '# TYPE istio_request_duration_milliseconds histogram',
        oneObservation('istio_request_duration_milliseconds', '10', 7),
        '# HELP istio_request_bytes Request sizes in bytes.',
        '# TYPE istio_request_bytes histogram',
        oneObservation('istio_request_bytes', '0.5', 0),
        '# HELP istio_response_bytes Response sizes in bytes.',
        '# TYPE istio_response_bytes histogram',
        oneObservation('istio_response_bytes', '1000', 502),
      ].join('\n') + '\n',
    );
  });

  it('renders only headers when nothing was recorded', () => {
    expect(parsePrometheusText(new IstioMetrics().render())).toEqual([]);
  });

  it('escapes label values', () => {
    const m = new IstioMetrics();
    const labels = { ...istioRequestLabels(base, 503, 'UH'), destination_service: 'a"b\\c\nd' };
    m.record(labels, 1, 1, 1);
    expect(m.render()).toContain('destination_service="a\\"b\\\\c\\nd"');
    const counter = parsePrometheusText(m.render()).find((s) => s.name === 'istio_requests_total');
    expect(counter?.labels.destination_service).toBe('a"b\\c\nd');
  });
});

describe('bucket placement', () => {
  /** The `le` of the lowest bucket whose cumulative count includes the observation. */
  function bucketOf(value: number): string {
    const m = new IstioMetrics();
    m.record(istioRequestLabels(base, 200, '-'), value, 0, 0);
    const first = parsePrometheusText(m.render()).find(
      (s) => s.name === 'istio_request_duration_milliseconds_bucket' && s.value === 1,
    );
    return first!.labels.le;
  }

  it('puts a value equal to a bound in that bound (le is inclusive)', () => {
    expect(bucketOf(0)).toBe('0.5');
    expect(bucketOf(0.5)).toBe('0.5');
    expect(bucketOf(0.5000001)).toBe('1');
    expect(bucketOf(1)).toBe('1');
    expect(bucketOf(250)).toBe('250');
    expect(bucketOf(251)).toBe('500');
    expect(bucketOf(3600000)).toBe('3600000');
    expect(bucketOf(3600000.5)).toBe('+Inf');
  });

  it('uses Envoy default buckets', () => {
    expect(ENVOY_DEFAULT_BUCKETS).toHaveLength(19);
    expect(ENVOY_DEFAULT_BUCKETS.at(-1)).toBe(3600000);
  });
});

describe('series caching', () => {
  it('shares one series between equal label sets and both lookup paths', () => {
    const m = new IstioMetrics();
    const s = m.seriesFor(base, 200, '-');
    expect(m.seriesFor(base, 200, '-')).toBe(s);
    expect(m.series(istioRequestLabels(base, 200, '-'))).toBe(s);
    expect(m.seriesFor(base, 503, 'UH')).not.toBe(s);
    s.observe(3, 10, 20);
    m.record(istioRequestLabels(base, 200, '-'), 4, 10, 20);
    expect(s.requests).toBe(2);
    expect(s.duration.sum).toBe(7);
    expect([...m.allSeries()]).toHaveLength(2);
  });

  it('is not fooled by a caller mutating its labels object', () => {
    const m = new IstioMetrics();
    const labels = istioRequestLabels(base, 200, '-');
    m.record(labels, 1, 0, 0);
    labels.response_code = '500';
    m.record(labels, 1, 0, 0);
    const counters = parsePrometheusText(m.render()).filter((x) => x.name === 'istio_requests_total');
    expect(counters.map((c) => [c.labels.response_code, c.value])).toEqual([
      ['200', 1],
      ['500', 1],
    ]);
  });
});
