/**
 * Retry policies on real sockets (one proxy in-process, node:http upstreams): what Istio's default
 * retries and what it passes on, what a VirtualService's `retries` changes, `previous_hosts`,
 * per-try timeouts, bodies kept for a replay, and the flags Envoy logs (UF,URX / URX via_upstream /
 * UC / UT,URX). Each upstream counts the attempts it saw per x-request-id.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertRetryPolicy, defaultRetryPolicy } from '../../src/compiler/retry.js';
import type { Cluster, ProxyTable, RetryPolicy, Route } from '../../src/model/table.js';
import { Proxy } from '../../src/proxy/proxy.js';
import { parseAccessLogLines, type ParsedAccessLog } from '../../src/proxy/telemetry/access-log.js';
import { freePort } from '../../src/runtime/addresses.js';
import { httpRequest, waitFor, type HttpReply } from '../helpers/lab.js';

/** Attempts seen per request id, per upstream, and the bodies they carried. */
const seen = new Map<string, Array<{ upstream: string; body: string }>>();
const servers: Server[] = [];
const timers = new Set<NodeJS.Timeout>();
let proxy: Proxy;
let proxyPort = 0;
let logText = '';

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    req.on('error', () => resolve(''));
  });
}

/**
 * An upstream whose behaviour is chosen by the path: `/status/N` answers N, `/flaky/K` answers 503
 * to the first K attempts of a request id then 200, `/drop` closes the connection without an
 * answer, `/slow` answers after 1.5 s, anything else 200 `ok from <name>`.
 */
