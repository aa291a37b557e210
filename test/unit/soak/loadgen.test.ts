/**
 * The soak's load generator against a server started here: every scheduled request is sent and
 * accounted for, and each way of failing is counted under its own kind.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad, type LoadSecond } from '../../../scripts/soak/loadgen.js';

const V1 = JSON.stringify([{ id: 1, name: 'Elinor Glasses' }]);
const V2 = JSON.stringify([{ id: 1, name: 'Elinor Glasses', imageUrl: 'http://lorempixel.com/640/480' }]);

let server: Server;
let port = 0;
const hosts = new Set<string>();

beforeAll(async () => {
  // By the request's index (x-request-id soak-<i>): every 10th from 3 a 503, from 5 a v2 body,
  // from 7 a connection closed without an answer; the rest a v1 body.
  server = createServer((req, res) => {
    hosts.add(req.headers.host ?? '');
    const i = Number(String(req.headers['x-request-id']).split('-').pop());
    if (i % 10 === 3) return void res.writeHead(503).end('no healthy upstream');
    if (i % 10 === 7) return void req.socket.destroy();
    res.writeHead(200, { 'content-type': 'application/json' }).end(i % 10 === 5 ? V2 : V1);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('runLoad', () => {
  it('sends every scheduled request and counts each failure by its kind', async () => {
    const seconds: LoadSecond[] = [];
    const r = await runLoad(
      { host: '127.0.0.1', port, path: '/api/catalog', hostHeader: 'webapp.istioinaction.io', rate: 400, durationMs: 500, connections: 8, timeoutMs: 10_000, maxOutstanding: 10_000, idPrefix: 'soak' },
      (m) => void (m.type === 'second' && seconds.push(m)),
    );
    expect(r.scheduled).toBe(200);
    expect(r.sent).toBe(200);
    expect(r.skipped).toBe(0);
    expect(r.ok).toBe(140);
    expect(r.failed).toBe(60);
    expect(r.failures).toEqual({ 'HTTP 503': 20, 'v2 answer': 20, ECONNRESET: 20 });
    // Examples are kept in the order failures complete, which races between connections (request
    // 7's reset can land before request 3's 503), so only membership is fixed.
    expect(r.examples).toContainEqual(expect.objectContaining({ id: 'soak-3', kind: 'HTTP 503' }));
    expect(r.examples).toContainEqual(expect.objectContaining({ id: 'soak-7', kind: 'ECONNRESET' }));
    expect(hosts).toEqual(new Set(['webapp.istioinaction.io']));
    // The per-second reports add up to the totals.
    expect(seconds.reduce((n, s) => n + s.sent, 0)).toBe(200);
    expect(seconds.reduce((n, s) => n + s.ok + s.failed, 0)).toBe(200);
  });

  it('does not send a request while maxOutstanding are unanswered, and counts it as not sent', async () => {
    const r = await runLoad(
      { host: '127.0.0.1', port, path: '/', hostHeader: 'x', rate: 1000, durationMs: 100, connections: 1, timeoutMs: 10_000, maxOutstanding: 0, idPrefix: 'none' },
      () => undefined,
    );
    expect(r).toMatchObject({ scheduled: 100, sent: 0, skipped: 100, ok: 0, failed: 0 });
  });
});
