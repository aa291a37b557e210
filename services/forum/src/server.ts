/**
 * The forum service (the book's Go `istioinaction/forum`), on node:http.
 *
 *   GET /api/users    fetches `http://jsonplaceholder.typicode.com/users` (through HTTP_PROXY like
 *                     every outbound call) and passes the body through; with LOCAL_USERS=true answers
 *                     the book's fixed one-user list instead. A non-200 answer or a failed call gives
 *                     500 `error calling Users service` (Go's http.Error, with a trailing newline).
 *   GET /api/healthz  200, empty.
 *
 * Outbound calls look like Go's default client: User-Agent `Go-http-client/1.1`, `Accept-Encoding:
 * gzip` (decoded transparently), Host as in the URL (`jsonplaceholder.typicode.com`), and every
 * incoming `x-*` header copied (not Authorization: the book's forum copies only `x-` headers).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { HttpClient } from '../../shared/src/http-client.js';
import { pathOf, pickHeaders, send } from '../../shared/src/http-util.js';
import { closeServer, listen, type RunningService, urlOf } from '../../shared/src/lifecycle.js';
import { formatHostLine, type LogFn, onRequestDone, stdoutLog } from '../../shared/src/log.js';

export interface ForumOptions {
  /** Bind address (default `0.0.0.0`). */
  host?: string;
  /** Port (default 8080; 0 picks a free one). */
  port?: number;
  /** `LOCAL_USERS=true`: answer a fixed local list, no outbound call. */
  localUsers?: boolean;
  /** Where users come from (default `http://jsonplaceholder.typicode.com/users`). */
  usersUrl?: string;
  /** Forward proxy for outbound calls (`HTTP_PROXY`); undefined: direct. */
  httpProxy?: string;
  /** `NO_PROXY`. */
  noProxy?: string;
  /** Upstream socket idle timeout (default 60 s). */
  upstreamTimeoutMs?: number;
  /** Where log lines go (default stdout). */
  log?: LogFn;
}

export const USERS_URL = 'http://jsonplaceholder.typicode.com/users';
export const USER_AGENT = 'Go-http-client/1.1';
/** Go's `http.Error(w, "error calling Users service", 500)` body. */
export const USERS_ERROR = 'error calling Users service\n';

/** The book's LOCAL_USERS answer, byte for byte. */
export const LOCAL_USERS_JSON =
  '[{"id":10,"name":"ClementinaDuBuque","username":"Moriah.Stanton","email":"Rey.Padberg@karina.biz","address":{"street":"KattieTurnpike","suite":"Suite198","city":"Lebsackbury","zipcode":"31428-2261","geo":{"lat":"-38.2386","lng":"57.2232"}},"phone":"024-648-3804","website":"ambrose.net","company":{"name":"HoegerLLC","catchPhrase":"Centralizedempoweringtask-force","bs":"targetend-to-endmodels"}}]';

/** What Go's content sniffing picks for a JSON body written without a Content-Type. */
const SNIFFED_TYPE = 'text/plain; charset=utf-8';

export async function startForum(options: ForumOptions = {}): Promise<RunningService> {
  const log = options.log ?? stdoutLog;
  const usersUrl = options.usersUrl ?? USERS_URL;
  const client = new HttpClient({
    proxy: options.httpProxy,
    noProxy: options.noProxy,
    userAgent: USER_AGENT,
    acceptGzip: true,
    timeoutMs: options.upstreamTimeoutMs,
  });

  const usersError = (res: ServerResponse) =>
    send(res, 500, USERS_ERROR, 'text/plain; charset=utf-8', { 'X-Content-Type-Options': 'nosniff' });

  const users = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (options.localUsers) return send(res, 200, LOCAL_USERS_JSON, SNIFFED_TYPE);
    const headers = pickHeaders(req, (n) => n.startsWith('x-'));
    for (const [name, value] of Object.entries(headers)) log(`Adding header to request: ${name}=${value}`);
    let upstream;
    try {
      upstream = await client.request({ method: 'GET', url: usersUrl, headers });
    } catch (err) {
      log(`The HTTP request failed calling Users service with error ${(err as Error).message}`);
      return usersError(res);
    }
    if (upstream.status !== 200) {
      log(`The HTTP request to ${usersUrl} answered ${upstream.status}`);
      return usersError(res);
    }
    return send(res, 200, upstream.body, SNIFFED_TYPE);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    onRequestDone(req, res, (info) => log(formatHostLine(info)));
    const method = (req.method ?? 'GET').toUpperCase();
    const path = pathOf(req);
    if (path === '/api/users' || path === '/api/healthz') {
      if (method !== 'GET') {
        return send(res, 405, 'Method Not Allowed\n', 'text/plain; charset=utf-8', { Allow: 'GET, OPTIONS', 'X-Content-Type-Options': 'nosniff' });
      }
      if (path === '/api/healthz') return send(res, 200, '');
      return users(req, res);
    }
    return send(res, 404, '404 page not found\n', 'text/plain; charset=utf-8', { 'X-Content-Type-Options': 'nosniff' });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(`error handling ${req.method} ${req.url}: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, 'Internal Server Error\n', 'text/plain; charset=utf-8');
      else res.destroy();
    });
  });

  const address = await listen(server, options.host ?? '0.0.0.0', options.port ?? 8080);
  log(`Server is listening in port:${address.port}`);
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
