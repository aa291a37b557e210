/**
 * Mirroring on the real proxy with real upstream servers on loopback: one shadow copy per request
 * with the `-shadow` authority, bodies intact, and a slow or dead mirror never touching the client.
 */
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyTable } from '../../src/model/table.js';
import { MAX_OUTSTANDING_MIRRORS } from '../../src/proxy/mirror.js';
import { Proxy } from '../../src/proxy/proxy.js';
import { freePort } from '../../src/runtime/addresses.js';
import { httpRequest, waitFor } from '../helpers/lab.js';
import { binomialBounds } from '../../lab/lib/stats.js';

interface Seen {
  host: string;
  body: string;
  xff: string | undefined;
  internal: string | undefined;
}

let mode: 'ok' | 'slow' = 'ok';
const seen: Seen[] = [];
let mirrorServer: Server;
let primary: Server;
let mirrorPort = 0;
let primaryPort = 0;
const slowTimers = new Set<NodeJS.Timeout>();

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

function tableWith(mirrorPct: number, mirrorTarget: number): ProxyTable {
  return {
    version: `t-${mirrorPct}-${mirrorTarget}`,
    node: { id: 'sidecar~127.0.0.1~webapp-1.istioinaction~istioinaction.svc.cluster.local', role: 'sidecar', pod: 'webapp-1', namespace: 'istioinaction', ip: '127.0.0.1', labels: { app: 'webapp' }, workload: 'webapp' },
    listeners: [{ name: 'virtualOutbound', direction: 'outbound', bindAddress: '127.0.0.1', bindPort: proxyPort, port: 15001, routeConfig: '*' }],
    routeConfigs: {
      '80': {
        name: '80',
        virtualHosts: [
          {
            name: 'catalog.istioinaction.svc.cluster.local:80',
            domains: ['catalog.istioinaction', 'catalog.istioinaction:80'],
            routes: [{ name: '', matches: [], action: { kind: 'route', clusters: [{ cluster: 'outbound|80|version-v1|catalog.istioinaction.svc.cluster.local', weight: 100 }], mirrors: [{ cluster: 'outbound|80|version-v2|catalog.istioinaction.svc.cluster.local', percentage: mirrorPct }] } }],
          },
        ],
      },
      '*': { name: '*', virtualHosts: [] },
    },
    clusters: {
      'outbound|80|version-v1|catalog.istioinaction.svc.cluster.local': { name: 'outbound|80|version-v1|catalog.istioinaction.svc.cluster.local', type: 'eds', lb: 'ROUND_ROBIN', endpoints: [{ address: '127.0.0.1', port: primaryPort }] },
      'outbound|80|version-v2|catalog.istioinaction.svc.cluster.local': { name: 'outbound|80|version-v2|catalog.istioinaction.svc.cluster.local', type: 'eds', lb: 'ROUND_ROBIN', endpoints: [{ address: '127.0.0.1', port: mirrorTarget }] },
    },
    hosts: {},
    telemetry: { accessLog: false, metrics: true },
  };
}

let proxy: Proxy;
let proxyPort = 0;

