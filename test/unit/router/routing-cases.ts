/**
 * The routing conformance table (in the spirit of hono's router tests and Istio's
 * pilot/pkg/simulation): a small RouteConfiguration, a request, and what must be decided.
 * Each source of semantics is noted where it is not obvious.
 */
import type { RouteConfiguration, RouteMatch } from '../../../src/model/table.js';
import type { RouteRequest } from '../../../src/router/request.js';
import { ALLOW_ANY, BLOCK_ALL, config, direct, forward, vhost } from './fixtures.js';

export type Expected =
  | { kind: 'forward'; route: string; cluster?: string; vhost?: string }
  | { kind: 'direct'; route: string; status: number; body?: string; logCluster?: string }
  | { kind: 'no_route'; vhost?: string };

export interface RoutingCase {
  name: string;
  config: RouteConfiguration;
  req: Partial<RouteRequest>;
  expect: Expected;
}

const HIT: Expected = { kind: 'forward', route: 'hit', cluster: 'c-hit' };
const MISS: Expected = { kind: 'forward', route: 'default', cluster: 'c-default' };

/** One route with `match`, then a catch-all: the request either hits the first or falls through. */
function oneMatch(match: RouteMatch): RouteConfiguration {
  return config([
    vhost('catalog:80', ['catalog', 'catalog:80'], [
      forward('hit', [match], 'c-hit'),
      forward('default', [], 'c-default'),
    ]),
  ]);
}

function matchCases(
  title: string,
  match: RouteMatch,
  rows: [string, Partial<RouteRequest>, boolean][],
): RoutingCase[] {
  const cfg = oneMatch(match);
  return rows.map(([label, req, hit]) => ({
    name: `${title}: ${label}`,
    config: cfg,
    req,
    expect: hit ? HIT : MISS,
  }));
}

const uriCases: RoutingCase[] = [
  ...matchCases('uri exact', { uri: { exact: '/items' } }, [
    ['same path', { path: '/items' }, true],
    ['trailing slash differs', { path: '/items/' }, false],
    ['query string is not part of the path', { path: '/items?x=1' }, true],
    ['fragment is not part of the path', { path: '/items#top' }, true],
    ['case-sensitive', { path: '/Items' }, false],
    ['longer path', { path: '/items/1' }, false],
  ]),
  ...matchCases('uri prefix', { uri: { prefix: '/api' } }, [
    ['sub path', { path: '/api/v1' }, true],
    ['plain string prefix, not a segment', { path: '/apiv2' }, true],
    ['shorter', { path: '/ap' }, false],
    ['case-sensitive', { path: '/API/v1' }, false],
    ['prefix only in the query does not count', { path: '/x?/api' }, false],
  ]),
  // Envoy's PathMatcher strips the query before matching, so a prefix cannot reach into it.
  ...matchCases('uri prefix with a ?', { uri: { prefix: '/items?debug' } }, [
    ['query is stripped first', { path: '/items?debug=1' }, false],
  ]),
  ...matchCases('uri regex is a full match (RE2)', { uri: { regex: '/item' } }, [
    ['exact text', { path: '/item' }, true],
    ['longer path is not a match', { path: '/items' }, false],
    ['substring is not a match', { path: '/x/item' }, false],
  ]),
  ...matchCases('uri regex', { uri: { regex: '/items/[0-9]+' } }, [
    ['digits', { path: '/items/42' }, true],
    ['query ignored', { path: '/items/42?verbose=1' }, true],
    ['extra segment', { path: '/items/42/x' }, false],
  ]),
  ...matchCases('uri regex alternation stays anchored', { uri: { regex: '/a|/b' } }, [
    ['first branch', { path: '/a' }, true],
    ['second branch', { path: '/b' }, true],
    ['neither branch whole', { path: '/ab' }, false],
  ]),
  ...matchCases('uri exact ignoreUriCase', { uri: { exact: '/Items' }, ignoreUriCase: true }, [
    ['upper', { path: '/ITEMS' }, true],
    ['lower', { path: '/items' }, true],
    ['different length', { path: '/itemss' }, false],
  ]),
  ...matchCases('uri prefix ignoreUriCase', { uri: { prefix: '/API' }, ignoreUriCase: true }, [
    ['lower', { path: '/api/v1' }, true],
    ['mixed', { path: '/Api' }, true],
  ]),
  // ignoreUriCase only affects exact/prefix (Istio): regex keeps its own case handling.
  ...matchCases('uri regex ignores ignoreUriCase', { uri: { regex: '/items' }, ignoreUriCase: true }, [
    ['upper', { path: '/ITEMS' }, false],
  ]),
  ...matchCases('uri regex with (?i)', { uri: { regex: '(?i)/items' } }, [
    ['upper', { path: '/ITEMS' }, true],
  ]),
];

