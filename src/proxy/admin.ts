/**
 * The proxy's admin endpoint (Envoy's :15000 plus Istio's merged :15020 stats): the control plane
 * pushes tables here and reads back the version; people and the canary controller read stats.
 *
 *   POST /config            body: ProxyTable JSON -> {"version": "..."} once serving it; or a
 *                           delta ({"base": version, changed sections}): 409 if not serving base
 *   GET  /ready             200 once a table is loaded
 *   GET  /version           the table version being served
 *   GET  /config_dump       the table as pushed
 *   GET  /stats/prometheus  Istio standard metrics
 *   GET  /stats             proxy counters (mirrors sent/dropped, ...), the process's memory and open fds
 *   POST /quitquitquit      exit
 *
 * Served by the proxy's own HTTP/1.1 engine rather than node:http: a push to 50 proxies is 50 of
 * these requests on 2 cores, and node:http's per-request cost was most of the push's floor
 * (measured in bench/README.md); it also keeps node:http out of the proxy process.
 */
import type { Socket } from 'node:net';
import type { ProxyTable, ProxyTableDelta } from '../model/table.js';
import type { ApplyResult } from './proxy.js';
import { Http1Server, type ServerExchange } from './http1/server.js';

export interface AdminHooks {
  version(): string | undefined;
  table(): ProxyTable | undefined;
  apply(push: ProxyTable | ProxyTableDelta): Promise<ApplyResult>;
  metrics(): string;
  stats(): Record<string, number>;
  quit(): void;
}

const MAX_CONFIG_BYTES = 64 << 20;

function json(sx: ServerExchange, status: number, body: unknown): void {
  sx.respond(status, 'content-type: application/json\r\n', JSON.stringify(body));
}

/** Collects a request body up to `limit` bytes; undefined when it was larger (the rest is dropped). */
function readBody(sx: ServerExchange, limit: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    sx.readBody({
      data(chunk) {
        size += chunk.length;
        if (size <= limit) chunks.push(chunk);
      },
      end() {
        resolve(size > limit ? undefined : chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
      },
    });
  });
}

async function applyConfig(sx: ServerExchange, hooks: AdminHooks): Promise<void> {
  const text = await readBody(sx, MAX_CONFIG_BYTES);
  if (text === undefined) return json(sx, 413, { error: `config larger than ${MAX_CONFIG_BYTES} bytes` });
  let push: ProxyTable | ProxyTableDelta;
  try {
    push = JSON.parse(text) as ProxyTable | ProxyTableDelta;
  } catch (err) {
    return json(sx, 400, { error: `config is not JSON: ${(err as Error).message}` });
  }
  const problem = shapeProblem(push);
  if (problem) return json(sx, 400, { error: problem });
  const result = await hooks.apply(push);
  json(sx, result.stale ? 409 : result.rejected ? 422 : 200, result);
}

/** What makes a body neither a ProxyTable nor a delta (the sections' insides are checked on hydrate). */
function shapeProblem(push: unknown): string | undefined {
  if (!push || typeof push !== 'object' || Array.isArray(push)) return 'not a ProxyTable';
  const p = push as Record<string, unknown>;
  if (typeof p.version !== 'string') return 'not a ProxyTable: version must be a string';
  const delta = 'base' in p;
  if (delta && typeof p.base !== 'string') return 'not a delta: base must be a string';
  if (!delta || p.listeners !== undefined) {
    if (!Array.isArray(p.listeners)) return 'not a ProxyTable: listeners must be a list';
  }
  for (const k of ['node', 'hosts', 'telemetry', 'routeConfigs', 'clusters']) {
    const v = p[k];
    if ((!delta || v !== undefined) && (v === null || typeof v !== 'object' || Array.isArray(v))) return `not a ProxyTable: ${k} must be an object`;
  }
  return undefined;
}

function handle(sx: ServerExchange, hooks: AdminHooks): void {
  const { method } = sx.head;
  const target = sx.head.target;
  const q = target.indexOf('?');
  const url = q < 0 ? target : target.slice(0, q);
  if (method === 'POST' && url === '/config') {
    applyConfig(sx, hooks).catch((err: Error) => json(sx, 500, { error: err.message }));
    return;
  }
  sx.discardBody();
  try {
    if (url === '/ready') {
      const version = hooks.version();
      return version ? json(sx, 200, { ready: true, version }) : json(sx, 503, { ready: false });
    }
    if (url === '/version') return json(sx, 200, { version: hooks.version() ?? null });
    if (url === '/config_dump') return json(sx, 200, hooks.table() ?? null);
    if (url === '/stats/prometheus') return void sx.respond(200, 'content-type: text/plain; version=0.0.4\r\n', hooks.metrics());
    if (url === '/stats') return json(sx, 200, hooks.stats());
    if (method === 'POST' && url === '/quitquitquit') {
      json(sx, 200, { ok: true });
      return hooks.quit();
    }
    json(sx, 404, { error: `no admin endpoint ${method} ${url}` });
  } catch (err) {
    json(sx, 500, { error: (err as Error).message });
  }
}

function refuseConnect(socket: Socket): void {
  socket.end('HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
}

export async function startAdmin(host: string, port: number, hooks: AdminHooks): Promise<Http1Server> {
  const server = new Http1Server({
    request: (sx) => handle(sx, hooks),
    connect: (_head, socket) => refuseConnect(socket),
    protocolError: () => undefined,
  });
  await server.listen(host, port);
  return server;
}
