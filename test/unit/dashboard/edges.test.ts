import { describe, expect, it } from 'vitest';
import { buildEdges, serviceFamily, type EdgeStats } from '../../../src/dashboard/edges.js';
import { CATALOG_V1, CATALOG_V2, FakeProxy, FORUM, INGRESS, WEBAPP, scrapeAll, svc } from './fixtures.js';

function edges(before: FakeProxy[] | undefined, after: FakeProxy[], rateSeconds = 10): Map<string, EdgeStats> {
  const b = before ? scrapeAll(...before) : [];
  const out = buildEdges({ before: b, after: scrapeAll(...after), rateBefore: b, rateSeconds });
  return new Map(out.map((e) => [e.id, e]));
}

describe('dashboard edges from proxies\' Istio metrics', () => {
  it('a 90/10 split between catalog v1 and v2 shows as shares of webapp\'s calls to catalog', () => {
    const gw = new FakeProxy('gw', INGRESS).sent(200, WEBAPP, svc('webapp'));
    const web = new FakeProxy('web', WEBAPP).received(200, INGRESS, { name: 'inbound|8080||' }).sent(181, CATALOG_V1, svc('catalog'), { ms: 3 }).sent(19, CATALOG_V2, svc('catalog'), { ms: 40 });
    const c1 = new FakeProxy('c1', CATALOG_V1).received(181, WEBAPP, { name: 'inbound|3000||' });
    const c2 = new FakeProxy('c2', CATALOG_V2).received(19, WEBAPP, { name: 'inbound|3000||' });
    const e = edges(undefined, [gw, web, c1, c2]);
    expect([...e.keys()].sort()).toEqual([
      'istio-system/istio-ingressgateway->istioinaction/webapp',
      'istioinaction/webapp->istioinaction/catalog',
      'istioinaction/webapp->istioinaction/catalog-v2',
    ]);
    const v1 = e.get('istioinaction/webapp->istioinaction/catalog')!;
    const v2 = e.get('istioinaction/webapp->istioinaction/catalog-v2')!;
    expect([v1.requests, v2.requests]).toEqual([181, 19]);
    expect(v1.share).toBeCloseTo(0.905);
    expect(v2.share).toBeCloseTo(0.095);
    expect(v1.service).toBe('catalog.istioinaction.svc.cluster.local');
    // p90 from Envoy's buckets: 3 ms falls in (1, 5], 40 ms in (25, 50].
    expect(v1.p90Ms).toBeGreaterThan(1);
    expect(v1.p90Ms).toBeLessThanOrEqual(5);
    expect(v2.p90Ms).toBeGreaterThan(25);
    expect(v2.p90Ms).toBeLessThanOrEqual(50);
    expect(e.get('istio-system/istio-ingressgateway->istioinaction/webapp')!.share).toBe(1);
  });

  it.each([
    { name: 'all 200', codes: [[100, 200]], success: 100 },
    { name: '5xx count against success, 4xx do not', codes: [[90, 200], [5, 404], [5, 503]], success: 95 },
    { name: 'all failed', codes: [[10, 500]], success: 0 },
  ])('success rate: $name', ({ codes, success }) => {
    const web = new FakeProxy('web', WEBAPP);
    for (const [n, code] of codes) web.sent(n!, CATALOG_V1, svc('catalog'), { code });
    const e = edges(undefined, [web]).get('istioinaction/webapp->istioinaction/catalog')!;
    expect(e.successRate).toBeCloseTo(success);
    expect(e.codes).toEqual(Object.fromEntries(codes.map(([n, c]) => [String(c), n])));
  });

  it('counts only the window: the increase between its first and last scrape, and the rate over the short window', () => {
    const before = new FakeProxy('web', WEBAPP).sent(50, CATALOG_V1, svc('catalog'));
    const beforeScrape = scrapeAll(before);
    before.sent(30, CATALOG_V1, svc('catalog'));
    const out = buildEdges({ before: beforeScrape, after: scrapeAll(before), rateBefore: beforeScrape, rateSeconds: 10 });
    expect(out).toHaveLength(1);
    expect(out[0]!.requests).toBe(30);
    expect(out[0]!.rps).toBeCloseTo(3);
  });

  it('a proxy that restarted (counters went down) counts its new counts, as Prometheus does', () => {
    const before = scrapeAll(new FakeProxy('web', WEBAPP).sent(50, CATALOG_V1, svc('catalog')));
    const after = scrapeAll(new FakeProxy('web', WEBAPP).sent(7, CATALOG_V1, svc('catalog')));
    expect(buildEdges({ before, after, rateBefore: before, rateSeconds: 1 })[0]!.requests).toBe(7);
  });

  it('clients outside the mesh come from the server side\'s reports; mesh clients\' server-side reports are not counted twice', () => {
    const c1 = new FakeProxy('c1', CATALOG_V1).received(12, undefined, { name: 'inbound|3000||' }).received(40, WEBAPP, { name: 'inbound|3000||' });
    const web = new FakeProxy('web', WEBAPP).sent(40, CATALOG_V1, svc('catalog'));
    const e = edges(undefined, [c1, web]);
    expect(e.get('unknown->istioinaction/catalog')!.requests).toBe(12);
    expect(e.get('istioinaction/webapp->istioinaction/catalog')!.requests).toBe(40);
    expect(e.size).toBe(2);
  });

  it('mirrored copies (seen by the server, not reported by the client) become a mirror edge', () => {
    const web = new FakeProxy('web', WEBAPP).sent(100, CATALOG_V1, svc('catalog'));
    const c1 = new FakeProxy('c1', CATALOG_V1).received(100, WEBAPP, { name: 'inbound|3000||' });
    const c2 = new FakeProxy('c2', CATALOG_V2).received(100, WEBAPP, { name: 'inbound|3000||' });
    const e = edges(undefined, [web, c1, c2]);
    const mirror = e.get('istioinaction/webapp->istioinaction/catalog-v2~mirror')!;
    expect(mirror.kind).toBe('mirror');
    expect(mirror.requests).toBe(100);
    expect(e.has('istioinaction/webapp->istioinaction/catalog-v2')).toBe(false);
    expect(e.get('istioinaction/webapp->istioinaction/catalog')!.share).toBe(1);
  });

  it('a request or two in flight between the scrapes of client and server is not a mirror', () => {
    const web = new FakeProxy('web', WEBAPP).sent(100, CATALOG_V1, svc('catalog'));
    const c1 = new FakeProxy('c1', CATALOG_V1).received(102, WEBAPP, { name: 'inbound|3000||' });
    expect([...edges(undefined, [web, c1]).values()].filter((e) => e.kind === 'mirror')).toEqual([]);
  });

  it.each([
    { name: 'ALLOW_ANY passes it through', cluster: { name: 'PassthroughCluster' }, code: 200, id: 'istioinaction/forum->ext:jsonplaceholder.typicode.com~PassthroughCluster', catchAll: 'PassthroughCluster' },
    { name: "REGISTRY_ONLY's block_all (502, no cluster)", cluster: undefined, code: 502, id: 'istioinaction/forum->ext:jsonplaceholder.typicode.com~BlackHoleCluster', catchAll: 'BlackHoleCluster' },
    {
      name: 'a ServiceEntry names it',
      cluster: { name: 'outbound|80||jsonplaceholder.typicode.com', service: { fqdn: 'jsonplaceholder.typicode.com', name: 'jsonplaceholder.typicode.com', namespace: 'istioinaction' } },
      code: 200,
      id: 'istioinaction/forum->ext:jsonplaceholder.typicode.com',
      catchAll: undefined,
    },
  ])('external host: $name', ({ cluster, code, id, catchAll }) => {
    const forum = new FakeProxy('forum', FORUM).sent(3, undefined, cluster, { code, authority: 'jsonplaceholder.typicode.com' });
    const e = edges(undefined, [forum]);
    expect([...e.keys()]).toEqual([id]);
    expect(e.get(id)!.catchAll).toBe(catchAll);
  });

  it("a gateway's 404 for a host it does not serve goes to the unknown node, not to an external host", () => {
    const gw = new FakeProxy('gw', INGRESS).sent(2, undefined, undefined, { code: 404, flags: 'NR', authority: 'nope.example.com' });
    const e = [...edges(undefined, [gw]).values()];
    expect(e.map((x) => [x.target, x.flags])).toEqual([['unknown', { NR: 2 }]]);
  });

  it("a mesh Service with no endpoint is a service node (503 UH)", () => {
    const web = new FakeProxy('web', WEBAPP).sent(4, undefined, svc('catalog'), { code: 503, flags: 'UH' });
    expect([...edges(undefined, [web]).keys()]).toEqual(['istioinaction/webapp->svc:catalog.istioinaction.svc.cluster.local']);
  });

  it("a canary's traffic through Flagger's -primary and -canary Services splits as one service", () => {
    const primary = { workload: 'catalog-primary', namespace: 'istioinaction', labels: { app: 'catalog-primary' } };
    const web = new FakeProxy('web', WEBAPP).sent(80, primary, svc('catalog-primary')).sent(20, CATALOG_V1, svc('catalog-canary'));
    const e = edges(undefined, [web]);
    expect(e.get('istioinaction/webapp->istioinaction/catalog-primary')!.share).toBeCloseTo(0.8);
    expect(e.get('istioinaction/webapp->istioinaction/catalog')!.share).toBeCloseTo(0.2);
  });

  it.each([
    ['catalog-primary.istioinaction.svc.cluster.local', 'catalog.istioinaction.svc.cluster.local'],
    ['catalog-canary.istioinaction.svc.cluster.local', 'catalog.istioinaction.svc.cluster.local'],
    ['catalog.istioinaction.svc.cluster.local', 'catalog.istioinaction.svc.cluster.local'],
    ['primary-store', 'primary-store'],
    ['jsonplaceholder.typicode.com', 'jsonplaceholder.typicode.com'],
  ])('serviceFamily(%s) = %s', (service, family) => {
    expect(serviceFamily(service)).toBe(family);
  });
});