const headerCases: RoutingCase[] = [
  ...matchCases('header exact', { headers: { 'x-dark-launch': { exact: 'v2' } } }, [
    ['equal', { headers: { 'x-dark-launch': 'v2' } }, true],
    ['values are case-sensitive', { headers: { 'x-dark-launch': 'V2' } }, false],
    ['longer', { headers: { 'x-dark-launch': 'v2x' } }, false],
    ['absent', { headers: {} }, false],
  ]),
  ...matchCases('header prefix', { headers: { 'user-agent': { prefix: 'curl/' } } }, [
    ['prefix', { headers: { 'user-agent': 'curl/7.84.0' } }, true],
    ['elsewhere', { headers: { 'user-agent': 'xcurl/7' } }, false],
  ]),
  ...matchCases('header regex is a full match', { headers: { 'user-agent': { regex: 'Firefox' } } }, [
    ['contains but not whole', { headers: { 'user-agent': 'Mozilla Firefox/1' } }, false],
    ['whole', { headers: { 'user-agent': 'Firefox' } }, true],
  ]),
  ...matchCases('header regex', { headers: { 'user-agent': { regex: '.*Firefox.*' } } }, [
    ['contains', { headers: { 'user-agent': 'Mozilla/5.0 Firefox/100' } }, true],
    ['other', { headers: { 'user-agent': 'curl/7' } }, false],
  ]),
  ...matchCases('header present', { headers: { 'x-debug': { present: true } } }, [
    ['any value', { headers: { 'x-debug': 'yes' } }, true],
    ['empty value still present', { headers: { 'x-debug': '' } }, true],
    ['absent', { headers: {} }, false],
  ]),
  // Istio turns `regex: "*"` into a presence check (istio/istio PR 20629).
  ...matchCases('header regex "*" means present', { headers: { 'x-debug': { regex: '*' } } }, [
    ['present', { headers: { 'x-debug': 'a' } }, true],
    ['absent', { headers: {} }, false],
  ]),
  ...matchCases('repeated header joined with ","', { headers: { 'x-tag': { exact: 'a,b' } } }, [
    ['array value', { headers: { 'x-tag': ['a', 'b'] } }, true],
    ['single value', { headers: { 'x-tag': 'a' } }, false],
  ]),
  ...matchCases('header names are lowercase; :authority is the authority', {
    headers: { ':authority': { exact: 'catalog:80' } },
  }, [
    ['pseudo-header', { authority: 'catalog:80' }, true],
  ]),
  ...matchCases('withoutHeaders exact', { withoutHeaders: { 'x-canary': { exact: 'true' } } }, [
    ['missing header: the condition holds', { headers: {} }, true],
    ['matching header: excluded', { headers: { 'x-canary': 'true' } }, false],
    ['other value', { headers: { 'x-canary': 'false' } }, true],
  ]),
  ...matchCases('withoutHeaders present', { withoutHeaders: { 'x-canary': { present: true } } }, [
    ['missing', { headers: {} }, true],
    ['present, even empty', { headers: { 'x-canary': '' } }, false],
  ]),
  // Istio sets treat_missing_header_as_empty: a missing header is matched as "" then inverted.
  ...matchCases('withoutHeaders exact ""', { withoutHeaders: { 'x-canary': { exact: '' } } }, [
    ['missing counts as empty: excluded', { headers: {} }, false],
    ['non-empty', { headers: { 'x-canary': 'a' } }, true],
  ]),
];

