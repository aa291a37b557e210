import { describe, expect, it } from 'vitest';
import type { RouteConfiguration } from '../../../src/model/table.js';
import { type CompiledRouteConfig, compileRouteConfig } from '../../../src/router/compile.js';
import { decide } from '../../../src/router/decide.js';
import { createRandom } from '../../../src/router/random.js';
import { request } from './fixtures.js';
import { ROUTING_CASES } from './routing-cases.js';

const compiled = new WeakMap<RouteConfiguration, CompiledRouteConfig>();
function compiledFor(rc: RouteConfiguration): CompiledRouteConfig {
  let c = compiled.get(rc);
  if (!c) compiled.set(rc, (c = compileRouteConfig(rc)));
  return c;
}

describe('routing conformance table', () => {
  it.each(ROUTING_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const d = decide(compiledFor(c.config), request(c.req), createRandom(1));
    const e = c.expect;
    expect(d.kind).toBe(e.kind);
    if (e.kind === 'no_route') {
      if ('vhost' in e) expect(d.kind === 'no_route' && d.vhost).toBe(e.vhost);
      return;
    }
    if (d.kind === 'no_route') return;
    expect(d.routeName).toBe(e.route);
    if (e.kind === 'forward' && d.kind === 'forward') {
      if (e.cluster !== undefined) expect(d.cluster).toBe(e.cluster);
      if (e.vhost !== undefined) expect(d.vhost).toBe(e.vhost);
      expect(d.mirrors).toEqual([]);
    }
    if (e.kind === 'direct' && d.kind === 'direct') {
      expect(d.status).toBe(e.status);
      if (e.body !== undefined) expect(d.body).toBe(e.body);
      if (e.logCluster !== undefined) expect(d.logCluster).toBe(e.logCluster);
      expect(d.details).toBe('direct_response');
      expect(d.flags).toBe('-');
    }
  });
});
