/**
 * Hydration of one RouteConfiguration (plain JSON from the control plane) into frozen lookup
 * structures: the virtual host index, compiled match predicates, weighted pickers, and the
 * decision objects `decide` hands out. Done once per push; the request path only reads the result.
 *
 * The structures built here are frozen. A route's action and matches are the input's own objects
 * (read-only by type, never modified): copying and deep-freezing them was a third of a push's
 * compile time in a proxy (structuredClone and Object.freeze are slow in code that runs once per
 * push and never gets optimized), so the caller must not modify the input afterwards; the proxy's
 * input is the table it just parsed.
 * Throws RouteCompileError for a table Envoy would reject (the proxy keeps its previous table).
 */
import type { Route, RouteConfiguration, RouteMatch, VirtualHost } from '../model/table.js';
import {
  type DirectAction,
  type DirectDecision,
  type ForwardAction,
  type ForwardDecision,
  type NoRouteDecision,
  NO_MIRRORS,
} from './decision.js';
import { RouteCompileError } from './errors.js';
import { MATCH_ALL, type MatchPredicate, compileRouteMatch, rewritePrefixLength } from './match.js';
import type { Random } from './random.js';
import { createVirtualHostIndex } from './vhost-index.js';
import { createMirrorSampler, createWeightedPicker } from './weighted.js';

export interface CompiledRouteEntry {
  /** %ROUTE_NAME% when this entry matches. */
  readonly routeName: string;
  readonly test: MatchPredicate;
  /** Draws the weighted destination and the mirrors; returns a shared frozen decision. */
  readonly decide: (rng: Random) => ForwardDecision | DirectDecision;
}

export interface CompiledRoute {
  readonly name: string;
  readonly matches: readonly Readonly<RouteMatch>[];
  readonly action: ForwardAction | DirectAction;
  /**
   * One entry per `matches` element, tried in order (the ORed entries), or a single entry matching
   * everything for a route without matches. Istio likewise emits one Envoy route per match entry.
   */
  readonly entries: readonly CompiledRouteEntry[];
}

export interface CompiledVirtualHost {
  readonly name: string;
  readonly domains: readonly string[];
  readonly routes: readonly CompiledRoute[];
  /** Returned when this virtual host is selected but none of its routes match. */
  readonly noRoute: NoRouteDecision;
}

export interface CompiledRouteConfig {
  readonly name: string;
  readonly virtualHosts: readonly CompiledVirtualHost[];
  /**
   * `RouteConfiguration.fallback` as a virtual host named after the route (as Istio names the
   * `allow_any` / `block_all` virtual hosts), used when no virtual host matches the authority.
   */
  readonly fallback: CompiledVirtualHost | undefined;
  /** The virtual host for an authority (see vhost-index.ts for the order); ignores the fallback. */
  findVirtualHost(authority: string): CompiledVirtualHost | undefined;
}

export function compileRouteConfig(rc: RouteConfiguration): CompiledRouteConfig {
  const where = `route config ${rc.name}`;
  const virtualHosts = Object.freeze(
    (rc.virtualHosts ?? []).map((vh) => compileVirtualHost(vh, `${where} vhost ${vh.name}`)),
  );
  const index = createVirtualHostIndex(
    virtualHosts.map((vh) => ({ domains: vh.domains, value: vh, name: vh.name })),
  );
  const fallback = rc.fallback
    ? compileVirtualHost(
        { name: rc.fallback.name, domains: ['*'], routes: [rc.fallback] },
        `${where} fallback`,
      )
    : undefined;
  return Object.freeze({
    name: rc.name,
    virtualHosts,
    fallback,
    findVirtualHost: (authority: string) => index.find(authority),
  });
}

function compileVirtualHost(vh: VirtualHost, where: string): CompiledVirtualHost {
  const routes = Object.freeze(
    (vh.routes ?? []).map((r, i) => compileRoute(r, vh.name, `${where} route[${i}] ${r.name}`)),
  );
  return Object.freeze({
    name: vh.name,
    domains: Object.freeze([...(vh.domains ?? [])]),
    routes,
    noRoute: Object.freeze({ kind: 'no_route' as const, vhost: vh.name }),
  });
}

