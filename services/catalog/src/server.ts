/**
 * The catalog service (the book's `istioinaction/catalog`, a json-server app), on node:http.
 *
 * Endpoints: `GET /items`, `GET /items/:id`, `POST /items` (201), `GET|POST|DELETE /blowup`, and
 * json-server's home page at `GET /`. Responses are pretty-printed JSON (2 spaces) as json-server
 * sends them: the four v1 items are 502 bytes, with `SHOW_IMAGE` 698 bytes (the sizes in the book's
 * access logs). Each request is logged as the book's pod logs show it:
 *
 *   request path: /items
 *   blowups: {}
 *   number of blowups: 0
 *   GET catalog.istioinaction:80 /items 200 502 - 0.958 ms
 *   GET /items 200 0.958 ms - 502
 */
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { BodyTooLargeError, pathOf, readJson, send, sendJson } from '../../shared/src/http-util.js';
import { closeServer, listen, type RunningService, urlOf } from '../../shared/src/lifecycle.js';
import { formatDevLine, formatHostLine, type LogFn, onRequestDone, stdoutLog } from '../../shared/src/log.js';
import { createRandom, type Random } from '../../shared/src/random.js';
import { BlowupError, Blowups, parseBlowup } from './blowups.js';
import { type CatalogItem, HOME_PAGE, IMAGE_URL, initialItems } from './data.js';

export interface CatalogOptions {
  /** Bind address (default `0.0.0.0`). */
  host?: string;
  /** Port (default 3000; 0 picks a free one). */
  port?: number;
  /** v2 behaviour: add `imageUrl` to every item (`SHOW_IMAGE=true`). */
  showImage?: boolean;
  /** Seed for the blowup dice (`CATALOG_SEED`); unseeded uses Math.random. */
  seed?: number | string;
  /** Overrides the random source entirely (tests). */
  random?: Random;
  /** Where log lines go (default stdout). */
  log?: LogFn;
}

export interface CatalogService extends RunningService {
  /** The live failure-injection rules. */
  blowups: Blowups;
  /** The current items as served (with `imageUrl` when showImage). */
  items(): CatalogItem[];
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';

/** Headers json-server's defaults (express, cors, nocache) add to every answer. */
const DEFAULT_HEADERS: Record<string, string> = {
  'X-Powered-By': 'Express',
  Vary: 'Origin, Accept-Encoding',
  'Access-Control-Allow-Credentials': 'true',
  'Cache-Control': 'no-cache',
  Pragma: 'no-cache',
  Expires: '-1',
};

function etag(body: Buffer): string {
  const hash = createHash('sha1').update(body).digest('base64').substring(0, 27);
  return `W/"${body.length.toString(16)}-${hash}"`;
}

function reply(res: ServerResponse, status: number, body: string, type: string): void {
  const buf = Buffer.from(body, 'utf8');
  send(res, status, buf, type, { ...DEFAULT_HEADERS, ETag: etag(buf) });
}

function replyJson(res: ServerResponse, status: number, value: unknown): void {
  reply(res, status, JSON.stringify(value, null, 2), JSON_TYPE);
}

export async function startCatalog(options: CatalogOptions = {}): Promise<CatalogService> {
  const log = options.log ?? stdoutLog;
  const random = options.random ?? createRandom(options.seed);
  const showImage = options.showImage ?? false;
  const blowups = new Blowups(random, log);
  const stored: CatalogItem[] = initialItems();
  let autoIncrement = stored.length;
  const timers = new Set<NodeJS.Timeout>();

  const view = (item: CatalogItem): CatalogItem => (showImage ? { ...item, imageUrl: IMAGE_URL } : { ...item });

  const handleItems = async (req: IncomingMessage, res: ServerResponse, method: string, path: string): Promise<void> => {
    const m = /^\/items(?:\/([^/]+))?$/i.exec(path);
    if (!m) return notFound(req, res);
    const id = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
    if (id === undefined && (method === 'GET' || method === 'HEAD')) return replyJson(res, 200, stored.map(view));
    if (id === undefined && method === 'POST') {
      let body: unknown;
      try {
        body = await readJson(req);
      } catch (err) {
        return reply(res, err instanceof BodyTooLargeError ? 413 : 400, `Bad Request: ${(err as Error).message}`, TEXT_TYPE);
      }
      const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
      const item = { ...fields, id: ++autoIncrement } as CatalogItem;
      stored.push(item);
      return replyJson(res, 201, view(item));
    }
    if (id !== undefined && (method === 'GET' || method === 'HEAD')) {
      const item = stored.find((i) => String(i.id) === id);
      if (!item) return reply(res, 404, 'Not Found', TEXT_TYPE);
      return replyJson(res, 200, view(item));
    }
    return notFound(req, res);
  };

  const handleBlowup = async (req: IncomingMessage, res: ServerResponse, method: string): Promise<void> => {
    if (method === 'GET' || method === 'HEAD') return replyJson(res, 200, blowups.toJSON());
    let body: unknown;
    try {
      body = await readJson(req);
    } catch (err) {
      return reply(res, 400, `Bad Request: ${(err as Error).message}`, TEXT_TYPE);
    }
    if (method === 'POST') {
      try {
        const rule = parseBlowup(body);
        log(`altering blowup with ${JSON.stringify(rule)}`);
        blowups.set(rule);
      } catch (err) {
        if (err instanceof BlowupError) return reply(res, 400, err.message, TEXT_TYPE);
        throw err;
      }
      return reply(res, 200, `blowups=${JSON.stringify(blowups.toJSON())}`, HTML_TYPE);
    }
    if (method === 'DELETE') {
      const type = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).type : undefined;
      if (type === undefined || type === null || type === '') {
        blowups.delete();
        return reply(res, 200, 'deleted all blowups', HTML_TYPE);
      }
      blowups.delete(String(type));
      return reply(res, 200, `deleted blowup ${String(type)}`, HTML_TYPE);
    }
    return notFound(req, res);
  };

