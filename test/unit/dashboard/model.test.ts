import { describe, expect, it } from 'vitest';
import { parseCanaryEvents, weightHistory } from '../../../src/dashboard/canary-view.js';
import { thinScrapes } from '../../../src/dashboard/collect.js';
import { egressView } from '../../../src/dashboard/egress.js';
import { buildEdges } from '../../../src/dashboard/edges.js';
import { buildSnapshot, type ModelInput } from '../../../src/dashboard/model.js';
import { windowStart } from '../../../src/dashboard/scrapes.js';
import { objectsShaping } from '../../../src/dashboard/traffic-config.js';
import type { KubeObject } from '../../../src/model/objects.js';
import { CATALOG_V1, CATALOG_V2, FakeProxy, FORUM, INGRESS, WEBAPP, deployment, object, scrapeAll, svc } from './fixtures.js';

const GW_LABELS = { app: 'istio-ingressgateway', istio: 'ingressgateway' };
const BASE: KubeObject[] = [
  deployment('istio-ingressgateway', GW_LABELS, 'istio-system'),
  deployment('webapp', { app: 'webapp' }),
  deployment('catalog', { app: 'catalog', version: 'v1' }),
  deployment('catalog-v2', { app: 'catalog', version: 'v2' }),
  object('Service', 'catalog', { selector: { app: 'catalog' }, ports: [{ port: 80 }] }),
  object('Service', 'webapp', { selector: { app: 'webapp' }, ports: [{ port: 80 }] }),
];

function input(o: Partial<ModelInput>): ModelInput {
  return {
    now: 100_000,
    objects: BASE,
    meshMode: 'ALLOW_ANY',
    scrapes: [],
    windowMs: 300_000,
    rateWindowMs: 10_000,
    logs: {},
    flaggerLines: [],
    canaryChecks: {},
    lab: { runtime: 'local', ingressPort: 8080, timeScale: 1 },
    ...o,
  };
}

describe('dashboard snapshot', () => {
  it('lays the graph out in call order: gateway, webapp, catalog v1/v2, external hosts last', () => {
    const gw = new FakeProxy('gw', INGRESS).sent(10, WEBAPP, svc('webapp'));
    const web = new FakeProxy('web', WEBAPP).sent(9, CATALOG_V1, svc('catalog')).sent(1, CATALOG_V2, svc('catalog'));
    const forum = new FakeProxy('forum', FORUM).sent(2, undefined, { name: 'PassthroughCluster' }, { authority: 'jsonplaceholder.typicode.com' });
    const s = buildSnapshot(input({ objects: [...BASE, deployment('forum', { app: 'forum', version: 'v1' })], scrapes: [{ at: 100_000, samples: scrapeAll(gw, web, forum) }] }));
    const layers = Object.fromEntries(s.nodes.map((n) => [n.id, [n.kind, n.layer, n.version ?? '']]));
    expect(layers).toEqual({
      'istio-system/istio-ingressgateway': ['ingress', 0, ''],
      'istioinaction/webapp': ['workload', 1, ''],
      'istioinaction/catalog': ['workload', 2, 'v1'],
      'istioinaction/catalog-v2': ['workload', 2, 'v2'],
      'istioinaction/forum': ['workload', 1, 'v1'],
      'ext:jsonplaceholder.typicode.com': ['external', 3, ''],
    });
    expect(s.window.label).toBe('since the proxies started');
    expect(s.egress.hosts).toEqual([{ host: 'jsonplaceholder.typicode.com', verdict: 'passthrough', requests: 2, codes: { '200': 2 }, clients: ['istioinaction/forum'] }]);
  });

  it('takes the window from the newest scrape at least the window old, and says so', () => {
    const web = new FakeProxy('web', WEBAPP).sent(5, CATALOG_V1, svc('catalog'));
    const first = { at: 0, samples: scrapeAll(web) };
    web.sent(7, CATALOG_V1, svc('catalog'));
    const s = buildSnapshot(input({ windowMs: 60_000, scrapes: [first, { at: 90_000, samples: scrapeAll(web) }] }));
    expect(s.window).toEqual({ label: 'last 1m', seconds: 60 });
    expect(s.edges.map((e) => e.requests)).toEqual([7]);
  });

  it("gives each workload its access log tail and the objects shaping its traffic, as YAML", () => {
    const vs = object('VirtualService', 'catalog', { hosts: ['catalog'], gateways: ['mesh'], http: [{ route: [{ destination: { host: 'catalog', subset: 'version-v1' }, weight: 90 }, { destination: { host: 'catalog', subset: 'version-v2' }, weight: 10 }] }] });
    const dr = object('DestinationRule', 'catalog', { host: 'catalog', subsets: [{ name: 'version-v1', labels: { version: 'v1' } }] });
    const s = buildSnapshot(input({ objects: [...BASE, vs, dr], logs: { 'istioinaction/catalog': ['[2026-12-02T10:00:00.000Z] "GET /items HTTP/1.1" 200 ...'] } }));
    const catalog = s.workloads.find((w) => w.id === 'istioinaction/catalog')!;
    expect(catalog.logs).toHaveLength(1);
    expect(catalog.config.map((c) => `${c.kind}/${c.name}`)).toEqual(['VirtualService/catalog', 'DestinationRule/catalog']);
    expect(catalog.config[0]!.yaml).toContain('weight: 90');
    expect(s.workloads.find((w) => w.id === 'istioinaction/webapp')!.config).toEqual([]);
  });
});