function compileRoute(route: Route, vhost: string, where: string): CompiledRoute {
  const action = route.action;
  const matches = route.matches ?? NO_MATCHES;
  // Decisions point back at their route, so the route object exists (unfrozen) before its entries.
  const compiled: { -readonly [K in keyof CompiledRoute]: CompiledRoute[K] } = {
    name: route.name,
    matches,
    action,
    entries: [],
  };
  const sources: (RouteMatch | undefined)[] = matches.length === 0 ? [undefined] : [...matches];
  compiled.entries = Object.freeze(
    sources.map((m, i) => {
      const routeName = m?.name ? `${route.name}.${m.name}` : route.name;
      const matchWhere = `${where} match[${i}]`;
      const test = m ? compileRouteMatch(m, matchWhere) : MATCH_ALL;
      const ctx: DecisionContext = { route: compiled, routeName, vhost, where: matchWhere };
      const decide =
        action.kind === 'direct'
          ? directDecider(ctx, action)
          : action.kind === 'route'
            ? forwardDecider(ctx, action, rewritePrefixLength(m))
            : unknownAction(where, action);
      return Object.freeze({ routeName, test, decide });
    }),
  );
  return Object.freeze(compiled);
}

interface DecisionContext {
  route: CompiledRoute;
  routeName: string;
  vhost: string;
  where: string;
}

function unknownAction(where: string, action: { kind?: unknown }): never {
  throw new RouteCompileError(where, `unknown action kind ${JSON.stringify(action.kind)}`);
}

function directDecider(ctx: DecisionContext, action: DirectAction): CompiledRouteEntry['decide'] {
  if (!Number.isInteger(action.status) || action.status < 200 || action.status > 599) {
    throw new RouteCompileError(ctx.where, `direct response status must be 200..599, got ${action.status}`);
  }
  const decision: DirectDecision = Object.freeze({
    kind: 'direct',
    route: ctx.route,
    routeName: ctx.routeName,
    vhost: ctx.vhost,
    status: action.status,
    body: action.body,
    details: action.details,
    flags: action.flags,
    logCluster: action.logCluster,
  });
  return () => decision;
}

const NO_MATCHES: readonly RouteMatch[] = Object.freeze([]);

/** Above this many (destination x mirror subset) combinations, decisions are built per request. */
const MAX_PREBUILT_DECISIONS = 256;

function forwardDecider(
  ctx: DecisionContext,
  action: ForwardAction,
  prefixLength: number,
): CompiledRouteEntry['decide'] {
  const clusters = action.clusters ?? [];
  const mirrors = action.mirrors ?? [];
  const picker = createWeightedPicker(clusters.map((c) => c.weight), ctx.where);
  const sampler = createMirrorSampler(mirrors.map((m) => m.percentage), ctx.where);

  const mirrorsFor = (mask: number): readonly string[] =>
    mask === 0
      ? NO_MIRRORS
      : Object.freeze(mirrors.filter((_, i) => (mask & (1 << i)) !== 0).map((m) => m.cluster));
  const build = (clusterIndex: number, mask: number): ForwardDecision =>
    Object.freeze({
      kind: 'forward',
      route: ctx.route,
      routeName: ctx.routeName,
      vhost: ctx.vhost,
      cluster: clusters[clusterIndex]!.cluster,
      mirrors: mirrorsFor(mask),
      action,
      rewritePrefixLength: prefixLength,
    });

  const masks = 2 ** sampler.count;
  if (clusters.length * masks > MAX_PREBUILT_DECISIONS) {
    return (rng) => build(picker.pick(rng), sampler.sample(rng));
  }
  const table: ForwardDecision[] = [];
  for (let c = 0; c < clusters.length; c++) for (let m = 0; m < masks; m++) table.push(build(c, m));
  Object.freeze(table);
  return (rng) => {
    const c = picker.pick(rng); // destination first, then mirrors: the order seeded tests rely on
    return table[c * masks + sampler.sample(rng)]!;
  };
}
