/**
 * A stand-in for `jsonplaceholder.typicode.com`, the forum's external dependency. It runs outside the
 * mesh (no sidecar). Like the real site (json-server behind a CDN) it answers pretty-printed JSON and
 * gzips it when the client accepts gzip (Go's client always does).
 *
 *   GET /users, /users/:id, /posts, /posts/:id; anything else 404 `{}`.
 *
 * Each request is logged with the Host it was called with:
 *   GET jsonplaceholder.typicode.com /users 200 5645 - 0.412 ms
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { pathOf, send } from '../../shared/src/http-util.js';
import { closeServer, listen, type RunningService, urlOf } from '../../shared/src/lifecycle.js';
import { formatHostLine, type LogFn, logRequests, stdoutLog } from '../../shared/src/log.js';
import { POSTS, USERS } from './data.js';

export interface ExternalOptions {
  /** Bind address (default `0.0.0.0`). */
  host?: string;
  /** Port (default 8080; 0 picks a free one). */
  port?: number;
  /** Where log lines go (default stdout). */
  log?: LogFn;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const GZIP_THRESHOLD = 1024;

function acceptsGzip(req: IncomingMessage): boolean {
  const ae = String(req.headers['accept-encoding'] ?? '');
  return ae.split(',').some((p) => {
    const [coding, ...params] = p.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== '*') return false;
    const q = params.map((x) => x.trim()).find((x) => x.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

function replyJson(req: IncomingMessage, res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value, null, 2), 'utf8');
  const headers: Record<string, string> = { 'X-Powered-By': 'Express', Vary: 'Origin, Accept-Encoding', 'Cache-Control': 'max-age=43200' };
  if (body.length >= GZIP_THRESHOLD && acceptsGzip(req)) {
    send(res, status, gzipSync(body), JSON_TYPE, { ...headers, 'Content-Encoding': 'gzip' });
  } else {
    send(res, status, body, JSON_TYPE, headers);
  }
}

export async function startExternal(options: ExternalOptions = {}): Promise<RunningService> {
  const log = options.log ?? stdoutLog;
  const logRequest = logRequests(log, formatHostLine);

  const server = http.createServer((req, res) => {
    logRequest(req, res);
    const method = (req.method ?? 'GET').toUpperCase();
    let path = pathOf(req);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    if (method !== 'GET' && method !== 'HEAD') return replyJson(req, res, 404, {});
    if (path === '/') {
      return send(res, 200, '<!DOCTYPE html>\n<html><head><title>JSONPlaceholder (lab stand-in)</title></head><body><h1>JSONPlaceholder</h1><p>Free fake API: <a href="/users">/users</a>, <a href="/posts">/posts</a></p></body></html>\n', 'text/html; charset=utf-8');
    }
    if (path === '/users') return replyJson(req, res, 200, USERS);
    if (path === '/posts') return replyJson(req, res, 200, POSTS);
    const m = /^\/(users|posts)\/([^/]+)$/.exec(path);
    if (m) {
      const coll: readonly { id: number }[] = m[1] === 'users' ? USERS : POSTS;
      const found = coll.find((x) => String(x.id) === m[2]);
      return found ? replyJson(req, res, 200, found) : replyJson(req, res, 404, {});
    }
    return replyJson(req, res, 404, {});
  });

  const address = await listen(server, options.host ?? '0.0.0.0', options.port ?? 8080);
  log(`jsonplaceholder stand-in listening on ${urlOf(address)}`);
  return { server, address, url: urlOf(address), close: () => closeServer(server) };
}