function call(body?: string, method = 'GET') {
  return httpRequest({
    host: '127.0.0.1',
    port: proxyPort,
    path: 'http://catalog.istioinaction:80/items',
    method,
    headers: { host: 'catalog.istioinaction:80', 'x-forwarded-for': '10.0.0.1', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body,
  });
}

beforeAll(async () => {
  primary = createServer(async (req, res) => {
    const body = await readBody(req);
    res.end(JSON.stringify({ from: 'primary', bytes: body.length }));
  });
  mirrorServer = createServer(async (req, res) => {
    const body = await readBody(req);
    seen.push({ host: req.headers.host ?? '', body, xff: req.headers['x-forwarded-for'] as string | undefined, internal: req.headers['x-envoy-internal'] as string | undefined });
    if (mode === 'slow') {
      const t = setTimeout(() => res.end('late mirror'), 2000);
      slowTimers.add(t);
      res.on('close', () => clearTimeout(t));
    } else res.end('mirror');
  });
  primaryPort = await listen(primary);
  mirrorPort = await listen(mirrorServer);
  proxyPort = await freePort();
  proxy = new Proxy({ adminHost: '127.0.0.1', adminPort: 0, seed: 42, write: () => undefined });
  await proxy.start();
});

afterEach(() => {
  seen.length = 0;
  mode = 'ok';
});

afterAll(async () => {
  for (const t of slowTimers) clearTimeout(t);
  await proxy.stop();
  mirrorServer.closeAllConnections();
  primary.closeAllConnections();
  await new Promise((r) => mirrorServer.close(r));
  await new Promise((r) => primary.close(r));
});

describe('traffic mirroring', () => {
  it('100%: exactly one shadow copy per request, authority suffixed -shadow, XFF appended, x-envoy-internal', async () => {
    await proxy.apply(tableWith(100, mirrorPort));
    const n = 40;
    for (let i = 0; i < n; i++) {
      const r = await call();
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body).from).toBe('primary');
    }
    await waitFor(async () => (seen.length >= n ? true : undefined), `${n} mirrored requests`);
    expect(seen).toHaveLength(n);
    for (const s of seen) {
      expect(s.host).toBe('catalog.istioinaction-shadow:80');
      expect(s.xff).toBe('10.0.0.1,127.0.0.1');
      expect(s.internal).toBe('true');
    }
  });

  it('mirrored POST bodies arrive intact (a 1 MiB body in chunks)', async () => {
    await proxy.apply(tableWith(100, mirrorPort));
    const body = JSON.stringify({ data: 'x'.repeat(1 << 20), n: 1 });
    const r = await call(body, 'POST');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).bytes).toBe(body.length);
    await waitFor(async () => (seen.length >= 1 ? true : undefined), 'the mirrored POST');
    expect(createHash('sha256').update(seen[0]!.body).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('mirrored chunked POST bodies arrive intact, framed as chunked', async () => {
    await proxy.apply(tableWith(100, mirrorPort));
    const pieces = ['{"part":1,', '"data":"' + 'y'.repeat(5000) + '",', '"end":true}'];
    const body = pieces.join('');
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxyPort, path: 'http://catalog.istioinaction:80/items', method: 'POST', headers: { host: 'catalog.istioinaction:80' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      // No content-length: node sends the body chunked.
      for (const p of pieces) req.write(p);
      req.end();
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).bytes).toBe(body.length);
    await waitFor(async () => (seen.length >= 1 ? true : undefined), 'the mirrored chunked POST');
    expect(seen[0]!.body).toBe(body);
  });

  it('a mirror that answers after 2 s leaves the client latency and status unchanged', async () => {
    await proxy.apply(tableWith(100, mirrorPort));
    mode = 'slow';
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const r = await call();
      times.push(performance.now() - t0);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body).from).toBe('primary');
    }
    // The copies did reach the slow mirror, and every client call finished long before it answered.
    await waitFor(async () => (seen.length >= 10 ? true : undefined), 'mirrored requests at the slow mirror');
    expect(Math.max(...times)).toBeLessThan(1000);
  });

  it('a mirror that refuses connections leaves the client untouched', async () => {
    const closed = await freePort();
    await proxy.apply(tableWith(100, closed));
    for (let i = 0; i < 10; i++) {
      const r = await call('{"a":1}', 'POST');
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body).from).toBe('primary');
    }
    await waitFor(async () => (proxy.state.mirrors.inFlight === 0 ? true : undefined), 'failed mirror copies to be released');
  });

  it('mirrorPercentage samples: 50% of 400 within an exact binomial bound (seeded, so reproducible)', async () => {
    await proxy.apply(tableWith(50, mirrorPort));
    const n = 400;
    for (let i = 0; i < n; i++) await call();
    const { lo, hi } = binomialBounds(n, 0.5);
    await waitFor(async () => (proxy.state.mirrors.inFlight === 0 ? true : undefined), 'mirrors done');
    expect(seen.length).toBeGreaterThanOrEqual(lo);
    expect(seen.length).toBeLessThanOrEqual(hi);
  });

  it('outstanding mirror copies are bounded: a slow mirror cannot grow memory without limit', async () => {
    await proxy.apply(tableWith(100, mirrorPort));
    mode = 'slow';
    const before = proxy.state.mirrors.dropped;
    const n = MAX_OUTSTANDING_MIRRORS + 72;
    const replies = await Promise.all(Array.from({ length: n }, () => call()));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(proxy.state.mirrors.inFlight).toBeLessThanOrEqual(MAX_OUTSTANDING_MIRRORS);
    expect(proxy.state.mirrors.dropped - before).toBeGreaterThan(0);
  });
});
