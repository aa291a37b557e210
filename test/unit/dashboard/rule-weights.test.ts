import { describe, expect, it } from 'vitest';
import { ruleWeights } from '../../../src/dashboard/rule-weights.js';
import type { KubeObject } from '../../../src/model/objects.js';
import { deployment, object } from './fixtures.js';

const WEB = 'istioinaction/webapp';
const V1 = 'istioinaction/catalog';
const V2 = 'istioinaction/catalog-v2';
const PRIMARY = 'istioinaction/catalog-primary';

const BASE: KubeObject[] = [
  deployment('webapp', { app: 'webapp' }),
  deployment('forum', { app: 'forum' }),
  deployment('catalog', { app: 'catalog', version: 'v1' }),
  deployment('catalog-v2', { app: 'catalog', version: 'v2' }),
  object('Service', 'catalog', { selector: { app: 'catalog' } }),
  object('DestinationRule', 'catalog', { host: 'catalog', subsets: [{ name: 'version-v1', labels: { version: 'v1' } }, { name: 'version-v2', labels: { version: 'v2' } }] }),
];

const split = (w1: number, w2: number, extra: Record<string, unknown> = {}) =>
  object('VirtualService', 'catalog', {
    hosts: ['catalog'],
    gateways: ['mesh'],
    http: [{ ...extra, route: [{ destination: { host: 'catalog', subset: 'version-v1' }, weight: w1 }, { destination: { host: 'catalog', subset: 'version-v2' }, weight: w2 }] }],
  });

const pairs = [
  { source: WEB, target: V1 },
  { source: WEB, target: V2 },
];

describe('the weight a VirtualService route gives each edge', () => {
  it.each([
    { name: "the book's 90/10", vs: [split(90, 10)], want: { [`${WEB}->${V1}`]: 90, [`${WEB}->${V2}`]: 10 } },
    { name: '50/50', vs: [split(50, 50)], want: { [`${WEB}->${V1}`]: 50, [`${WEB}->${V2}`]: 50 } },
    { name: 'a route for webapp by sourceLabels', vs: [split(70, 30, { match: [{ sourceLabels: { app: 'webapp' } }] })], want: { [`${WEB}->${V1}`]: 70, [`${WEB}->${V2}`]: 30 } },
    { name: 'no split: one destination', vs: [object('VirtualService', 'catalog', { hosts: ['catalog'], http: [{ route: [{ destination: { host: 'catalog', subset: 'version-v1' } }] }] })], want: {} },
    { name: 'a route matching on headers cannot be judged per edge', vs: [split(90, 10, { match: [{ headers: { 'x-istio-cohort': { exact: 'internal' } } }] })], want: {} },
    { name: 'a gateway-only rule is not the mesh\'s', vs: [object('VirtualService', 'catalog', { hosts: ['catalog'], gateways: ['coolstore-gateway'], http: [{ route: [{ destination: { host: 'catalog', subset: 'version-v1' }, weight: 90 }, { destination: { host: 'catalog', subset: 'version-v2' }, weight: 10 }] }] })], want: {} },
    { name: 'no VirtualService', vs: [], want: {} },
  ])('$name', ({ vs, want }) => {
    expect(Object.fromEntries(ruleWeights([...BASE, ...vs], pairs))).toEqual(want);
  });

  it("a client the sourceLabels route does not select falls to the next route", () => {
    const vs = object('VirtualService', 'catalog', {
      hosts: ['catalog'],
      http: [
        { match: [{ sourceLabels: { app: 'webapp' } }], route: [{ destination: { host: 'catalog', subset: 'version-v1' }, weight: 70 }, { destination: { host: 'catalog', subset: 'version-v2' }, weight: 30 }] },
        { route: [{ destination: { host: 'catalog', subset: 'version-v1' }, weight: 20 }, { destination: { host: 'catalog', subset: 'version-v2' }, weight: 80 }] },
      ],
    });
    const forum = 'istioinaction/forum';
    expect(Object.fromEntries(ruleWeights([...BASE, vs], [{ source: forum, target: V1 }, { source: forum, target: V2 }, { source: WEB, target: V2 }]))).toEqual({
      [`${forum}->${V1}`]: 20,
      [`${forum}->${V2}`]: 80,
      [`${WEB}->${V2}`]: 30,
    });
  });

  it("Flagger's generated rule: primary and canary Services, the canary at its current weight", () => {
    const objects = [
      deployment('webapp', { app: 'webapp' }),
      deployment('catalog', { app: 'catalog', version: 'v1' }),
      deployment('catalog-primary', { app: 'catalog-primary', version: 'v1' }),
      object('Service', 'catalog-primary', { selector: { app: 'catalog-primary' } }),
      object('Service', 'catalog-canary', { selector: { app: 'catalog' } }),
      object('VirtualService', 'catalog', {
        hosts: ['catalog'],
        gateways: ['mesh'],
        http: [
          { match: [{ sourceLabels: { app: 'webapp' } }], route: [{ destination: { host: 'catalog-primary' }, weight: 70 }, { destination: { host: 'catalog-canary' }, weight: 30 }] },
          { route: [{ destination: { host: 'catalog-primary' }, weight: 100 }] },
        ],
      }),
    ];
    expect(Object.fromEntries(ruleWeights(objects, [{ source: WEB, target: PRIMARY }, { source: WEB, target: V1 }]))).toEqual({ [`${WEB}->${PRIMARY}`]: 70, [`${WEB}->${V1}`]: 30 });
  });
});
