/**
 * What the router tells the proxy to do with one request. Every decision object is built and frozen
 * when the table is compiled and only handed out per request, so a decision costs no allocation
 * (except for routes with unusually many destinations x mirrors, see compile.ts).
 */
import type { RouteAction } from '../model/table.js';
import type { CompiledRoute } from './compile.js';

export type ForwardAction = Readonly<Extract<RouteAction, { kind: 'route' }>>;
export type DirectAction = Readonly<Extract<RouteAction, { kind: 'direct' }>>;

export interface ForwardDecision {
  readonly kind: 'forward';
  readonly route: CompiledRoute;
  /** %ROUTE_NAME%: the route's name, plus `.<match name>` when the matching entry has a name. */
  readonly routeName: string;
  /** Name of the virtual host that matched (the fallback route's name for the fallback). */
  readonly vhost: string;
  /** The weighted pick. Whether it exists in the table (else 503 NC) is the proxy's check. */
  readonly cluster: string;
  /** Clusters to shadow this request to, after sampling each mirror's percentage. Often empty. */
  readonly mirrors: readonly string[];
  /** Timeout, rewrites, header operations (and the full destination and mirror lists). */
  readonly action: ForwardAction;
  /**
   * How much of the path `action.rewriteUri` replaces (Envoy `prefix_rewrite`): the matched prefix
   * length, or -1 for the whole path (exact and regex matches). See `rewritePath`.
   */
  readonly rewritePrefixLength: number;
}

/** A response the proxy makes itself (Envoy direct_response), e.g. `block_all`'s 502. */
export interface DirectDecision {
  readonly kind: 'direct';
  readonly route: CompiledRoute;
  readonly routeName: string;
  readonly vhost: string;
  readonly status: number;
  readonly body: string | undefined;
  /** %RESPONSE_CODE_DETAILS%, e.g. `direct_response`. */
  readonly details: string;
  /** %RESPONSE_FLAGS%, `-` for a configured direct response. */
  readonly flags: string;
  /** %UPSTREAM_CLUSTER% to log, e.g. `BlackHoleCluster`. */
  readonly logCluster: string | undefined;
}

/** No virtual host for the authority, or none of its routes matched: 404, NR, route_not_found. */
export interface NoRouteDecision {
  readonly kind: 'no_route';
  /** The virtual host that was selected but had no matching route; undefined when none was. */
  readonly vhost: string | undefined;
}

export type Decision = ForwardDecision | DirectDecision | NoRouteDecision;

export const NO_ROUTE: NoRouteDecision = Object.freeze({ kind: 'no_route', vhost: undefined });

export const NO_MIRRORS: readonly string[] = Object.freeze([]);
