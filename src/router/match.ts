/**
 * One VirtualService match entry (`http[].match[i]`) compiled into a predicate over a request.
 * The fields of an entry are ANDed; ORing entries and route order are compile.ts's business.
 *
 * Semantics follow what Istio generates for Envoy (pilot route.go TranslateRouteMatch) and how
 * Envoy evaluates it:
 * - uri: matched against the path WITHOUT `?query` and `#fragment` (Envoy PathMatcher strips both).
 * - headers: lowercase names, case-sensitive values, repeated headers joined with ','.
 *   `{present: true}` (and `{}` or `regex: "*"`, which Istio turns into a presence check too) only
 *   requires the header to exist, with any value, even empty.
 * - withoutHeaders: the inverse. Istio sets `treat_missing_header_as_empty`, so a missing header is
 *   matched as "": `withoutHeaders: {x: {prefix: a}}` holds when x is absent, but
 *   `withoutHeaders: {x: {exact: ""}}` does NOT hold when x is absent (it holds for any non-empty x).
 *   A presence check inverted holds exactly when the header is absent.
 * - queryParams: Envoy's parser: split the query on '&', `k=v` or bare `k` (value ""), no
 *   percent-decoding, the FIRST occurrence of a name wins, names are case-sensitive. `exact: ""`
 *   matches `?k` and `?k=`; `{}` / `regex: "*"` only require the parameter to be there.
 * - method, scheme, authority: StringMatch on the request's method, scheme and raw authority
 *   (`catalog:80`, case as sent), like Envoy's `:method`, `:scheme`, `:authority` header matchers.
 * - port: equal to the logical listener port.
 */
import type { HeaderMatch, RouteMatch, StringMatch } from '../model/table.js';
import { asciiLowerCase } from './ascii.js';
import { RouteCompileError } from './errors.js';
import type { RouteRequest } from './request.js';
import { compileStringMatch, stringMatchKind } from './string-match.js';

/**
 * A request as the matchers see it. The path without query and the parsed query are computed at
 * most once per request, and only if some matcher asks for them.
 */
export class MatchInput {
  readonly req: RouteRequest;
  private pathOnly: string | undefined;
  private queryParams: Map<string, string> | undefined;

  constructor(req: RouteRequest) {
    this.req = req;
  }

  /** The path without `?query` / `#fragment`. */
  get path(): string {
    return (this.pathOnly ??= pathWithoutQuery(this.req.path));
  }

  get query(): ReadonlyMap<string, string> {
    return (this.queryParams ??= parseQuery(this.req.path));
  }

  /** The header value as Envoy's matchers see it, or undefined when absent. */
  header(name: string): string | undefined {
    // HTTP/2 pseudo-headers name request attributes Envoy keeps as headers.
    if (name.charCodeAt(0) === 58 /* ':' */) {
      switch (name) {
        case ':authority':
          return this.req.authority;
        case ':method':
          return this.req.method;
        case ':scheme':
          return this.req.scheme;
        case ':path':
          return this.req.path;
      }
    }
    const v = this.req.headers[name];
    if (v === undefined || typeof v === 'string') return v;
    if (v.length === 0) return undefined;
    return v.length === 1 ? v[0] : v.join(',');
  }
}

export function pathWithoutQuery(path: string): string {
  let end = path.length;
  const q = path.indexOf('?');
  if (q >= 0) end = q;
  const h = path.indexOf('#');
  if (h >= 0 && h < end) end = h;
  return end === path.length ? path : path.slice(0, end);
}

/** Envoy's `parseQueryString`: no decoding, first occurrence wins, the fragment is not part of it. */
export function parseQuery(path: string): Map<string, string> {
  const params = new Map<string, string>();
  const q = path.indexOf('?');
  if (q < 0) return params;
  let end = path.indexOf('#', q + 1);
  if (end < 0) end = path.length;
  let start = q + 1;
  while (start < end) {
    let amp = path.indexOf('&', start);
    if (amp < 0 || amp > end) amp = end;
    if (amp > start) {
      const eq = path.indexOf('=', start);
      const hasValue = eq >= 0 && eq < amp;
      const name = path.slice(start, hasValue ? eq : amp);
      if (!params.has(name)) params.set(name, hasValue ? path.slice(eq + 1, amp) : '');
    }
    start = amp + 1;
  }
  return params;
}

export type MatchPredicate = (input: MatchInput) => boolean;

export const MATCH_ALL: MatchPredicate = () => true;

