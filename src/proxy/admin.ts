/**
 * The proxy's admin endpoint (Envoy's :15000 plus Istio's merged :15020 stats): the control plane
 * pushes tables here and reads back the version; people and the canary controller read stats.
 *
 *   POST /config            body: ProxyTable JSON -> {"version": "..."} once serving it
 *   GET  /ready             200 once a table is loaded
 *   GET  /version           the table version being served
 *   GET  /config_dump       the table as pushed
 *   GET  /stats/prometheus  Istio standard metrics
 *   GET  /stats             proxy counters (mirrors sent/dropped, ...)
 *   POST /quitquitquit      exit
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ProxyTable } from '../model/table.js';

export interface AdminHooks {
  version(): string | undefined;
  table(): ProxyTable | undefined;
  apply(table: ProxyTable): Promise<{ version: string; errors: string[]; rejected?: boolean }>;
  metrics(): string;
  stats(): Record<string, number>;
  quit(): void;
}

const MAX_CONFIG_BYTES = 64 << 20;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_CONFIG_BYTES) {
        reject(new Error('config too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function startAdmin(host: string, port: number, hooks: AdminHooks): Promise<Server> {
  const server = createServer(async (req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    try {
      if (req.method === 'POST' && url === '/config') {
        const table = JSON.parse(await readBody(req)) as ProxyTable;
        if (!table || typeof table.version !== 'string' || !Array.isArray(table.listeners)) {
          return json(res, 400, { error: 'not a ProxyTable' });
        }
        const result = await hooks.apply(table);
        return json(res, result.rejected ? 422 : 200, result);
      }
      if (url === '/ready') return hooks.version() ? json(res, 200, { ready: true, version: hooks.version() }) : json(res, 503, { ready: false });
      if (url === '/version') return json(res, 200, { version: hooks.version() ?? null });
      if (url === '/config_dump') return json(res, 200, hooks.table() ?? null);
      if (url === '/stats/prometheus') {
        const text = hooks.metrics();
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(text) });
        return res.end(text);
      }
      if (url === '/stats') return json(res, 200, hooks.stats());
      if (req.method === 'POST' && url === '/quitquitquit') {
        json(res, 200, { ok: true });
        return hooks.quit();
      }
      json(res, 404, { error: `no admin endpoint ${req.method} ${url}` });
    } catch (err) {
      json(res, 500, { error: (err as Error).message });
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => resolve(server));
  });
}
