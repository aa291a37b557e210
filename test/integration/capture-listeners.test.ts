/**
 * A real proxy with listeners as a Docker pod's iptables rules feed them, simulated on loopback:
 * on Linux all of 127/8 is local, so a client connecting to 127.1.0.80:<capture port> is what a
 * connection DNATed from <vip>:80 looks like to the proxy, and 127.1.0.0 is a port no rule knows.
 * Apps send origin-form requests (no HTTP_PROXY); the proxy routes by the decoded port and logs
 * the original destination as Istio does.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeOriginalPort, UNKNOWN_PORT_ADDRESS } from '../../src/capture/original-port.js';
import type { ProxyNode } from '../../src/compiler/snapshot.js';
import type { KubeObject } from '../../src/model/objects.js';
import type { ProxyTable } from '../../src/model/table.js';
import { Proxy } from '../../src/proxy/proxy.js';
import { parseAccessLogLines, type ParsedAccessLog } from '../../src/proxy/telemetry/access-log.js';
import { freePort } from '../../src/runtime/addresses.js';
import { httpRequest, waitFor } from '../helpers/lab.js';
import { compile, objects, pod } from '../helpers/sim.js';

const VIP = '10.96.0.10';
const NODE_IP = '127.0.0.5';
const CATALOG = 'outbound|80||catalog.istioinaction.svc.cluster.local';
const PORT_80 = encodeOriginalPort(80);
const PORT_9080 = encodeOriginalPort(9080);

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
}

function upstream(name: string, seen: Seen[]): Server {
  return createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => res.end(`${name} ${req.url}`));
  });
}

function listen(s: Server): Promise<number> {
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
}

/** A ready pod whose container port 3000 is served on `hostPort` (the local runtime's port map). */
function mappedPod(name: string, app: string, hostPort: number): KubeObject {
  const p = pod(name, { app }, '127.0.0.1', 3000);
  return { ...p, status: { ...(p.status as object), portMap: { '3000': hostPort } } };
}

const seenCatalog: Seen[] = [];
const seenShadow: Seen[] = [];
const seenApp: Seen[] = [];
const seenExternal: Seen[] = [];
const seenReviews: Seen[] = [];
let servers: Server[] = [];
let proxy: Proxy;
let logText = '';
let capturePort = 0;
let inboundPort = 0;
let externalPort = 0;

beforeAll(async () => {
  const catalog = upstream('catalog', seenCatalog);
  const shadow = upstream('shadow', seenShadow);
  const app = upstream('app', seenApp);
  const external = upstream('external', seenExternal);
  const reviews = upstream('reviews', seenReviews);
  servers = [catalog, shadow, app, external, reviews];
  const [catalogPort, shadowPort, appPort] = [await listen(catalog), await listen(shadow), await listen(app)];
  externalPort = await listen(external);
  const reviewsPort = await listen(reviews);
  capturePort = await freePort();
  inboundPort = await freePort();

  const objs = [
    ...objects(`
apiVersion: v1
kind: Service
metadata: { name: catalog }
spec: { selector: { app: catalog }, clusterIP: ${VIP}, ports: [{ name: http, port: 80, targetPort: 3000 }] }
---
apiVersion: v1
kind: Service
metadata: { name: catalog-shadow }
spec: { selector: { app: catalog-shadow }, clusterIP: 10.96.0.11, ports: [{ name: http, port: 80, targetPort: 3000 }] }
---
apiVersion: v1
kind: Service
metadata: { name: reviews }
spec: { selector: { app: reviews }, ports: [{ name: http, port: 9080, targetPort: 3000 }] }
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: catalog }
spec:
  hosts: [catalog]
  http:
  - name: mirrored
    match: [{ headers: { x-mirror: { exact: "yes" } } }]
    route: [{ destination: { host: catalog } }]
    mirror: { host: catalog-shadow }
    mirrorPercentage: { value: 100 }
  - name: default
    route: [{ destination: { host: catalog } }]
`),
    mappedPod('catalog-1', 'catalog', catalogPort),
    mappedPod('catalog-shadow-1', 'catalog-shadow', shadowPort),
    mappedPod('reviews-1', 'reviews', reviewsPort),
  ];
  const node: ProxyNode = {
    role: 'sidecar',
    pod: 'webapp-abc',
    namespace: 'istioinaction',
    ip: NODE_IP,
    labels: { app: 'webapp' },
    workload: 'webapp',
    inbound: [{ port: 8080, bindAddress: '127.0.0.1', bindPort: inboundPort, appAddress: '127.0.0.1', appPort, capture: true }],
    outbound: { bindAddress: PORT_80, bindPort: capturePort, capture: true },
  };
  const table: ProxyTable = compile(objs, node);
  const outbound = table.listeners.find((l) => l.direction === 'outbound')!;
  expect(outbound).toMatchObject({ capture: 'iptables', port: 15001, routeConfig: '*' });
  // The same capture port on the address for ports no rule knows (one 0.0.0.0 socket in a pod).
  table.listeners.push(
    { ...outbound, name: 'virtualOutbound-unknown-port', bindAddress: UNKNOWN_PORT_ADDRESS },
    { ...outbound, name: 'virtualOutbound-9080', bindAddress: PORT_9080 },
  );

  proxy = new Proxy({ adminHost: '127.0.0.1', adminPort: 0, write: (t) => (logText += t.toString()) });
  await proxy.start();
  const applied = await proxy.apply(table);
  expect(applied.errors).toEqual([]);
});

