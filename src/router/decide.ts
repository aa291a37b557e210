/**
 * The routing decision for one request: the one function the proxy calls per request.
 *
 * virtual host by authority (or the fallback) -> routes in order, the first entry that matches wins
 * -> weighted destination and mirror sampling with `rng`. Pure: no I/O, no clock, and no allocation
 * beyond one small MatchInput (decisions are prebuilt and shared; see compile.ts).
 */
import type { CompiledRouteConfig } from './compile.js';
import { type Decision, NO_ROUTE } from './decision.js';
import { MatchInput } from './match.js';
import type { Random } from './random.js';
import type { RouteRequest } from './request.js';

export function decide(rc: CompiledRouteConfig, req: RouteRequest, rng: Random): Decision {
  const vhost = rc.findVirtualHost(req.authority) ?? rc.fallback;
  if (vhost === undefined) return NO_ROUTE;
  const input = new MatchInput(req);
  const routes = vhost.routes;
  for (let r = 0; r < routes.length; r++) {
    const entries = routes[r]!.entries;
    for (let e = 0; e < entries.length; e++) {
      const entry = entries[e]!;
      if (entry.test(input)) return entry.decide(rng);
    }
  }
  return vhost.noRoute;
}