  const notFound = (req: IncomingMessage, res: ServerResponse): void => {
    const path = pathOf(req).replace(/[&<>"']/g, '');
    reply(
      res,
      404,
      `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot ${req.method} ${path}</pre>\n</body>\n</html>\n`,
      HTML_TYPE,
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    onRequestDone(req, res, (info) => {
      log(formatHostLine(info));
      log(formatDevLine(info));
    });
    const method = (req.method ?? 'GET').toUpperCase();
    let path = pathOf(req);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);

    // json-server's static middleware answers the home page before the blowup middleware runs.
    if (path === '/' && (method === 'GET' || method === 'HEAD')) return reply(res, 200, HOME_PAGE, HTML_TYPE);

    log(`request path: ${path}`);
    log(`blowups: ${JSON.stringify(blowups.toJSON())}`);
    log(`number of blowups: ${blowups.size}`);

    const decision = blowups.decide(path);
    if (decision.delayMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve();
        }, decision.delayMs);
        timers.add(t);
      });
      if (res.destroyed) return;
    }
    if (decision.kind === '500') {
      res.writeHead(500, { ...DEFAULT_HEADERS, 'Content-Length': '0' });
      res.end();
      return;
    }
    if (decision.kind === 'drop') {
      const socket = req.socket;
      socket.end();
      const t = setTimeout(() => socket.destroy(), 1000);
      t.unref();
      return;
    }

    const lower = path.toLowerCase();
    if (lower === '/items' || lower.startsWith('/items/')) return handleItems(req, res, method, path);
    if (lower === '/blowup') return handleBlowup(req, res, method);
    return notFound(req, res);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(`error handling ${req.method} ${req.url}: ${(err as Error).message}`);
      if (!res.headersSent) reply(res, 500, 'Internal Server Error', TEXT_TYPE);
      else res.destroy();
    });
  });

  const address = await listen(server, options.host ?? '0.0.0.0', options.port ?? 3000);
  log(`JSON Server is running on port ${address.port}`);
  return {
    server,
    address,
    url: urlOf(address),
    blowups,
    items: () => stored.map(view),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await closeServer(server);
    },
  };
}
