/**
 * The dashboard's HTTP server on 127.0.0.1: the page's own files (no CDN: it works offline) and a
 * Server-Sent Events stream of snapshots, one per collector tick, so the page updates without a
 * reload. The collector runs whether or not a page is open, so windows are ready when one opens.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabError } from '../shared/errors.js';
import type { DashboardSnapshot } from './model.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The page's files live beside the sources (`src/dashboard/public`), also when run from `dist/`. */
export function publicDir(): string {
  return here.includes(`${join('dist', 'src', 'dashboard')}`) ? join(here, '..', '..', '..', 'src', 'dashboard', 'public') : join(here, 'public');
}

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

export interface DashboardServer {
  url: string;
  port: number;
  /** Sends a snapshot (or the reason there is none) to every open page. */
  publish(update: { snapshot?: DashboardSnapshot; error?: string }): void;
  close(): Promise<void>;
}

/** NaN (no data) travels as null. */
function toJson(update: unknown): string {
  return JSON.stringify(update, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}

export async function startDashboardServer(port = 0): Promise<DashboardServer> {
  const dir = publicDir();
  const streams = new Set<ServerResponse>();
  let last = '';
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write('retry: 1000\n\n');
      if (last) res.write(`data: ${last}\n\n`);
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    if (path === '/snapshot.json') {
      res.writeHead(last ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(last || '{"error":"no snapshot yet"}');
      return;
    }
    const f = FILES[path];
    if (!f) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    try {
      res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-store' }).end(readFileSync(join(dir, f.file)));
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`cannot read ${f.file}: ${(err as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new LabError('LAB_ERR_USAGE', `port 127.0.0.1:${port} is in use; pick another with --port (or none for a free one)`) : err),
    );
    server.listen({ host: '127.0.0.1', port }, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/`,
    port: bound,
    publish(update) {
      last = toJson(update);
      for (const s of streams) s.write(`data: ${last}\n\n`);
    },
    async close() {
      for (const s of streams) s.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