describe('objects shaping a workload\'s traffic', () => {
  const objects: KubeObject[] = [
    ...BASE,
    object('Gateway', 'coolstore-gateway', { selector: { istio: 'ingressgateway' }, servers: [] }),
    object('VirtualService', 'webapp-virtualservice', { hosts: ['webapp.istioinaction.io'], gateways: ['coolstore-gateway'], http: [{ route: [{ destination: { host: 'webapp' } }] }] }),
    object('VirtualService', 'catalog', { hosts: ['catalog'], gateways: ['mesh'], http: [{ route: [{ destination: { host: 'catalog', subset: 'version-v1' } }], mirror: { host: 'catalog', subset: 'version-v2' } }] }),
    object('DestinationRule', 'catalog', { host: 'catalog.istioinaction.svc.cluster.local' }),
    object('ServiceEntry', 'jsonplaceholder', { hosts: ['jsonplaceholder.typicode.com'] }),
    object('ServiceEntry', 'private', { hosts: ['private.example.com'], exportTo: ['.'] }, 'other'),
    object('Sidecar', 'forum-only', { workloadSelector: { labels: { app: 'forum' } }, outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } }),
    object('Sidecar', 'default', { outboundTrafficPolicy: { mode: 'ALLOW_ANY' } }, 'istio-system'),
  ];
  it.each([
    { who: 'the gateway: its Gateway and the VirtualServices bound to it', ns: 'istio-system', labels: GW_LABELS, want: ['Gateway/coolstore-gateway', 'VirtualService/webapp-virtualservice'] },
    { who: 'webapp: the gateway VS routing to it, visible ServiceEntries, the mesh-wide Sidecar', ns: 'istioinaction', labels: { app: 'webapp' }, want: ['VirtualService/webapp-virtualservice', 'ServiceEntry/jsonplaceholder', 'Sidecar/default'] },
    { who: 'catalog v2: its VS (a mirror target too) and DR by FQDN', ns: 'istioinaction', labels: { app: 'catalog', version: 'v2' }, want: ['VirtualService/catalog', 'DestinationRule/catalog', 'ServiceEntry/jsonplaceholder', 'Sidecar/default'] },
    { who: 'forum: the Sidecar selecting it', ns: 'istioinaction', labels: { app: 'forum' }, want: ['ServiceEntry/jsonplaceholder', 'Sidecar/default', 'Sidecar/forum-only'] },
  ])('$who', ({ ns, labels, want }) => {
    expect(objectsShaping(objects, ns, labels).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(want);
  });
});

describe('egress view', () => {
  it('lists ServiceEntry hosts as allowed even before anyone calls them, and Sidecar overrides', () => {
    const objects = [object('ServiceEntry', 'jsonplaceholder', { hosts: ['jsonplaceholder.typicode.com'] }), object('Sidecar', 'forum', { workloadSelector: { labels: { app: 'forum' } }, outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } })];
    const forum = new FakeProxy('forum', FORUM).sent(1, undefined, undefined, { code: 502, authority: 'blocked.example.com' });
    const v = egressView(objects, 'ALLOW_ANY', buildEdges({ before: [], after: scrapeAll(forum), rateBefore: [], rateSeconds: 0 }));
    expect(v.mode).toBe('ALLOW_ANY');
    expect(v.sidecars).toEqual([{ namespace: 'istioinaction', name: 'forum', selector: { app: 'forum' }, mode: 'REGISTRY_ONLY' }]);
    expect(v.hosts.map((h) => [h.host, h.verdict, h.requests, h.serviceEntry ?? ''])).toEqual([
      ['blocked.example.com', 'blocked', 1, ''],
      ['jsonplaceholder.typicode.com', 'allowed', 0, 'istioinaction/jsonplaceholder'],
    ]);
  });
});

