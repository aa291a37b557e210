/**
 * Chapter 5.2 on a real lab: responses and the access log lines of steps 4, 5, 7, 8, 9 and 11.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestLab, isV2 } from '../helpers/lab.js';

const lab = new TestLab();
const catalogHost = { host: 'catalog.istioinaction.io' };
const webappHost = { host: 'webapp.istioinaction.io' };

beforeAll(async () => {
  await lab.up();
  await lab.ok('apply', '-f', 'services/catalog/kubernetes/catalog.yaml');
});
afterAll(async () => {
  await lab.down();
  lab.destroy();
});

describe('5.2 at the edge', () => {
  it('step 3: no Gateway, no listener: the ingress port refuses connections', async () => {
    const r = await lab.ingress('/items', catalogHost);
    expect(r.error).toBe('ECONNREFUSED');
  });

  it('step 4: a Gateway without VirtualService answers 404 and logs NR route_not_found', async () => {
    await lab.ok('apply', '-f', 'ch5/catalog-gateway.yaml');
    const r = await lab.ingress('/', { ...catalogHost, 'x-request-id': 'step-4' });
    expect(r.status).toBe(404);
    expect(r.body).toBe('');
    expect(r.headers['server']).toBe('istio-envoy');
    const [line] = await lab.logFor('istio-ingressgateway', 'step-4', 'istio-system');
    expect(line).toMatchObject({ method: 'GET', path: '/', responseCode: '404', responseFlags: 'NR', responseCodeDetails: 'route_not_found', upstreamHost: '-', upstreamCluster: '-', authority: 'catalog.istioinaction.io', userAgent: '-' });
  });

  it('step 5: the VirtualService routes to catalog; the log names the cluster and the pod', async () => {
    await lab.ok('apply', '-f', 'ch5/catalog-vs.yaml');
    const r = await lab.ingress('/items', { ...catalogHost, 'x-request-id': 'step-5', 'user-agent': 'curl/7.84.0' });
    expect(r.status).toBe(200);
    const pods = JSON.parse(await lab.ok('get', 'po', '-l', 'app=catalog', '-o', 'json')) as { items: Array<{ status: { podIP: string } }> };
    const [line] = await lab.logFor('istio-ingressgateway', 'step-5', 'istio-system');
    expect(line).toMatchObject({
      responseCode: '200',
      responseFlags: '-',
      responseCodeDetails: 'via_upstream',
      bytesSent: '502',
      userAgent: 'curl/7.84.0',
      upstreamHost: `${pods.items[0]!.status.podIP}:3000`,
      upstreamCluster: 'outbound|80||catalog.istioinaction.svc.cluster.local',
      xForwardedFor: '127.0.0.1',
    });
    // The catalog's sidecar logs the same request inbound, with the SNI Istio's mTLS would carry.
    const [inbound] = await lab.logFor('catalog', 'step-5');
    expect(inbound).toMatchObject({ upstreamCluster: 'inbound|3000||', requestedServerName: 'outbound_.80_._.catalog.istioinaction.svc.cluster.local', routeName: 'default' });
  });

  it('step 7: with the DestinationRule and catalog-vs-v1 all requests go to version-v1', async () => {
    await lab.ok('apply', '-f', 'services/catalog/kubernetes/catalog-deployment-v2.yaml');
    await lab.ok('apply', '-f', 'ch5/catalog-dest-rule.yaml');
    await lab.ok('apply', '-f', 'ch5/catalog-vs-v1.yaml');
    for (let i = 0; i < 10; i++) {
      const r = await lab.ingress('/items', { ...catalogHost, 'x-request-id': `step-7-${i}` });
      expect(r.status).toBe(200);
      expect(isV2(r.body)).toBe(false);
    }
    const [line] = await lab.logFor('istio-ingressgateway', 'step-7-9', 'istio-system');
    expect(line!.upstreamCluster).toBe('outbound|80|version-v1|catalog.istioinaction.svc.cluster.local');
  });

  it('step 8: x-istio-cohort: internal goes to version-v2', async () => {
    await lab.ok('apply', '-f', 'ch5/catalog-vs-v2-request.yaml');
    const withHeader = await lab.ingress('/items', { ...catalogHost, 'x-istio-cohort': 'internal', 'x-request-id': 'step-8-a' });
    const without = await lab.ingress('/items', { ...catalogHost, 'x-request-id': 'step-8-b' });
    expect(isV2(withHeader.body)).toBe(true);
    expect(isV2(without.body)).toBe(false);
    const [a] = await lab.logFor('istio-ingressgateway', 'step-8-a', 'istio-system');
    const [b] = await lab.logFor('istio-ingressgateway', 'step-8-b', 'istio-system');
    expect(a!.upstreamCluster).toBe('outbound|80|version-v2|catalog.istioinaction.svc.cluster.local');
    expect(b!.upstreamCluster).toBe('outbound|80|version-v1|catalog.istioinaction.svc.cluster.local');
    expect(a!.bytesSent).toBe('698');
  });
});

describe('5.2 deep in the call graph', () => {
  it('step 9: gateway, webapp (inbound and outbound) and catalog log one request id', async () => {
    await lab.ok('delete', 'gateway,virtualservice,destinationrule', '--all');
    await lab.ok('apply', '-f', 'services/webapp/kubernetes/webapp.yaml');
    await lab.ok('apply', '-f', 'services/webapp/istio/webapp-catalog-gw-vs.yaml');
    const r = await lab.ingress('/api/catalog', { ...webappHost, 'x-request-id': 'step-9' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toHaveLength(4);
    const [gw] = await lab.logFor('istio-ingressgateway', 'step-9', 'istio-system');
    expect(gw).toMatchObject({ path: '/api/catalog', upstreamCluster: 'outbound|80||webapp.istioinaction.svc.cluster.local' });
    const web = await lab.logFor('webapp', 'step-9', 'istioinaction', 2);
    expect(web.find((l) => l.upstreamCluster === 'inbound|8080||')).toMatchObject({ path: '/api/catalog', authority: 'webapp.istioinaction.io' });
    expect(web.find((l) => l.path === '/items')).toMatchObject({
      upstreamCluster: 'outbound|80||catalog.istioinaction.svc.cluster.local',
      authority: 'catalog.istioinaction:80',
      userAgent: 'beegoServer',
      routeName: 'default',
    });
    const catalogLines = [...(await lab.accessLog('catalog')), ...(await lab.accessLog('catalog-v2'))].filter((l) => l.requestId === 'step-9');
    expect(catalogLines).toHaveLength(1);
    expect(catalogLines[0]).toMatchObject({ upstreamCluster: 'inbound|3000||', authority: 'catalog.istioinaction:80' });
  });

  it('step 11: the cohort header sent to the edge reaches catalog-v2 through webapp', async () => {
    await lab.ok('apply', '-f', 'ch5/catalog-dest-rule.yaml');
    await lab.ok('apply', '-f', 'ch5/catalog-vs-v2-request-mesh.yaml');
    const r = await lab.ingress('/api/catalog', { ...webappHost, 'x-istio-cohort': 'internal', 'x-request-id': 'step-11' });
    expect(isV2(r.body)).toBe(true);
    const web = await lab.logFor('webapp', 'step-11', 'istioinaction', 2);
    expect(web.find((l) => l.path === '/items')!.upstreamCluster).toBe('outbound|80|version-v2|catalog.istioinaction.svc.cluster.local');
    const [v2] = await lab.logFor('catalog-v2', 'step-11');
    expect(v2).toMatchObject({ upstreamCluster: 'inbound|3000||', requestedServerName: 'outbound_.80_.version-v2_.catalog.istioinaction.svc.cluster.local' });
    const plain = await lab.ingress('/api/catalog', webappHost);
    expect(isV2(plain.body)).toBe(false);
  });

  it('each proxy reports Istio standard metrics with both peers\' identities', async () => {
    const pods = JSON.parse(await lab.ok('get', 'po', '-o', 'json')) as { items: Array<{ metadata: { labels: Record<string, string> }; status: { adminUrl: string } }> };
    const adminOf = (app: string, version?: string) =>
      pods.items.find((p) => p.metadata.labels['app'] === app && (!version || p.metadata.labels['version'] === version))!.status.adminUrl;
    const v2 = await (await fetch(`${adminOf('catalog', 'v2')}/stats/prometheus`)).text();
    expect(v2).toContain('# TYPE istio_requests_total counter');
    expect(v2).toMatch(/istio_requests_total\{reporter="destination",source_workload="webapp",source_workload_namespace="istioinaction",source_app="webapp",[^}]*destination_workload="catalog-v2",[^}]*destination_version="v2",destination_service="catalog.istioinaction.svc.cluster.local",[^}]*response_code="200"[^}]*\} [1-9]/);
    expect(v2).toMatch(/istio_request_duration_milliseconds_bucket\{[^}]*le="\+Inf"\} [1-9]/);
    const web = await (await fetch(`${adminOf('webapp')}/stats/prometheus`)).text();
    expect(web).toMatch(/istio_requests_total\{reporter="source",source_workload="webapp",[^}]*destination_workload="catalog-v2",[^}]*destination_service="catalog.istioinaction.svc.cluster.local"/);
  });
});