const otherFieldCases: RoutingCase[] = [
  ...matchCases('method', { method: { exact: 'GET' } }, [
    ['GET', { method: 'GET' }, true],
    ['POST', { method: 'POST' }, false],
    ['case-sensitive', { method: 'get' }, false],
  ]),
  ...matchCases('authority exact', { authority: { exact: 'catalog:80' } }, [
    ['with port', { authority: 'catalog:80' }, true],
    ['without port', { authority: 'catalog' }, false],
  ]),
  ...matchCases('authority prefix', { authority: { prefix: 'catalog' } }, [
    ['with port', { authority: 'catalog:80' }, true],
    ['bare', { authority: 'catalog' }, true],
  ]),
  ...matchCases('scheme', { scheme: { exact: 'https' } }, [
    ['https', { scheme: 'https' }, true],
    ['http', { scheme: 'http' }, false],
  ]),
  ...matchCases('port', { port: 8080 }, [
    ['same listener port', { port: 8080 }, true],
    ['other port', { port: 80 }, false],
  ]),
  // Istio: an empty StringMatch is a presence check (method/scheme/authority always exist) and
  // `uri: {}` keeps the default `prefix: /`.
  ...matchCases('empty StringMatch on uri/method/scheme/authority', {
    uri: {} as never,
    method: {} as never,
    scheme: { regex: '*' },
    authority: {} as never,
  }, [
    ['always holds', { path: '/anything', method: 'DELETE' }, true],
  ]),
  ...matchCases('queryParams exact', { queryParams: { debug: { exact: 'true' } } }, [
    ['equal', { path: '/?debug=true' }, true],
    ['values are case-sensitive', { path: '/?debug=TRUE' }, false],
    ['among others', { path: '/items?a=1&debug=true&b=2' }, true],
    ['first occurrence wins (hit)', { path: '/?debug=true&debug=false' }, true],
    ['first occurrence wins (miss)', { path: '/?debug=false&debug=true' }, false],
    ['bare key has value ""', { path: '/?debug' }, false],
    ['absent', { path: '/?x=1' }, false],
    ['no query', { path: '/' }, false],
    ['names are case-sensitive', { path: '/?DEBUG=true' }, false],
    ['fragment is not part of the value', { path: '/?debug=true#x' }, true],
  ]),
  ...matchCases('queryParams exact ""', { queryParams: { debug: { exact: '' } } }, [
    ['bare key', { path: '/?debug' }, true],
    ['empty value', { path: '/?debug=' }, true],
    ['value', { path: '/?debug=1' }, false],
    ['absent', { path: '/' }, false],
  ]),
  // Envoy matches the raw value: no percent-decoding.
  ...matchCases('queryParams are not decoded', { queryParams: { name: { exact: 'a b' } } }, [
    ['encoded space', { path: '/?name=a%20b' }, false],
  ]),
  ...matchCases('queryParams prefix', { queryParams: { v: { prefix: '1.' } } }, [
    ['prefix', { path: '/?v=1.2' }, true],
    ['other', { path: '/?v=2.1' }, false],
  ]),
  ...matchCases('queryParams regex full match', { queryParams: { id: { regex: '\\d+' } } }, [
    ['digits', { path: '/?id=123' }, true],
    ['leading letter', { path: '/?id=a123' }, false],
    ['trailing letter', { path: '/?id=123a' }, false],
  ]),
  ...matchCases('queryParams regex "*" means present', { queryParams: { flag: { regex: '*' } } }, [
    ['bare key', { path: '/?flag' }, true],
    ['with value', { path: '/?flag=x' }, true],
    ['absent', { path: '/' }, false],
  ]),
];

const combinationCases: RoutingCase[] = [
  ...matchCases('fields in one entry are ANDed', {
    uri: { prefix: '/api' },
    headers: { 'x-user': { exact: 'jason' } },
    method: { exact: 'GET' },
  }, [
    ['all hold', { path: '/api/x', headers: { 'x-user': 'jason' } }, true],
    ['uri only', { path: '/api/x' }, false],
    ['header only', { path: '/', headers: { 'x-user': 'jason' } }, false],
    ['wrong method', { path: '/api/x', method: 'POST', headers: { 'x-user': 'jason' } }, false],
  ]),
  ...(() => {
    const cfg = config([
      vhost('catalog:80', ['catalog:80'], [
        forward('hit', [{ headers: { 'x-user': { exact: 'jason' } } }, { uri: { prefix: '/v2' } }], 'c-hit'),
        forward('default', [], 'c-default'),
      ]),
    ]);
    const rows: [string, Partial<RouteRequest>, Expected][] = [
      ['first entry', { headers: { 'x-user': 'jason' } }, HIT],
      ['second entry', { path: '/v2/items' }, HIT],
      ['neither', { path: '/v1' }, MISS],
    ];
    return rows.map(([label, req, expect]) => ({ name: `match entries are ORed: ${label}`, config: cfg, req, expect }));
  })(),
];

