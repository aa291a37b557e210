/**
 * The proxy's failure replies and their access log flags, on real sockets: UT (timeout), UF,URX
 * (connection refused after Istio's default retries), UF (no retry policy), UH (no endpoint), NC
 * (no cluster), NR. Retry semantics in detail: retries.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRetryPolicy } from '../../src/compiler/retry.js';
import type { ProxyTable, RetryPolicy, Route } from '../../src/model/table.js';
import { Proxy } from '../../src/proxy/proxy.js';
import { parseAccessLogLines } from '../../src/proxy/telemetry/access-log.js';
import { freePort } from '../../src/runtime/addresses.js';
import { httpRequest, waitFor } from '../helpers/lab.js';

let slow: Server;
let slowPort = 0;
let closedPort = 0;
let proxyPort = 0;
let proxy: Proxy;
let logText = '';
const timers = new Set<NodeJS.Timeout>();

const route = (name: string, path: string, cluster: string, timeoutMs?: number, retryPolicy?: RetryPolicy): Route => ({
  name,
  matches: [{ uri: { prefix: path } }],
  action: { kind: 'route', clusters: [{ cluster, weight: 1 }], mirrors: [], ...(timeoutMs ? { timeoutMs } : {}), ...(retryPolicy ? { retryPolicy } : {}) },
});

beforeAll(async () => {
  slow = createServer((_req, res) => {
    const t = setTimeout(() => res.end('late'), 1500);
    timers.add(t);
    res.on('close', () => clearTimeout(t));
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
  slowPort = (slow.address() as AddressInfo).port;
  closedPort = await freePort();
  proxyPort = await freePort();
  proxy = new Proxy({ adminHost: '127.0.0.1', adminPort: 0, write: (t) => (logText += t.toString()) });
  await proxy.start();
  const table: ProxyTable = {
    version: 'failures',
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
              route('slow', '/slow', 'slow', 200, defaultRetryPolicy()),
              route('norefused', '/norefused', 'closed'),
              route('refused', '/refused', 'closed', undefined, defaultRetryPolicy()),
              route('empty', '/empty', 'empty'),
              route('missing', '/missing', 'no-such-cluster'),
            ],
          },
        ],
      },
    },
    clusters: {
      slow: { name: 'slow', type: 'eds', lb: 'ROUND_ROBIN', endpoints: [{ address: '127.0.0.1', port: slowPort }] },
      closed: { name: 'closed', type: 'eds', lb: 'ROUND_ROBIN', endpoints: [{ address: '127.0.0.1', port: closedPort }] },
      empty: { name: 'empty', type: 'eds', lb: 'ROUND_ROBIN', endpoints: [] },
    },
    hosts: {},
    telemetry: { accessLog: true, metrics: true },
  };
  await proxy.apply(table);
});

afterAll(async () => {
  for (const t of timers) clearTimeout(t);
  await proxy.stop();
  slow.closeAllConnections();
  await new Promise((r) => slow.close(r));
});

async function callAndLog(path: string) {
  const id = `fail-${path.slice(1)}`;
  const r = await httpRequest({ host: '127.0.0.1', port: proxyPort, path, headers: { host: 'test', 'x-request-id': id } });
  const line = await waitFor(async () => parseAccessLogLines(logText).find((l) => l.requestId === id), `log line ${id}`);
  return { r, line };
}

describe('failure replies', () => {
  it.each([
    ['/slow', 504, 'UT', 'response_timeout', 'upstream request timeout'],
    ['/refused', 503, 'UF,URX', 'upstream_reset_before_response_started{connection_failure}', 'upstream connect error or disconnect/reset before headers. reset reason: connection failure'],
    ['/norefused', 503, 'UF', 'upstream_reset_before_response_started{connection_failure}', 'upstream connect error or disconnect/reset before headers. reset reason: connection failure'],
    ['/empty', 503, 'UH', 'no_healthy_upstream', 'no healthy upstream'],
    ['/missing', 503, 'NC', 'cluster_not_found', ''],
    ['/other', 404, 'NR', 'route_not_found', ''],
  ])('%s -> %i %s', async (path, status, flags, details, body) => {
    const { r, line } = await callAndLog(path);
    expect(r.status).toBe(status);
    expect(r.body).toBe(body);
    expect(line).toMatchObject({ responseCode: String(status), responseFlags: flags, responseCodeDetails: details });
  });

  it('the timeout reply is not cut short by the upstream reset that follows it', async () => {
    const t0 = performance.now();
    const { r } = await callAndLog('/slow');
    expect(r.status).toBe(504);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