afterAll(async () => {
  const closing = servers.map((s) => new Promise((r) => s.close(r)));
  for (const s of servers) s.closeAllConnections();
  await proxy?.stop();
  await Promise.all(closing);
});

function logFor(requestId: string): Promise<ParsedAccessLog> {
  return waitFor(async () => parseAccessLogLines(logText).find((l) => l.requestId === requestId), `access log line for ${requestId}`);
}

describe('captured outbound listener', () => {
  it('routes an origin-form request by the port its address spells, and logs vip:80 as the downstream local address', async () => {
    const r = await httpRequest({ host: PORT_80, port: capturePort, path: '/items', headers: { host: 'catalog.istioinaction', 'x-request-id': 'cap-1' } });
    expect(r).toMatchObject({ status: 200, body: 'catalog /items' });
    expect(seenCatalog.at(-1)?.headers.host).toBe('catalog.istioinaction');
    const line = await logFor('cap-1');
    expect(line).toMatchObject({
      method: 'GET',
      path: '/items',
      responseCode: '200',
      authority: 'catalog.istioinaction',
      routeName: 'default',
      upstreamCluster: CATALOG,
      downstreamLocalAddress: `${VIP}:80`,
    });
  });

  it('a Host without a port gets the decoded port: 9080 picks the 9080 route configuration', async () => {
    const r = await httpRequest({ host: PORT_9080, port: capturePort, path: '/reviews/1', headers: { host: 'reviews.istioinaction', 'x-request-id': 'cap-9080' } });
    expect(r).toMatchObject({ status: 200, body: 'reviews /reviews/1' });
    // reviews has no vip: the endpoint it went to stands for the original destination.
    const line = await logFor('cap-9080');
    expect(line).toMatchObject({ routeName: 'default', upstreamCluster: 'outbound|9080||reviews.istioinaction.svc.cluster.local' });
    expect(line.downstreamLocalAddress).toBe(line.upstreamHost);
  });

  it('still takes absolute-form requests', async () => {
    const r = await httpRequest({ host: PORT_80, port: capturePort, path: 'http://catalog.istioinaction/abs', headers: { 'x-request-id': 'cap-abs' } });
    expect(r).toMatchObject({ status: 200, body: 'catalog /abs' });
    expect(await logFor('cap-abs')).toMatchObject({ path: '/abs', upstreamCluster: CATALOG, downstreamLocalAddress: `${VIP}:80` });
  });

  it('on the unknown-port address, routes by the Host port', async () => {
    const r = await httpRequest({ host: UNKNOWN_PORT_ADDRESS, port: capturePort, path: '/h', headers: { host: 'catalog.istioinaction:80', 'x-request-id': 'cap-host-port' } });
    expect(r).toMatchObject({ status: 200, body: 'catalog /h' });
    expect(await logFor('cap-host-port')).toMatchObject({ upstreamCluster: CATALOG, downstreamLocalAddress: `${VIP}:80` });
  });

  it('passthrough logs the target it connected to', async () => {
    const r = await httpRequest({ host: UNKNOWN_PORT_ADDRESS, port: capturePort, path: '/ext', headers: { host: `127.0.0.1:${externalPort}`, 'x-request-id': 'cap-pass' } });
    expect(r).toMatchObject({ status: 200, body: 'external /ext' });
    expect(await logFor('cap-pass')).toMatchObject({
      routeName: 'allow_any',
      upstreamCluster: 'PassthroughCluster',
      downstreamLocalAddress: `127.0.0.1:${externalPort}`,
    });
  });

  it('mirrors on the captured listener', async () => {
    const before = seenShadow.length;
    const r = await httpRequest({ host: PORT_80, port: capturePort, path: '/m', headers: { host: 'catalog.istioinaction', 'x-mirror': 'yes', 'x-request-id': 'cap-mirror' } });
    expect(r).toMatchObject({ status: 200, body: 'catalog /m' });
    expect(await logFor('cap-mirror')).toMatchObject({ routeName: 'mirrored', upstreamCluster: CATALOG, downstreamLocalAddress: `${VIP}:80` });
    const copy = await waitFor(async () => (seenShadow.length > before ? seenShadow.at(-1) : undefined), 'the mirrored copy');
    expect(copy).toMatchObject({ url: '/m', headers: { host: 'catalog.istioinaction-shadow', 'x-request-id': 'cap-mirror' } });
  });

  it('tunnels CONNECT on the captured listener', async () => {
    const socket = connect({ host: PORT_80, port: capturePort });
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write('CONNECT catalog.istioinaction:80 HTTP/1.1\r\nhost: catalog.istioinaction:80\r\n\r\n');
    await waitFor(async () => (text.includes('\r\n\r\n') ? true : undefined), 'the CONNECT reply');
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    socket.write('GET /tunnel HTTP/1.1\r\nhost: catalog.istioinaction\r\nconnection: close\r\n\r\n');
    await closed;
    expect(text).toContain('catalog /tunnel');
  });
});

describe('captured inbound listener', () => {
  it('hands the request to the app and logs <pod ip>:<container port>, not the redirect port', async () => {
    const r = await httpRequest({ host: '127.0.0.1', port: inboundPort, path: '/in', headers: { host: 'webapp.istioinaction', 'x-request-id': 'cap-in' } });
    expect(r).toMatchObject({ status: 200, body: 'app /in' });
    expect(await logFor('cap-in')).toMatchObject({ upstreamCluster: 'inbound|8080||', downstreamLocalAddress: `${NODE_IP}:8080` });
  });
});