/** Istio turns a missing StringMatch, `{}` and `regex: "*"` into a presence check. */
function isPresenceMatch(m: HeaderMatch | StringMatch): boolean {
  if ((m as { present?: unknown }).present !== undefined) return true;
  const kind = stringMatchKind(m as StringMatch);
  if (kind === undefined) return isEmptyObject(m);
  return kind === 'regex' && (m as { regex: string }).regex === '*';
}

function isEmptyObject(m: object): boolean {
  return Object.keys(m).length === 0;
}

function headerCondition(
  rawName: string,
  m: HeaderMatch,
  inverted: boolean,
  where: string,
): MatchPredicate {
  const name = asciiLowerCase(rawName);
  if (isPresenceMatch(m)) {
    return inverted
      ? (i) => i.header(name) === undefined
      : (i) => i.header(name) !== undefined;
  }
  const test = compileStringMatch(m as StringMatch, where);
  if (!inverted) {
    return (i) => {
      const v = i.header(name);
      return v !== undefined && test(v);
    };
  }
  return (i) => !test(i.header(name) ?? '');
}

function queryCondition(name: string, m: StringMatch, where: string): MatchPredicate {
  if (isPresenceMatch(m)) return (i) => i.query.has(name);
  const test = compileStringMatch(m, where);
  return (i) => {
    const v = i.query.get(name);
    return v !== undefined && test(v);
  };
}

/** Compiles one match entry. An entry with no conditions matches everything. */
export function compileRouteMatch(m: RouteMatch, where: string): MatchPredicate {
  const conditions: MatchPredicate[] = [];
  // Cheapest first; the result does not depend on the order.
  if (m.port !== undefined) {
    const port = m.port;
    if (!Number.isInteger(port)) throw new RouteCompileError(where, `port must be an integer`);
    conditions.push((i) => i.req.port === port);
  }
  // Istio turns `{}` / `regex: "*"` on method, scheme and authority into a presence check of a
  // pseudo-header every request has, and `uri: {}` into its default `prefix: /`: no condition.
  if (m.method && !isPresenceMatch(m.method)) {
    const test = compileStringMatch(m.method, `${where} method`);
    conditions.push((i) => test(i.req.method));
  }
  if (m.scheme && !isPresenceMatch(m.scheme)) {
    const test = compileStringMatch(m.scheme, `${where} scheme`);
    conditions.push((i) => test(i.req.scheme));
  }
  if (m.uri && !isEmptyObject(m.uri)) {
    const test = compileStringMatch(m.uri, `${where} uri`, { ignoreCase: m.ignoreUriCase });
    conditions.push((i) => test(i.path));
  }
  if (m.authority && !isPresenceMatch(m.authority)) {
    const test = compileStringMatch(m.authority, `${where} authority`);
    conditions.push((i) => test(i.req.authority));
  }
  for (const [name, hm] of Object.entries(m.headers ?? {})) {
    conditions.push(headerCondition(name, hm, false, `${where} headers.${name}`));
  }
  for (const [name, hm] of Object.entries(m.withoutHeaders ?? {})) {
    conditions.push(headerCondition(name, hm, true, `${where} withoutHeaders.${name}`));
  }
  for (const [name, sm] of Object.entries(m.queryParams ?? {})) {
    conditions.push(queryCondition(name, sm, `${where} queryParams.${name}`));
  }
  return allOf(conditions);
}

function allOf(conditions: MatchPredicate[]): MatchPredicate {
  switch (conditions.length) {
    case 0:
      return MATCH_ALL;
    case 1:
      return conditions[0]!;
    case 2: {
      const [a, b] = conditions as [MatchPredicate, MatchPredicate];
      return (i) => a(i) && b(i);
    }
    default:
      return (i) => {
        for (let k = 0; k < conditions.length; k++) if (!conditions[k]!(i)) return false;
        return true;
      };
  }
}

/**
 * How much of the path `rewrite.uri` replaces for this entry, as Envoy's `prefix_rewrite` does:
 * the matched prefix; the whole path for exact and regex matches (-1); and for an entry without a
 * uri, Istio's implicit `prefix: /` (length 1), so `rewrite.uri: /v2` turns `/items` into `/v2items`.
 */
export function rewritePrefixLength(m: RouteMatch | undefined): number {
  const kind = m?.uri ? stringMatchKind(m.uri) : undefined;
  if (kind === undefined) return 1;
  if (kind === 'prefix') return (m!.uri as { prefix: string }).prefix.length;
  return -1;
}