const precedenceConfig = config([
  vhost('catalog:80', ['catalog:80'], [
    forward('api', [{ uri: { prefix: '/api' } }], 'c-api'),
    forward('api-v2', [{ uri: { prefix: '/api/v2' } }], 'c-api-v2'),
    forward('named', [
      { name: 'by-header', headers: { 'x-test': { exact: '1' } } },
      { uri: { exact: '/unnamed' } },
      { name: 'by-uri', uri: { exact: '/named' } },
    ], 'c-named'),
    direct('teapot', [{ uri: { exact: '/teapot' } }], 418, "I'm a teapot"),
    forward('catch-all', [], 'c-all'),
    forward('unreachable', [{ uri: { exact: '/never' } }], 'c-never'),
  ]),
  vhost('reviews:80', ['reviews:80'], [forward('only-x', [{ uri: { exact: '/x' } }], 'c-x')]),
]);

const precedenceCases: RoutingCase[] = [
  {
    name: 'first matching route wins, not the most specific',
    config: precedenceConfig,
    req: { path: '/api/v2/items' },
    expect: { kind: 'forward', route: 'api', cluster: 'c-api' },
  },
  {
    name: 'a catch-all stops later routes',
    config: precedenceConfig,
    req: { path: '/never' },
    expect: { kind: 'forward', route: 'catch-all', cluster: 'c-all' },
  },
  {
    name: 'route name gets the match entry name',
    config: precedenceConfig,
    req: { path: '/x', headers: { 'x-test': '1' } },
    expect: { kind: 'forward', route: 'named.by-header', cluster: 'c-named' },
  },
  {
    name: 'second named entry',
    config: precedenceConfig,
    req: { path: '/named' },
    expect: { kind: 'forward', route: 'named.by-uri' },
  },
  {
    name: 'unnamed entry keeps the route name',
    config: precedenceConfig,
    req: { path: '/unnamed' },
    expect: { kind: 'forward', route: 'named' },
  },
  {
    name: 'direct response',
    config: precedenceConfig,
    req: { path: '/teapot' },
    expect: { kind: 'direct', route: 'teapot', status: 418, body: "I'm a teapot" },
  },
  {
    name: 'vhost found but no route matches: no_route, no other vhost is tried',
    config: precedenceConfig,
    req: { authority: 'reviews:80', path: '/y' },
    expect: { kind: 'no_route', vhost: 'reviews:80' },
  },
];

const hostsConfig = config([
  vhost('catalog.istioinaction.svc.cluster.local:80', [
    'catalog', 'catalog:80', 'catalog.istioinaction', 'catalog.istioinaction:80',
    'catalog.istioinaction.svc.cluster.local', 'catalog.istioinaction.svc.cluster.local:80',
    '10.0.0.5', '10.0.0.5:80',
  ], [forward('default', [], 'outbound|80||catalog.istioinaction.svc.cluster.local')]),
  vhost('suffix', ['*.example.com'], [forward('suffix', [], 'c')]),
  vhost('suffix-longer', ['*.api.example.com'], [forward('suffix-longer', [], 'c')]),
  vhost('exact-www', ['www.example.com'], [forward('exact-www', [], 'c')]),
  vhost('prefix', ['foo.*'], [forward('prefix', [], 'c')]),
  vhost('prefix-longer', ['foo.bar.*'], [forward('prefix-longer', [], 'c')]),
  vhost('gateway', ['catalog.istioinaction.io'], [forward('gateway', [], 'c')]),
  vhost('gateway-any-port', ['webapp.istioinaction.io', 'webapp.istioinaction.io:*'], [forward('gateway-any-port', [], 'c')]),
  vhost('v6', ['[::1]', '[::1]:80'], [forward('v6', [], 'c')]),
]);

