/**
 * `rewrite.uri` applied the way Envoy's `prefix_rewrite` (which Istio always generates for it) does:
 * the matched prefix is replaced, or the whole path for exact and regex matches; the query string
 * is kept. A route without a uri match has Istio's implicit `prefix: /`, so `/v2` + `/items` gives
 * `/v2items` (a known Istio surprise, reproduced on purpose).
 */
import type { ForwardDecision } from './decision.js';
import { pathWithoutQuery } from './match.js';

/** The path to send upstream for `path` (as received, with its query). */
export function rewritePath(decision: ForwardDecision, path: string): string {
  const uri = decision.action.rewriteUri;
  if (uri === undefined || uri === '') return path;
  if (decision.rewritePrefixLength < 0) return uri + path.slice(pathWithoutQuery(path).length);
  return uri + path.slice(decision.rewritePrefixLength);
}
