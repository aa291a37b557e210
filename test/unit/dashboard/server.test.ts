import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startDashboardServer, type DashboardServer } from '../../../src/dashboard/server.js';
import type { DashboardSnapshot } from '../../../src/dashboard/model.js';

let server: DashboardServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function get(url: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens the event stream and collects `data:` payloads until `count` arrived. */
function events(url: string, count: number, onOpen: () => void): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const got: unknown[] = [];
    const req = request(`${url}events`, (res) => {
      expect(res.headers['content-type']).toBe('text/event-stream');
      let buf = '';
      res.on('data', (c: Buffer) => {
        buf += c.toString();
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (frame.startsWith('data: ')) got.push(JSON.parse(frame.slice(6)));
          if (got.length === count) {
            req.destroy();
            resolve(got);
            return;
          }
        }
      });
      onOpen();
    });
    req.on('error', (e) => (got.length === count ? undefined : reject(e)));
    req.end();
  });
}

const snapshot = (at: number) => ({ at, edges: [{ id: 'a->b', successRate: NaN, p90Ms: Infinity, rps: 1.5 }] }) as unknown as DashboardSnapshot;

describe('dashboard server', () => {
  it('serves the page and its files from 127.0.0.1, and nothing else', async () => {
    server = await startDashboardServer(0);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(server.url);
    expect([page.status, page.type]).toEqual([200, 'text/html; charset=utf-8']);
    expect(page.body).toContain('<script type="module" src="/app.js">');
    // No file of the page comes from anywhere else (it works offline).
    expect(page.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect((await get(`${server.url}app.js`)).type).toBe('text/javascript; charset=utf-8');
    expect((await get(`${server.url}style.css`)).type).toBe('text/css; charset=utf-8');
    expect((await get(`${server.url}../package.json`)).status).toBe(404);
    expect((await get(`${server.url}nope`)).status).toBe(404);
    expect((await get(server.url, 'POST')).status).toBe(405);
    expect((await get(`${server.url}snapshot.json`)).status).toBe(503);
  });

  it('streams the latest snapshot to a page that opens, then every new one; no data travels as null', async () => {
    server = await startDashboardServer(0);
    const s = server;
    s.publish({ snapshot: snapshot(1) });
    const got = await events(s.url, 3, () => {
      s.publish({ snapshot: snapshot(2) });
      s.publish({ error: 'cannot reach the lab' });
    });
    expect(got).toEqual([
      { snapshot: { at: 1, edges: [{ id: 'a->b', successRate: null, p90Ms: null, rps: 1.5 }] } },
      { snapshot: { at: 2, edges: [{ id: 'a->b', successRate: null, p90Ms: null, rps: 1.5 }] } },
      { error: 'cannot reach the lab' },
    ]);
    expect(JSON.parse((await get(`${s.url}snapshot.json`)).body)).toEqual({ error: 'cannot reach the lab' });
  });

  it('a port in use is a usage error naming it', async () => {
    server = await startDashboardServer(0);
    await expect(startDashboardServer(server.port)).rejects.toThrow(`port 127.0.0.1:${server.port} is in use`);
  });
});
