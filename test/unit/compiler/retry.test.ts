/**
 * VirtualService `retries` -> the compiled route's retry policy, as Istio's pilot builds it
 * (retry.ConvertPolicy / DefaultPolicy), and which routes of a table carry one at all.
 */
import { describe, expect, it } from 'vitest';
import { convertRetryPolicy, defaultRetryPolicy, parseRetryOn } from '../../../src/compiler/retry.js';
import type { HTTPRetry } from '../../../src/model/specs.js';
import type { ProxyTable, RetryPolicy, Route } from '../../../src/model/table.js';
import { GATEWAY_NODE, compile, objects, pod, sidecarNode } from '../../helpers/sim.js';

const DEFAULT: RetryPolicy = {
  numRetries: 2,
  retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'],
  retriableStatusCodes: [503],
  previousHosts: true,
  hostSelectionRetryMaxAttempts: 5,
};

describe('convertRetryPolicy (Istio 1.16 semantics)', () => {
  const cases: Array<[string, HTTPRetry | undefined, RetryPolicy | undefined]> = [
    ['no retries field: Istio default', undefined, DEFAULT],
    ['attempts: 0 disables retries', { attempts: 0 }, undefined],
    ['retries without attempts is attempts 0 (proto3): no retries', { perTryTimeout: '1s' }, undefined],
    ['negative attempts: no retries', { attempts: -1 }, undefined],
    ['attempts only: the default with that count', { attempts: 5 }, { ...DEFAULT, numRetries: 5 }],
    ['retryOn replaces conditions and codes', { attempts: 3, retryOn: '5xx,connect-failure' }, { ...DEFAULT, numRetries: 3, retryOn: ['5xx', 'connect-failure'], retriableStatusCodes: [] }],
    [
      'status codes in retryOn become retriable codes, and the condition is added',
      { attempts: 2, retryOn: 'gateway-error, 429 ,503' },
      { ...DEFAULT, retryOn: ['gateway-error', 'retriable-status-codes'], retriableStatusCodes: [429, 503] },
    ],
    [
      'retriable-status-codes already present is not added twice',
      { attempts: 2, retryOn: 'retriable-status-codes,409' },
      { ...DEFAULT, retryOn: ['retriable-status-codes'], retriableStatusCodes: [409] },
    ],
    ['an integer that is no HTTP status stays a condition', { attempts: 1, retryOn: '999' }, { ...DEFAULT, numRetries: 1, retryOn: ['999'], retriableStatusCodes: [] }],
    ['empty retryOn keeps the default conditions', { attempts: 4, retryOn: '' }, { ...DEFAULT, numRetries: 4 }],
    ['perTryTimeout', { attempts: 3, perTryTimeout: '250ms' }, { ...DEFAULT, numRetries: 3, perTryTimeoutMs: 250 }],
    ['perTryTimeout 0s is none', { attempts: 3, perTryTimeout: '0s' }, { ...DEFAULT, numRetries: 3 }],
    ['backoff', { attempts: 2, backoff: '100ms' }, { ...DEFAULT, backoffBaseMs: 100 }],
    ['retryIgnorePreviousHosts: false drops previous_hosts', { attempts: 2, retryIgnorePreviousHosts: false }, { ...DEFAULT, previousHosts: false }],
    ['retryRemoteLocalities changes nothing (one locality)', { attempts: 2, retryRemoteLocalities: true }, DEFAULT],
  ];
  it.each(cases)('%s', (_name, retries, want) => {
    expect(convertRetryPolicy(retries)).toEqual(want);
  });

  it('defaults are fresh objects (tables are plain JSON that proxies own)', () => {
    const a = defaultRetryPolicy();
    a.retryOn.push('x');
    expect(defaultRetryPolicy()).toEqual(DEFAULT);
  });

  it('parseRetryOn splits, trims and drops empty parts', () => {
    expect(parseRetryOn(' 5xx,,503 , reset ')).toEqual({ conditions: ['5xx', 'reset'], codes: [503] });
  });
});

describe('which routes carry a retry policy', () => {
  const base = objects(`
apiVersion: v1
kind: Service
metadata: { name: catalog }
spec:
  selector: { app: catalog }
  ports: [{ name: http, port: 80, targetPort: 3000 }]
---
apiVersion: v1
kind: Service
metadata: { name: webapp }
spec:
  selector: { app: webapp }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
---
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: { name: coolstore-gateway }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["webapp.istioinaction.io"]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: webapp-virtualservice }
spec:
  hosts: ["webapp.istioinaction.io"]
  gateways: [coolstore-gateway]
  http:
  - route:
    - destination: { host: webapp, port: { number: 80 } }
`);
  const pods = [pod('catalog-1', { app: 'catalog' }, '127.1.1.10', 3000), pod('webapp-1', { app: 'webapp' }, '127.1.1.12', 8080)];
  const catalogVs = (http: string) =>
    objects(`
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: catalog }
spec:
  hosts: [catalog]
  http:
${http}
`);
  const routesOf = (t: ProxyTable, rc: string, vhost: string): Route[] => t.routeConfigs[rc]!.virtualHosts.find((v) => v.name === vhost)!.routes;
  const policyOf = (r: Route) => (r.action.kind === 'route' ? r.action.retryPolicy : 'direct');
  const webapp = sidecarNode('webapp', { app: 'webapp' }, '127.1.1.12', 'istioinaction', [8080]);
  const CATALOG = 'catalog.istioinaction.svc.cluster.local:80';

  it('a sidecar route without a VirtualService gets the default (BuildDefaultHTTPOutboundRoute)', () => {
    const t = compile([...base, ...pods], webapp);
    expect(routesOf(t, '80', CATALOG).map(policyOf)).toEqual([DEFAULT]);
  });
  it('inbound routes and allow_any have none', () => {
    const t = compile([...base, ...pods], webapp);
    expect(t.routeConfigs['inbound|8080']!.virtualHosts[0]!.routes.map(policyOf)).toEqual([undefined]);
    expect(policyOf(t.routeConfigs['80']!.fallback!)).toBeUndefined();
  });
  it('a gateway route from a VirtualService without retries gets the default', () => {
    const t = compile([...base, ...pods], GATEWAY_NODE);
    expect(routesOf(t, 'http.80', 'webapp.istioinaction.io:80').map(policyOf)).toEqual([DEFAULT]);
  });
  it('VirtualService retries apply per http route; attempts 0 removes the policy', () => {
    const vs = catalogVs(`
  - match: [{ headers: { x-istio-cohort: { exact: internal } } }]
    retries: { attempts: 0 }
    route: [{ destination: { host: catalog } }]
  - retries: { attempts: 4, retryOn: "gateway-error", perTryTimeout: 2s }
    route: [{ destination: { host: catalog } }]
  - route: [{ destination: { host: catalog } }]
`);
    const t = compile([...base, ...pods, ...vs], webapp);
    expect(routesOf(t, '80', CATALOG).map(policyOf)).toEqual([
      undefined,
      { ...DEFAULT, numRetries: 4, retryOn: ['gateway-error'], retriableStatusCodes: [], perTryTimeoutMs: 2000 },
      DEFAULT,
    ]);
  });
  it('a direct response has no retry policy', () => {
    const vs = catalogVs(`
  - directResponse: { status: 503 }
`);
    const t = compile([...base, ...pods, ...vs], webapp);
    expect(routesOf(t, '80', CATALOG).map(policyOf)).toEqual(['direct']);
  });
});