function hostCase(authority: string, vhostName: string | undefined, cfg = hostsConfig): RoutingCase {
  return {
    name: `vhost for ${JSON.stringify(authority)} -> ${vhostName ?? 'none'}`,
    config: cfg,
    req: { authority },
    expect: vhostName === undefined ? { kind: 'no_route' } : { kind: 'forward', route: routeOf(vhostName, cfg), vhost: vhostName },
  };
}

function routeOf(vhostName: string, cfg: RouteConfiguration): string {
  const vh = cfg.virtualHosts.find((v) => v.name === vhostName);
  return vh ? vh.routes[0]!.name : cfg.fallback!.name;
}

const CATALOG = 'catalog.istioinaction.svc.cluster.local:80';
const withAny = config([
  vhost('gateway', ['catalog.istioinaction.io'], [forward('gateway', [], 'c')]),
  vhost('any', ['*'], [forward('any', [], 'c')]),
]);

const vhostCases: RoutingCase[] = [
  hostCase('catalog', CATALOG),
  hostCase('catalog:80', CATALOG),
  hostCase('catalog.istioinaction.svc.cluster.local:80', CATALOG),
  hostCase('10.0.0.5:80', CATALOG),
  hostCase('CATALOG.IstioInAction:80', CATALOG),
  // host:port not listed: retried as the bare host (see vhost-index.ts).
  hostCase('catalog:8080', CATALOG),
  hostCase('catalog.istioinaction.io:80', 'gateway'),
  hostCase('webapp.istioinaction.io:8080', 'gateway-any-port'),
  hostCase('a.example.com', 'suffix'),
  hostCase('A.Example.COM', 'suffix'),
  hostCase('a.example.com:80', 'suffix'),
  hostCase('x.api.example.com', 'suffix-longer'),
  hostCase('www.example.com', 'exact-www'),
  hostCase('example.com', undefined),
  // A wildcard stands for at least one character.
  hostCase('.example.com', undefined),
  hostCase('foo.x', 'prefix'),
  hostCase('foo.bar.baz', 'prefix-longer'),
  // Suffix wildcards are tried before prefix wildcards.
  hostCase('foo.api.example.com', 'suffix-longer'),
  hostCase('[::1]', 'v6'),
  hostCase('[::1]:80', 'v6'),
  hostCase('[::1]:9090', 'v6'),
  hostCase('unknown', undefined),
  hostCase('', undefined),
  hostCase('catalog.istioinaction.io:80', 'gateway', withAny),
  hostCase('other.io', 'any', withAny),
];

const fallbackCases: RoutingCase[] = [
  {
    name: 'ALLOW_ANY fallback for an unknown host',
    config: config([vhost('catalog:80', ['catalog:80'], [forward('default', [], 'c')])], ALLOW_ANY),
    req: { authority: 'jsonplaceholder.typicode.com:80' },
    expect: { kind: 'forward', route: 'allow_any', cluster: 'PassthroughCluster', vhost: 'allow_any' },
  },
  {
    name: 'REGISTRY_ONLY fallback answers 502 itself',
    config: config([vhost('catalog:80', ['catalog:80'], [forward('default', [], 'c')])], BLOCK_ALL),
    req: { authority: 'jsonplaceholder.typicode.com:80' },
    expect: { kind: 'direct', route: 'block_all', status: 502, logCluster: 'BlackHoleCluster' },
  },
  {
    name: 'the fallback is not used when a vhost matched',
    config: config([vhost('catalog:80', ['catalog:80'], [forward('x', [{ uri: { exact: '/x' } }], 'c')])], ALLOW_ANY),
    req: { authority: 'catalog:80', path: '/y' },
    expect: { kind: 'no_route', vhost: 'catalog:80' },
  },
  {
    name: 'no vhost and no fallback (a gateway): no_route',
    config: config([vhost('catalog:80', ['catalog:80'], [forward('default', [], 'c')])]),
    req: { authority: 'other:80' },
    expect: { kind: 'no_route' },
  },
  {
    name: 'a route configuration with no virtual hosts at all',
    config: config([]),
    req: {},
    expect: { kind: 'no_route' },
  },
];

export const ROUTING_CASES: readonly RoutingCase[] = [
  ...uriCases,
  ...headerCases,
  ...otherFieldCases,
  ...combinationCases,
  ...precedenceCases,
  ...vhostCases,
  ...fallbackCases,
];
