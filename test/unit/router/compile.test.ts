import { describe, expect, it } from 'vitest';
import type { RouteConfiguration } from '../../../src/model/table.js';
import { compileRouteConfig } from '../../../src/router/compile.js';
import { decide } from '../../../src/router/decide.js';
import { NO_ROUTE, type ForwardDecision } from '../../../src/router/decision.js';
import { RouteCompileError } from '../../../src/router/errors.js';
import { createRandom } from '../../../src/router/random.js';
import { rewritePath } from '../../../src/router/rewrite.js';
import { config, direct, forward, request, sidecarDomains, vhost } from './fixtures.js';

function forwardDecision(rc: RouteConfiguration, path: string): ForwardDecision {
  const d = decide(compileRouteConfig(rc), request({ path }), createRandom(1));
  if (d.kind !== 'forward') throw new Error(`expected forward, got ${d.kind}`);
  return d;
}

describe('compiled route configuration', () => {
  const rc = config([
    vhost('catalog:80', ['catalog:80'], [
      forward('r', [{ uri: { prefix: '/api' } }], 'c', { mirrors: [{ cluster: 'm', percentage: 100 }] }),
      direct('d', [], 503),
    ]),
  ]);

  it('freezes every structure it builds', () => {
    const c = compileRouteConfig(rc);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.virtualHosts)).toBe(true);
    expect(Object.isFrozen(c.virtualHosts[0]!.domains)).toBe(true);
    const route = c.virtualHosts[0]!.routes[0]!;
    expect(Object.isFrozen(c.virtualHosts[0]!.routes)).toBe(true);
    expect(Object.isFrozen(route)).toBe(true);
    expect(Object.isFrozen(route.entries)).toBe(true);
    expect(Object.isFrozen(route.entries[0])).toBe(true);
    expect(Object.isFrozen(route.entries[0]!.decide(createRandom(1)))).toBe(true);
  });

  it('does not modify, copy or freeze the input: routes use its action and match objects', () => {
    const before = JSON.stringify(rc);
    const c = compileRouteConfig(rc);
    expect(JSON.stringify(rc)).toBe(before);
    const input = rc.virtualHosts[0]!.routes[0]!;
    expect(Object.isFrozen(input.action)).toBe(false);
    expect(c.virtualHosts[0]!.routes[0]!.action).toBe(input.action);
    expect(c.virtualHosts[0]!.routes[0]!.matches).toBe(input.matches);
  });

  it('hands out the same frozen decision object for the same outcome', () => {
    const c = compileRouteConfig(rc);
    const rng = createRandom(3);
    const a = decide(c, request({ path: '/api/1' }), rng);
    const b = decide(c, request({ path: '/api/2' }), rng);
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
    expect(a.kind === 'forward' && a.mirrors).toEqual(['m']);
    const d1 = decide(c, request({ path: '/x' }), rng);
    expect(d1).toBe(decide(c, request({ path: '/y' }), rng));
    expect(decide(c, request({ authority: 'nope' }), rng)).toBe(NO_ROUTE);
  });

  it('shares one empty mirrors array between decisions without mirrors', () => {
    const a = forwardDecision(config([vhost('a', ['catalog:80'], [forward('a', [], 'x')])]), '/');
    const b = forwardDecision(config([vhost('b', ['catalog:80'], [forward('b', [], 'y')])]), '/');
    expect(a.mirrors).toBe(b.mirrors);
  });

  it('points decisions back at their compiled route', () => {
    const c = compileRouteConfig(rc);
    const d = decide(c, request({ path: '/api' }), createRandom(1));
    expect(d.kind === 'forward' && d.route).toBe(c.virtualHosts[0]!.routes[0]);
    expect(d.kind === 'forward' && d.route.entries.length).toBe(1);
  });

  it('selects among 10,000 virtual hosts', () => {
    const hosts = Array.from({ length: 10_000 }, (_, i) =>
      vhost(`svc-${i}.ns.svc.cluster.local:80`, sidecarDomains(`svc-${i}`, 'ns', 80), [forward(`r${i}`, [], `c${i}`)]),
    );
    const c = compileRouteConfig(config(hosts));
    const rng = createRandom(1);
    for (const i of [0, 1, 4_999, 9_999]) {
      const d = decide(c, request({ authority: `svc-${i}.ns:80` }), rng);
      expect(d.kind === 'forward' && d.cluster).toBe(`c${i}`);
    }
    expect(decide(c, request({ authority: 'svc-10000' }), rng).kind).toBe('no_route');
  });
});