async function upstream(name: string): Promise<number> {
  const server = createServer(async (req, res) => {
    const id = String(req.headers['x-request-id'] ?? '');
    const body = await readBody(req);
    const list = seen.get(id) ?? [];
    list.push({ upstream: name, body });
    seen.set(id, list);
    const path = req.url ?? '/';
    const status = /\/status\/(\d+)/.exec(path);
    const flaky = /\/flaky\/(\d+)/.exec(path);
    if (status) {
      res.writeHead(Number(status[1]), { 'content-type': 'text/plain' });
      res.end(`status ${status[1]} from ${name}`);
    } else if (flaky) {
      const fail = list.length <= Number(flaky[1]);
      res.writeHead(fail ? 503 : 200, { 'content-type': 'text/plain' });
      res.end(fail ? 'unavailable' : `ok from ${name} after ${list.length} attempts`);
    } else if (path.includes('/drop')) {
      req.socket.destroy();
    } else if (path.includes('/slow')) {
      const t = setTimeout(() => res.end('late'), 1500);
      timers.add(t);
      res.on('close', () => clearTimeout(t));
    } else {
      res.end(`ok from ${name}`);
    }
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

const eds = (name: string, ports: number[]): Cluster => ({ name, type: 'eds', lb: 'ROUND_ROBIN', endpoints: ports.map((port) => ({ address: '127.0.0.1', port })) });
const route = (prefix: string, cluster: string, retryPolicy: RetryPolicy | undefined, timeoutMs?: number): Route => ({
  name: prefix.slice(1).replace(/\//g, '-'),
  matches: [{ uri: { prefix } }],
  action: { kind: 'route', clusters: [{ cluster, weight: 1 }], mirrors: [], ...(retryPolicy ? { retryPolicy } : {}), ...(timeoutMs ? { timeoutMs } : {}) },
});

let portA = 0;
let portB = 0;
let portDrop = 0;
let closed = 0;

beforeAll(async () => {
  portA = await upstream('a');
  portB = await upstream('b');
  // Only ever drops, so no connection to it is ever reused: the http1 client re-sends a request
  // once by itself when a REUSED keep-alive connection closes before any byte (the server may
  // have closed it idle), which would count as an extra attempt here.
  portDrop = await upstream('drop');
  closed = await freePort();
  proxyPort = await freePort();
  proxy = new Proxy({ adminHost: '127.0.0.1', adminPort: 0, write: (t) => (logText += t.toString()) });
  await proxy.start();
  const DEFAULT = defaultRetryPolicy();
  const table: ProxyTable = {
    version: 'retries',
    node: { id: 'router~127.0.0.1~gw.istio-system~istio-system.svc.cluster.local', role: 'gateway', pod: 'gw', namespace: 'istio-system', ip: '127.0.0.1', labels: {}, workload: 'gw' },
    listeners: [{ name: '0.0.0.0_80', direction: 'gateway', bindAddress: '127.0.0.1', bindPort: proxyPort, port: 80, routeConfig: 'http.80' }],
    routeConfigs: {
      'http.80': {
        name: 'http.80',
        virtualHosts: [
          {
            name: 'test:80',
            domains: ['test'],
            routes: [
              route('/default/drop', 'drop', DEFAULT),
              route('/default/half-dead', 'half-dead', DEFAULT),
              route('/default', 'a', DEFAULT),
              route('/none/half-dead', 'half-dead', undefined),
              route('/none', 'a', undefined),
              route('/zero', 'a', convertRetryPolicy({ attempts: 0 })),
              route('/reset', 'drop', convertRetryPolicy({ attempts: 2, retryOn: 'reset' })),
              route('/5xx', 'a', convertRetryPolicy({ attempts: 1, retryOn: '5xx' })),
              route('/pertry', 'a', convertRetryPolicy({ attempts: 2, retryOn: '5xx', perTryTimeout: '100ms' }), 5000),
              route('/overall', 'a', convertRetryPolicy({ attempts: 5, retryOn: '5xx', perTryTimeout: '400ms' }), 600),
              route('/two', 'ab', DEFAULT),
              route('/refused', 'closed', DEFAULT),
            ],
          },
        ],
      },
    },
    clusters: {
      a: eds('a', [portA]),
      ab: eds('ab', [portA, portB]),
      drop: eds('drop', [portDrop]),
      closed: eds('closed', [closed]),
      'half-dead': eds('half-dead', [closed, portA]),
    },
    hosts: {},
    telemetry: { accessLog: true, metrics: true },
  };
  const r = await proxy.apply(table);
  expect(r.errors).toEqual([]);
});

afterAll(async () => {
  for (const t of timers) clearTimeout(t);
  await proxy.stop();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

let counter = 0;
async function call(path: string, o: { method?: string; body?: string } = {}): Promise<{ r: HttpReply; line: ParsedAccessLog; attempts: Array<{ upstream: string; body: string }> }> {
  const id = `retry-${++counter}`;
  const headers: Record<string, string> = { host: 'test', 'x-request-id': id };
  if (o.body !== undefined) headers['content-length'] = String(Buffer.byteLength(o.body));
  const r = await httpRequest({ host: '127.0.0.1', port: proxyPort, path, method: o.method, headers, body: o.body });
  const line = await waitFor(async () => parseAccessLogLines(logText).find((l) => l.requestId === id), `log line ${id}`);
  return { r, line, attempts: seen.get(id) ?? [] };
}

const UF_BODY = 'upstream connect error or disconnect/reset before headers. reset reason: connection failure';
const UC_BODY = 'upstream connect error or disconnect/reset before headers. reset reason: connection termination';

describe("Istio's default policy: 2 retries on connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes (503)", () => {
  it('a 503 is retried: the third attempt answers, the client sees 200 and flag -', async () => {
    const { r, line, attempts } = await call('/default/flaky/2');
    expect(r.status).toBe(200);
    expect(r.body).toBe('ok from a after 3 attempts');
    expect(attempts).toHaveLength(3);
    expect(line).toMatchObject({ responseCode: '200', responseFlags: '-', responseCodeDetails: 'via_upstream' });
  });

  it('503 three times: the last 503 is passed on, logged URX via_upstream', async () => {
    const { r, line, attempts } = await call('/default/status/503');
    expect(r.status).toBe(503);
    expect(r.body).toBe('status 503 from a');
    expect(attempts).toHaveLength(3);
    expect(line).toMatchObject({ responseCode: '503', responseFlags: 'URX', responseCodeDetails: 'via_upstream' });
  });

  it.each([500, 502, 504, 409])('a %i is not retryable under the default (503 only): one attempt, passed on', async (status) => {
    const { r, line, attempts } = await call(`/default/status/${status}`);
    expect(r.status).toBe(status);
    expect(attempts).toHaveLength(1);
    expect(line).toMatchObject({ responseCode: String(status), responseFlags: '-' });
  });

  it('connection refused three times: 503 UF,URX', async () => {
    const { r, line } = await call('/refused');
    expect(r.status).toBe(503);
    expect(r.body).toBe(UF_BODY);
    expect(line).toMatchObject({ responseCode: '503', responseFlags: 'UF,URX', responseCodeDetails: 'upstream_reset_before_response_started{connection_failure}', upstreamHost: `127.0.0.1:${closed}` });
  });

  it('a reset before the response head is not retried: 503 UC connection_termination, one attempt', async () => {
    const { r, line, attempts } = await call('/default/drop');
    expect(r.status).toBe(503);
    expect(r.body).toBe(UC_BODY);
    expect(attempts).toHaveLength(1);
    expect(line).toMatchObject({ responseFlags: 'UC', responseCodeDetails: 'upstream_reset_before_response_started{connection_termination}' });
  });

  it('previous_hosts: with one of two endpoints refusing, every request succeeds on the live one', async () => {
    for (let i = 0; i < 20; i++) {
      const { r, line } = await call('/default/half-dead');
      expect(r.status).toBe(200);
      expect(line).toMatchObject({ responseFlags: '-', upstreamHost: `127.0.0.1:${portA}` });
    }
  });

  it('a retried 503 goes to the other host', async () => {
    const { r, attempts } = await call('/two/flaky/1');
    expect(r.status).toBe(200);
    expect(attempts).toHaveLength(2);
    expect(attempts[0]!.upstream).not.toBe(attempts[1]!.upstream);
  });

  it('a small POST body is sent again whole on each attempt', async () => {
    const body = 'x'.repeat(20_000) + 'end';
    const { r, attempts } = await call('/default/flaky/2', { method: 'POST', body });
    expect(r.status).toBe(200);
    expect(attempts.map((a) => a.body.length)).toEqual([body.length, body.length, body.length]);
    expect(attempts.every((a) => a.body === body)).toBe(true);
  });

  it('a body over 64 KiB is not kept, so not retried: the 503 is passed on without URX', async () => {
    const body = 'y'.repeat(100_000);
    const { r, line, attempts } = await call('/default/status/503', { method: 'POST', body });
    expect(r.status).toBe(503);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.body).toBe(body);
    expect(line).toMatchObject({ responseFlags: '-', bytesReceived: '100000' });
  });
});

describe('VirtualService retries', () => {
  it('no policy (inbound, allow_any): connection refused is 503 UF at once; a 503 is passed on', async () => {
    const refused = await call('/none/half-dead');
    // ROUND_ROBIN from a random start: the first pick is either endpoint; only a refused one fails.
    if (refused.r.status !== 200) expect(refused.line).toMatchObject({ responseCode: '503', responseFlags: 'UF' });
    const { r, attempts } = await call('/none/status/503');
    expect(r.status).toBe(503);
    expect(attempts).toHaveLength(1);
  });

  it('attempts: 0: one attempt, the 503 is passed on without URX', async () => {
    const { r, line, attempts } = await call('/zero/status/503');
    expect(r.status).toBe(503);
    expect(attempts).toHaveLength(1);
    expect(line).toMatchObject({ responseFlags: '-' });
  });

  it('retryOn reset: a dropped connection is retried, then 503 UC,URX', async () => {
    const { r, line, attempts } = await call('/reset/drop');
    expect(r.status).toBe(503);
    expect(attempts).toHaveLength(3);
    expect(line).toMatchObject({ responseFlags: 'UC,URX', responseCodeDetails: 'upstream_reset_before_response_started{connection_termination}' });
  });

  it('retryOn 5xx: a 500 is retried (attempts 1 -> 2 tries), then passed on with URX', async () => {
    const { r, line, attempts } = await call('/5xx/status/500');
    expect(r.status).toBe(500);
    expect(attempts).toHaveLength(2);
    expect(line).toMatchObject({ responseFlags: 'URX', responseCodeDetails: 'via_upstream' });
  });

  it('perTryTimeout: each attempt gets 100 ms, then 504 UT,URX upstream_per_try_timeout', async () => {
    const t0 = performance.now();
    const { r, line, attempts } = await call('/pertry/slow');
    expect(r.status).toBe(504);
    expect(r.body).toBe('upstream request timeout');
    expect(attempts).toHaveLength(3);
    expect(line).toMatchObject({ responseFlags: 'UT,URX', responseCodeDetails: 'upstream_per_try_timeout' });
    expect(performance.now() - t0).toBeLessThan(1400);
  });

  it('the route timeout bounds all attempts together: 504 UT response_timeout', async () => {
    const { r, line, attempts } = await call('/overall/slow');
    expect(r.status).toBe(504);
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    expect(attempts.length).toBeLessThanOrEqual(2);
    expect(line).toMatchObject({ responseFlags: 'UT', responseCodeDetails: 'response_timeout' });
  });
});
