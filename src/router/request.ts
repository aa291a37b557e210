/**
 * What the router needs to know about one request. The proxy builds it from node's request; the
 * router never looks at sockets or streams.
 */
export interface RouteRequest {
  /** The Host / :authority value as received (case and port preserved), e.g. `catalog:80`. */
  authority: string;
  /**
   * `path?query` as received, in origin form (`/items?x=1`). Path normalization (Istio's default
   * BASE: `..`, `//` handling) and absolute-form conversion are the proxy's job, done before routing,
   * as Envoy's connection manager does before its router sees the request.
   */
  path: string;
  method: string;
  scheme: 'http' | 'https';
  /**
   * Lowercase names, like node's IncomingHttpHeaders. An array (node's `headersDistinct`, or
   * `set-cookie`) is joined with ',' for matching, as Envoy does with repeated headers. Note that
   * node itself already joins most repeated headers with ', ' in `req.headers`.
   */
  headers: Record<string, string | string[] | undefined>;
  /** The logical listener port (service port / gateway server port), not the bind port. */
  port: number;
}