describe('tables Envoy would reject', () => {
  const cases: [string, RouteConfiguration, RegExp][] = [
    ['invalid regex', config([vhost('v', ['a'], [forward('r', [{ uri: { regex: '(' } }], 'c')])]), /invalid regex/],
    ['lookahead (not RE2)', config([vhost('v', ['a'], [forward('r', [{ uri: { regex: '(?=a)a' } }], 'c')])]), /lookaround/],
    ['backreference (not RE2)', config([vhost('v', ['a'], [forward('r', [{ headers: { x: { regex: '(a)\\1' } } }], 'c')])]), /backreference/],
    ['a domain in two vhosts', config([vhost('v1', ['a', 'b'], []), vhost('v2', ['B'], [])]), /already used/],
    ['weights summing to 0', config([vhost('v', ['a'], [forward('r', [], [{ cluster: 'x', weight: 0 }, { cluster: 'y', weight: 0 }])])]), /sum to 0/],
    ['no destination', config([vhost('v', ['a'], [forward('r', [], [])])]), /at least one destination/],
    ['negative weight', config([vhost('v', ['a'], [forward('r', [], [{ cluster: 'x', weight: -1 }, { cluster: 'y', weight: 2 }])])]), /weight/],
    ['direct status out of range', config([vhost('v', ['a'], [direct('r', [], 99)])]), /status/],
    ['StringMatch without exact/prefix/regex', config([vhost('v', ['a'], [forward('r', [{ uri: { exakt: '/x' } as never }], 'c')])]), /exact, prefix or regex/],
    ['uri regex "*" (not RE2; Envoy NACKs it)', config([vhost('v', ['a'], [forward('r', [{ uri: { regex: '*' } }], 'c')])]), /invalid regex/],
  ];
  it.each(cases)('%s', (_name, rc, message) => {
    expect(() => compileRouteConfig(rc)).toThrow(RouteCompileError);
    expect(() => compileRouteConfig(rc)).toThrow(message);
  });

  it('says where the problem is', () => {
    const rc = config([vhost('catalog:80', ['a'], [forward('r1', [{ uri: { regex: '(' } }], 'c')])]);
    expect(() => compileRouteConfig(rc)).toThrow(/vhost catalog:80 route\[0\] r1 match\[0\] uri/);
  });
});

describe('rewritePath (Envoy prefix_rewrite)', () => {
  const rows: [string, Parameters<typeof forward>[1], string, string, string][] = [
    ['prefix replaced, rest and query kept', [{ uri: { prefix: '/api/v1' } }], '/v2', '/api/v1/items?x=1', '/v2/items?x=1'],
    ['ignoreUriCase prefix replaced by length', [{ uri: { prefix: '/API' }, ignoreUriCase: true }], '/v2', '/api/items', '/v2/items'],
    ['exact: whole path replaced, query kept', [{ uri: { exact: '/items' } }], '/catalog/items', '/items?x=1', '/catalog/items?x=1'],
    ['regex: whole path replaced', [{ uri: { regex: '/items/[0-9]+' } }], '/item', '/items/42', '/item'],
    ["no uri match: Istio's implicit prefix /", [], '/v2', '/items', '/v2items'],
    ['uri {} is the implicit prefix / too', [{ uri: {} as never }], '/v2', '/items', '/v2items'],
  ];
  it.each(rows)('%s', (_name, matches, rewriteUri, path, expected) => {
    const d = forwardDecision(config([vhost('v', ['catalog:80'], [forward('r', matches, 'c', { rewriteUri })])]), path);
    expect(rewritePath(d, path)).toBe(expected);
  });

  it('uses the entry that matched, not the first one', () => {
    const rc = config([vhost('v', ['catalog:80'], [
      forward('r', [{ uri: { exact: '/a' } }, { uri: { prefix: '/b' } }], 'c', { rewriteUri: '/z' }),
    ])]);
    expect(rewritePath(forwardDecision(rc, '/b/1'), '/b/1')).toBe('/z/1');
    expect(rewritePath(forwardDecision(rc, '/a'), '/a')).toBe('/z');
  });

  it('leaves the path alone without rewriteUri', () => {
    const d = forwardDecision(config([vhost('v', ['catalog:80'], [forward('r', [], 'c')])]), '/x?y');
    expect(rewritePath(d, '/x?y')).toBe('/x?y');
  });
});
