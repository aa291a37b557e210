/**
 * The webapp (the book's beego `istioinaction/webapp`), on node:http.
 *
 *   GET  /api/catalog              -> catalog GET /items, re-encoded (compact; 357 bytes for v1)
 *   GET  /api/catalog/items/:id    -> catalog GET /items/:id
 *   POST /api/catalog/items        -> catalog POST /items (answers 201 with the created item)
 *   GET  /api/users                -> forum GET /api/users, re-encoded (users without address.geo)
 *   GET  /api/healthz              -> 200
 *   GET  /                         -> HTML page with up to 4 items and 4 users (partial on failure)
 *
 * Upstreams are `http://${CATALOG_SERVICE_HOST}:${CATALOG_SERVICE_PORT}` and likewise for the forum,
 * always with an explicit port, so the Host header reads `catalog.istioinaction:80`. Every incoming
 * header whose name starts with `x-`, and `Authorization`, is copied to the upstream calls (this is
 * how `x-request-id` and `x-istio-cohort` travel). User-Agent `beegoServer`. A failed call (no
 * connection, non-2xx, or a body that does not decode) answers 500 `error calling Catalog service`
 * or `error calling Forum service` (text/plain).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { HttpClient } from '../../shared/src/http-client.js';
import { pathOf, pickHeaders, readBody, send } from '../../shared/src/http-util.js';
import { closeServer, listen, type RunningService, urlOf } from '../../shared/src/lifecycle.js';
import { type LogFn, onRequestDone, stdoutLog } from '../../shared/src/log.js';
import { formatBeegoAccess, formatBeegoError, formatBeegoStart } from './beego-log.js';
import { type CatalogItem, DecodeError, goJson, toCatalogItem, toCatalogItems, toUsers, type User } from './model.js';
import { CATALOG_UNAVAILABLE, FORUM_UNAVAILABLE, renderIndex } from './page.js';

export interface WebappOptions {
  /** Bind address (default `0.0.0.0`). */
  host?: string;
  /** Port (default 8080; 0 picks a free one). */
  port?: number;
  /** `CATALOG_SERVICE_HOST` (default `catalog.istioinaction`). */
  catalogHost?: string;
  /** `CATALOG_SERVICE_PORT` (default 80). */
  catalogPort?: number | string;
  /** `FORUM_SERVICE_HOST` (default `forum.istioinaction`). */
  forumHost?: string;
  /** `FORUM_SERVICE_PORT` (default 80). */
  forumPort?: number | string;
  /** Forward proxy for outbound calls (`HTTP_PROXY`); undefined: direct. */
  httpProxy?: string;
  /** `NO_PROXY`. */
  noProxy?: string;
  /** Upstream socket idle timeout (default 60 s, beego httplib's). */
  upstreamTimeoutMs?: number;
  /** Where log lines go (default stdout). */
  log?: LogFn;
}

export const CATALOG_ERROR = 'error calling Catalog service';
export const FORUM_ERROR = 'error calling Forum service';
export const USER_AGENT = 'beegoServer';

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';

class UpstreamError extends Error {}

/** `ExtractHeaders` in the book's webapp: `x-*` and `Authorization`. */
export function forwardedHeaders(req: IncomingMessage): Record<string, string> {
  return pickHeaders(req, (n) => n.startsWith('x-') || n.startsWith('authorization'));
}