describe('canary view', () => {
  const line = (ts: string, msg: string, canary = 'catalog-release.istioinaction') => JSON.stringify({ level: 'info', ts, msg, canary });
  const lines = [
    line('2026-12-02T10:00:00.000Z', 'Initialization done! catalog-release.istioinaction'),
    line('2026-12-02T10:00:10.000Z', 'Starting canary analysis for catalog.istioinaction'),
    line('2026-12-02T10:00:10.000Z', 'Advance catalog-release.istioinaction canary weight 10'),
    line('2026-12-02T10:00:11.000Z', 'Advance catalog-release.istioinaction canary weight 20'),
    line('2026-12-02T10:00:11.500Z', 'Advance other.istioinaction canary weight 50', 'other.istioinaction'),
    '{"partial',
    line('2026-12-02T10:00:12.000Z', 'Halt catalog-release.istioinaction advancement success rate 90.00% < 99%'),
    line('2026-12-02T10:00:13.000Z', 'Advance catalog-release.istioinaction canary weight 30'),
    line('2026-12-02T10:00:14.000Z', 'Routing all traffic to primary'),
  ];
  const t = (s: string) => Date.parse(`2026-12-02T10:00:${s}Z`);

  it("reads the canary's own events and skips others' and half-written lines", () => {
    const ev = parseCanaryEvents(lines, 'catalog-release.istioinaction');
    expect(ev).toHaveLength(7);
    expect(ev.every((e) => !e.msg.includes('other.'))).toBe(true);
  });

  it.each([
    { name: 'steps up with each Advance, back to 0 when all traffic goes to the primary', current: 0, want: [[t('00.000'), 0], [t('10.000'), 10], [t('11.000'), 20], [t('13.000'), 30], [t('14.000'), 0], [t('20.000'), 0]] },
    { name: 'ends at the weight the status says now', current: 40, want: [[t('00.000'), 0], [t('10.000'), 10], [t('11.000'), 20], [t('13.000'), 30], [t('14.000'), 0], [t('20.000'), 40]] },
  ])('weight over time $name', ({ current, want }) => {
    const points = weightHistory(parseCanaryEvents(lines, 'catalog-release.istioinaction'), current, t('20.000'));
    expect(points.map((p) => [p.at, p.weight])).toEqual(want);
  });
});

describe('canaries in the snapshot', () => {
  it('each canary gets its own answers from the metrics provider, and the name of the provider that gave them', () => {
    const canary = (name: string, status: Record<string, unknown>): KubeObject => ({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name, namespace: 'istioinaction' },
      spec: { targetRef: { name: 'catalog' }, service: { port: 80 }, analysis: { metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }, { name: 'request-duration', thresholdRange: { max: 500 } }] } },
      status,
    });
    const query = 'sum(rate(...)) * 100';
    const s = buildSnapshot(
      input({
        objects: [...BASE, canary('catalog-release', { phase: 'Progressing', canaryWeight: 20 }), canary('other', {})],
        canaryChecks: { 'catalog-release.istioinaction': [{ query, outcome: { value: 99.5 } }, { query, outcome: { value: 12 } }] },
        metricsProvider: 'embedded',
      }),
    );
    expect(s.canaries.map((c) => [c.name, c.provider, c.phase, c.checks.map((k) => [k.value, k.ok])])).toEqual([
      ['catalog-release', 'embedded', 'Progressing', [[99.5, true], [12, true]]],
      ['other', 'embedded', 'Initializing', [[NaN, false], [NaN, false]]],
    ]);
    expect(s.canaries[0]!.checks[0]!.query).toBe(query);
  });
});

describe('scrape history', () => {
  it('keeps every recent scrape, one per 5 s before that, nothing past the horizon', () => {
    const now = 100_000;
    const history = Array.from({ length: 100 }, (_, i) => ({ at: i * 1000 + 500, samples: [] }));
    const kept = thinScrapes(history, now, 60_000).map((s) => s.at);
    expect(kept[0]).toBeGreaterThanOrEqual(now - 60_000);
    expect(kept.filter((a) => a >= now - 20_000)).toEqual(history.filter((s) => s.at >= now - 20_000).map((s) => s.at));
    const older = kept.filter((a) => a < now - 20_000);
    expect(new Set(older.map((a) => Math.floor(a / 5000))).size).toBe(older.length);
  });
});

describe('windowStart', () => {
  it.each([
    [25, 10, 10],
    [25, 5, 20],
    [20, 0, 20],
    [25, 30, undefined],
  ])('now %i, window %i: starts at the scrape of %s', (now, windowMs, at) => {
    const h = [{ at: 0, samples: [] }, { at: 10, samples: [] }, { at: 20, samples: [] }];
    expect(windowStart(h, now, windowMs)?.at).toBe(at);
  });
});
