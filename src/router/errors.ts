/**
 * A routing table the router refuses to load: an invalid regex, duplicate domains, a weighted route
 * whose weights sum to 0, ... Envoy rejects (NACKs) such a push and keeps serving the previous
 * configuration; the proxy should do the same: catch this around `compileRouteConfig` and keep the
 * last good table.
 */
export class RouteCompileError extends Error {
  /** Where in the RouteConfiguration the problem is, e.g. `vhost catalog:80 route r1 match[0] uri`. */
  readonly where: string;
  constructor(where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = 'RouteCompileError';
    this.where = where;
  }
}