export async function startWebapp(options: WebappOptions = {}): Promise<RunningService> {
  const log = options.log ?? stdoutLog;
  const catalogBase = `http://${options.catalogHost ?? 'catalog.istioinaction'}:${options.catalogPort ?? 80}`;
  const forumBase = `http://${options.forumHost ?? 'forum.istioinaction'}:${options.forumPort ?? 80}`;
  const client = new HttpClient({
    proxy: options.httpProxy,
    noProxy: options.noProxy,
    userAgent: USER_AGENT,
    acceptGzip: true, // Go's transport asks for gzip on its own
    timeoutMs: options.upstreamTimeoutMs,
  });

  const call = async (
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: string,
    expect?: number,
  ): Promise<unknown> => {
    let res;
    try {
      res = await client.request({ method, url, headers, body });
    } catch (err) {
      throw new UpstreamError((err as Error).message);
    }
    const ok = expect === undefined ? res.status >= 200 && res.status < 300 : res.status === expect;
    if (!ok) throw new UpstreamError(`${method} ${url}: status ${res.status}`);
    const text = res.text();
    if (expect !== undefined && text.trim() === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new UpstreamError(`${method} ${url}: ${(err as Error).message}`);
    }
  };

  const getCatalog = async (headers: Record<string, string>): Promise<CatalogItem[]> =>
    toCatalogItems(await call('GET', `${catalogBase}/items`, headers));
  const getUsers = async (headers: Record<string, string>): Promise<User[]> =>
    toUsers(await call('GET', `${forumBase}/api/users`, headers));

  const fail = (res: ServerResponse, message: string, err: unknown): void => {
    const where = message === CATALOG_ERROR ? 'catalog.go' : 'forum.go';
    log(formatBeegoError(where, `${message}: ${(err as Error).message}`));
    send(res, 500, message, TEXT_TYPE);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    onRequestDone(req, res, (info) => log(formatBeegoAccess(info)));
    const method = (req.method ?? 'GET').toUpperCase();
    let path = pathOf(req);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    const headers = forwardedHeaders(req);

    if (path === '/api/catalog') {
      try {
        return send(res, 200, goJson(await getCatalog(headers)), JSON_TYPE);
      } catch (err) {
        return fail(res, CATALOG_ERROR, err);
      }
    }
    const item = /^\/api\/catalog\/items\/([0-9]+)$/.exec(path);
    if (item) {
      try {
        const id = Number(item[1]);
        const value = await call('GET', `${catalogBase}/items/${id}`, headers);
        return send(res, 200, goJson(toCatalogItem(value)), JSON_TYPE);
      } catch (err) {
        return fail(res, CATALOG_ERROR, err);
      }
    }
    if (path === '/api/catalog/items' && method === 'POST') {
      let input: CatalogItem;
      try {
        input = toCatalogItem(JSON.parse((await readBody(req)).toString('utf8')));
      } catch {
        return send(res, 400, 'Invalid CatalogItem', TEXT_TYPE);
      }
      try {
        const created = await call('POST', `${catalogBase}/items`, { ...headers, 'Content-Type': 'application/json' }, goJson(input), 201);
        const out = created === null ? null : toCatalogItem(created);
        return send(res, 201, goJson(out), JSON_TYPE);
      } catch (err) {
        return fail(res, CATALOG_ERROR, err);
      }
    }
    if (path === '/api/users') {
      try {
        return send(res, 200, goJson(await getUsers(headers)), JSON_TYPE);
      } catch (err) {
        return fail(res, FORUM_ERROR, err);
      }
    }
    if (path === '/api/healthz' && (method === 'GET' || method === 'HEAD')) return send(res, 200, '', TEXT_TYPE);
    if (path === '/' && (method === 'GET' || method === 'HEAD')) {
      // Sequential, as the book's IndexController calls them.
      let items: CatalogItem[] | undefined;
      let users: User[] | undefined;
      let catalogError: string | undefined;
      let forumError: string | undefined;
      try {
        items = await getCatalog(headers);
      } catch (err) {
        catalogError = CATALOG_UNAVAILABLE;
        log(formatBeegoError('index.go:16', `${CATALOG_ERROR}: ${(err as Error).message}`));
      }
      try {
        users = await getUsers(headers);
      } catch (err) {
        forumError = FORUM_UNAVAILABLE;
        log(formatBeegoError('index.go:24', `${FORUM_ERROR}: ${(err as Error).message}`));
      }
      return send(res, 200, renderIndex({ items, users, catalogError, forumError }), HTML_TYPE);
    }
    return send(res, 404, 'Not Found', TEXT_TYPE);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(formatBeegoError('router.go', `${req.method} ${req.url}: ${err instanceof DecodeError ? 'decode' : 'internal'} error: ${(err as Error).message}`));
      if (!res.headersSent) send(res, 500, 'Internal Server Error', TEXT_TYPE);
      else res.destroy();
    });
  });

  const address = await listen(server, options.host ?? '0.0.0.0', options.port ?? 8080);
  log(formatBeegoStart(address.port));
  return {
    server,
    address,
    url: urlOf(address),
    close: async () => {
      await closeServer(server);
      client.close();
    },
  };
}
