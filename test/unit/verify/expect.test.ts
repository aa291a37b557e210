import { describe, expect, test } from 'vitest';
import { checkExactShares, checkObserved, checkSplit, egressVerdict, type Observed } from '../../../src/verify/expect.js';
import type { Expectation } from '../../../src/verify/scenario.js';

const V1 = 'outbound|80|version-v1|catalog.istioinaction.svc.cluster.local';
const V2 = 'outbound|80|version-v2|catalog.istioinaction.svc.cluster.local';
const fwd = (cluster: string, more: Partial<Observed> = {}): Observed => ({ flags: '-', cluster, mirrors: [], ...more });

describe('checkObserved', () => {
  test.each<[string, Expectation, Observed, boolean, RegExp[]]>([
    ['subset by name', { subset: 'version-v1' }, fwd(V1), true, []],
    ['wrong subset', { subset: 'version-v2' }, fwd(V1), true, [/subset: expected "version-v2", got "version-v1"/]],
    ['offline: a forwarded request counts as 200', { code: 200 }, fwd(V1), true, []],
    ['offline: but not as 404', { code: 404 }, fwd(V1), true, [/code: expected 404, got 200 \(forwarded to the app, taken as 200 offline\)/]],
    ['live: the real status counts', { code: 200 }, fwd(V1, { code: 500 }), false, [/code: expected 200, got 500/]],
    ['flags and route', { flags: 'NR', route: 'r1' }, { flags: '-', route: 'r2', mirrors: [] }, true, [/flags: expected NR, got -/, /route: expected "r1", got "r2"/]],
    ['cluster', { cluster: V2 }, fwd(V1), true, [/cluster: expected/]],
    ['rewrite', { rewrite: { path: '/', authority: 'a' } }, fwd(V1, { upstreamPath: '/items', upstreamAuthority: 'a' }), true, [/rewrite.path: expected "\/", upstream got "\/items"/]],
    ['mirror by subset', { mirror: ['version-v2'] }, fwd(V1, { mirrors: [V2] }), true, []],
    ['mirror by cluster name', { mirror: [V2] }, fwd(V1, { mirrors: [V2] }), true, []],
    ['no mirror expected, one seen', { mirror: [] }, fwd(V1, { mirrors: [V2] }), true, [/mirror: expected \[\], got/]],
    ['a refused connection fails any expectation', { code: 404 }, { refused: true, flags: '-', mirrors: [] }, true, [/connection was refused/]],
  ])('%s', (_name, e, o, offline, want) => {
    const got = checkObserved(e, o, offline);
    expect(got.length).toBe(want.length);
    want.forEach((w, i) => expect(got[i]).toMatch(w));
  });
});

describe('egressVerdict', () => {
  test.each<[Observed, string | undefined]>([
    [{ flags: '-', route: 'block_all', code: 502, mirrors: [] }, 'blocked'],
    [{ flags: '-', cluster: 'BlackHoleCluster', mirrors: [] }, 'blocked'],
    [{ flags: '-', route: 'allow_any', cluster: 'PassthroughCluster', mirrors: [] }, 'passthrough'],
    [{ flags: '-', cluster: 'outbound|80||jsonplaceholder.typicode.com', mirrors: [] }, 'allowed'],
    [{ flags: 'NC', cluster: 'outbound|80||x', code: 503, mirrors: [] }, undefined],
    [{ flags: 'NR', code: 404, mirrors: [] }, undefined],
  ])('%j -> %s', (o, v) => expect(egressVerdict(o)).toBe(v));
});

describe('checkExactShares', () => {
  test.each<[string, Record<string, number>, Array<{ cluster: string; weight: number }>, RegExp[]]>([
    ['90/10', { 'version-v1': 90, 'version-v2': 10 }, [{ cluster: V1, weight: 90 }, { cluster: V2, weight: 10 }], []],
    ['relative weights (Istio >= 1.15)', { 'version-v1': 25, 'version-v2': 75 }, [{ cluster: V1, weight: 1 }, { cluster: V2, weight: 3 }], []],
    ['a lone destination gets everything, whatever its weight', { 'version-v1': 100 }, [{ cluster: V1, weight: 50 }], []],
    ['wrong expectation', { 'version-v1': 50, 'version-v2': 50 }, [{ cluster: V1, weight: 90 }, { cluster: V2, weight: 10 }], [/version-v1: the route's weights give 90%, expected 50%/, /version-v2: the route's weights give 10%, expected 50%/]],
    ['an unnamed destination', { 'version-v1': 100 }, [{ cluster: V1, weight: 90 }, { cluster: V2, weight: 10 }], [/give 90%, expected 100%/, /send 10% to version-v2, which the expectation does not name/]],
    ['no forwarding route', { 'version-v1': 100 }, [], [/matched no route that forwards/]],
  ])('%s', (_name, pct, dests, want) => {
    const got = checkExactShares(pct, dests);
    expect(got.length).toBe(want.length);
    want.forEach((w, i) => expect(got[i]).toMatch(w));
  });
});

describe('checkSplit', () => {
  test('inside and outside the exact bounds', () => {
    expect(checkSplit({ a: 50, b: 50 }, new Map([['a', 50], ['b', 50]]), 100, 0.05).failures).toEqual([]);
    const bad = checkSplit({ a: 50, b: 50 }, new Map([['a', 39], ['b', 61]]), 100, 0.05);
    expect(bad.failures).toEqual([
      'split a: 39/100 is outside [40, 60], the exact binomial bounds for 50% at alpha 0.05',
      'split b: 61/100 is outside [40, 60], the exact binomial bounds for 50% at alpha 0.05',
    ]);
    expect(bad.rows[0]).toEqual({ label: 'a', expectedPct: 50, count: 39, lo: 40, hi: 60 });
  });

  test('traffic to a destination the expectation does not name fails', () => {
    expect(checkSplit({ a: 100 }, new Map([['a', 99], ['404 NR', 1]]), 100, 0.001).failures).toEqual([
      'split a: 99/100 is outside [100, 100], the exact binomial bounds for 100% at alpha 0.001',
      'split: 1/100 went to 404 NR, which the expectation does not name',
    ]);
  });
});
