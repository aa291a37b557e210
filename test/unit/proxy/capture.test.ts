/**
 * Listeners fed by iptables (`Listener.capture`): the destination port of an outbound request
 * (decoded from the address the connection arrived at, else the Host's port, else 80), what the
 * compiled table decides with it, and the %DOWNSTREAM_LOCAL_ADDRESS% Istio would log.
 */
import { describe, expect, it } from 'vitest';
import { encodeOriginalPort, UNKNOWN_PORT_ADDRESS } from '../../../src/capture/original-port.js';
import type { Listener } from '../../../src/model/table.js';
import { downstreamLocalAddress, mayConnect, outboundDestination } from '../../../src/proxy/capture.js';
import { compile, objects, pod, sidecarNode, simulate } from '../../helpers/sim.js';

const CAPTURED = { capture: 'iptables' } as const;
const PLAIN = {} as const;

describe('outbound destination port', () => {
  it.each([
    // name, listener, local address, url, Host -> authority, routePort, originalPort
    ['decoded port, Host without port', CAPTURED, encodeOriginalPort(80), '/items', 'catalog.istioinaction', 'catalog.istioinaction:80', 80, 80],
    ['decoded non-default port, Host without port', CAPTURED, encodeOriginalPort(9080), '/r', 'reviews.istioinaction', 'reviews.istioinaction:9080', 9080, 9080],
    ['decoded port beats the Host port for the route configuration', CAPTURED, encodeOriginalPort(80), '/items', 'catalog.istioinaction:9080', 'catalog.istioinaction:9080', 80, 80],
    ['decoded port through an IPv4-mapped address', CAPTURED, `::ffff:${encodeOriginalPort(8080)}`, '/', 'web', 'web:8080', 8080, 8080],
    ['unknown port (127.1.0.0): the Host port', CAPTURED, UNKNOWN_PORT_ADDRESS, '/', 'api.example.com:8443', 'api.example.com:8443', 8443, undefined],
    ['unknown port, Host without port: 80', CAPTURED, UNKNOWN_PORT_ADDRESS, '/', 'api.example.com', 'api.example.com:80', 80, undefined],
    ['address outside 127.1/16 (not DNATed): the Host port', CAPTURED, '172.18.0.5', '/', 'catalog:9090', 'catalog:9090', 9090, undefined],
    ['absolute-form on a captured listener: its authority, the decoded port routes', CAPTURED, encodeOriginalPort(80), 'http://catalog.istioinaction/items', undefined, 'catalog.istioinaction:80', 80, 80],
    ['absolute-form with a port, decoded port routes', CAPTURED, encodeOriginalPort(9080), 'http://reviews.istioinaction:9081/r', 'x', 'reviews.istioinaction:9081', 9080, 9080],
    ['uncaptured listener ignores the local address', PLAIN, encodeOriginalPort(9080), '/items', 'catalog.istioinaction', 'catalog.istioinaction:80', 80, undefined],
    ['uncaptured listener: the Host port', PLAIN, '127.0.0.1', 'http://catalog.istioinaction:9080/', undefined, 'catalog.istioinaction:9080', 9080, undefined],
  ] as const)('%s', (_name, listener, local, url, host, authority, routePort, originalPort) => {
    const d = outboundDestination(listener, local, url, host, host === undefined ? 0 : 1);
    expect(d).toMatchObject({ ok: true, authority, routePort });
    expect(d.ok && d.originalPort).toBe(originalPort);
  });

  it.each([
    ['no Host and origin-form', '/items', undefined, 0],
    ['duplicate Host headers', '/items', 'catalog', 2],
    ['malformed Host', '/items', 'cat alog', 1],
  ] as const)('captured listener still rejects %s', (_name, url, host, count) => {
    expect(outboundDestination(CAPTURED, encodeOriginalPort(80), url, host, count)).toMatchObject({ ok: false });
  });
});

describe('the decided port picks the route configuration', () => {
  const objs = [
    ...objects(`
apiVersion: v1
kind: Service
metadata: { name: catalog }
spec: { selector: { app: catalog }, clusterIP: 10.96.0.10, ports: [{ name: http, port: 80, targetPort: 3000 }] }
---
apiVersion: v1
kind: Service
metadata: { name: reviews }
spec: { selector: { app: reviews }, ports: [{ name: http, port: 9080, targetPort: 9080 }] }
`),
    pod('catalog-1', { app: 'catalog' }, '127.1.1.10', 3000),
    pod('reviews-1', { app: 'reviews' }, '127.1.1.11', 9080),
  ];
  const table = compile(objs, sidecarNode('webapp', { app: 'webapp' }));

  it.each([
    ['catalog on 80', encodeOriginalPort(80), 'catalog', { route: 'default', cluster: 'outbound|80||catalog.istioinaction.svc.cluster.local' }],
    ['catalog FQDN on 80', encodeOriginalPort(80), 'catalog.istioinaction.svc.cluster.local', { cluster: 'outbound|80||catalog.istioinaction.svc.cluster.local' }],
    ['reviews on 9080 without a port in Host', encodeOriginalPort(9080), 'reviews.istioinaction', { route: 'default', cluster: 'outbound|9080||reviews.istioinaction.svc.cluster.local' }],
    ['reviews via 127.1.0.0 with Host :9080', UNKNOWN_PORT_ADDRESS, 'reviews.istioinaction:9080', { cluster: 'outbound|9080||reviews.istioinaction.svc.cluster.local' }],
    ['reviews via 127.1.0.0 without a port: port 80 has no reviews', UNKNOWN_PORT_ADDRESS, 'reviews.istioinaction', { route: 'allow_any', cluster: 'PassthroughCluster' }],
    ['Host :9080 on a connection to 80: route configuration 80', encodeOriginalPort(80), 'catalog:9080', { cluster: 'outbound|80||catalog.istioinaction.svc.cluster.local' }],
    ['reviews Host on a connection to 80: not on 80, passthrough', encodeOriginalPort(80), 'reviews.istioinaction', { route: 'allow_any', cluster: 'PassthroughCluster' }],
    ['unknown port, unknown host', encodeOriginalPort(7777), 'example.com', { route: 'allow_any', cluster: 'PassthroughCluster' }],
  ] as const)('%s', (_name, local, host, want) => {
    const d = outboundDestination(CAPTURED, local, '/', host, 1);
    if (!d.ok) throw new Error(d.reason);
    expect(simulate(table, { authority: d.authority, port: d.routePort })).toMatchObject(want);
  });

  it('carries the Service clusterIP on its clusters as the vip, and nothing on services without one', () => {
    expect(table.clusters['outbound|80||catalog.istioinaction.svc.cluster.local']?.service?.vip).toBe('10.96.0.10');
    expect(table.clusters['outbound|9080||reviews.istioinaction.svc.cluster.local']?.service).not.toHaveProperty('vip');
  });
});

describe('access log downstream_local_address', () => {
  const outbound: Pick<Listener, 'direction' | 'capture' | 'port'> = { direction: 'outbound', capture: 'iptables', port: 15001 };
  const inbound: Pick<Listener, 'direction' | 'capture' | 'port'> = { direction: 'inbound', capture: 'iptables', port: 8080 };
  const withVip = { service: { fqdn: 'catalog.istioinaction.svc.cluster.local', name: 'catalog', namespace: 'istioinaction', vip: '10.96.0.10' } };
  const noVip = { service: { fqdn: 'catalog.istioinaction.svc.cluster.local', name: 'catalog', namespace: 'istioinaction' } };
  const base = { nodeIp: '172.18.0.7', localAddress: '127.1.0.80', localPort: 15001 };

  it.each([
    ['outbound: service vip and the destination port', { listener: outbound, ...base, port: 80, cluster: withVip, target: { address: '172.18.0.9', port: 3000 } }, '10.96.0.10:80'],
    ['outbound: vip known before an upstream is picked', { listener: outbound, ...base, port: 80, cluster: withVip }, '10.96.0.10:80'],
    ['outbound: no vip, the endpoint', { listener: outbound, ...base, port: 80, cluster: noVip, target: { address: '172.18.0.9', port: 3000 } }, '172.18.0.9:3000'],
    ['outbound: passthrough target', { listener: outbound, ...base, localAddress: '127.1.0.0', port: 8443, cluster: {}, target: { address: '127.0.0.9', port: 8443 } }, '127.0.0.9:8443'],
    ['outbound: nothing routed (block_all, NR), the raw local address', { listener: outbound, ...base }, '127.1.0.80:15001'],
    ['outbound: IPv6 target', { listener: outbound, ...base, port: 80, target: { address: '::1', port: 80 } }, '[::1]:80'],
    ['inbound: pod ip and container port, not the redirect port', { listener: inbound, ...base, localAddress: '172.18.0.7', localPort: 15100 }, '172.18.0.7:8080'],
    ['uncaptured outbound: the socket', { listener: { direction: 'outbound', port: 15001 }, ...base, localAddress: '127.0.0.1', localPort: 40001, port: 80, cluster: withVip }, '127.0.0.1:40001'],
    ['uncaptured inbound: the socket', { listener: { direction: 'inbound', port: 8080 }, ...base, localAddress: '127.0.0.1', localPort: 40002 }, '127.0.0.1:40002'],
    ['gateway: the socket', { listener: { direction: 'gateway', capture: 'iptables', port: 80 }, ...base, localAddress: '127.0.0.1', localPort: 8080 }, '127.0.0.1:8080'],
  ] as const)('%s', (_name, input, want) => {
    expect(downstreamLocalAddress(input)).toBe(want);
  });
});

describe('destinations a captured listener may connect to', () => {
  const pod = { address: '172.18.0.9', pod: 'catalog-1' };
  it.each([
    ['loopback, any listener', false, PLAIN, '127.0.0.9', undefined, true],
    ['--real-external, anything', true, PLAIN, '93.184.216.34', undefined, true],
    ['uncaptured: a pod endpoint off loopback is refused', false, PLAIN, '172.18.0.9', pod, false],
    ['captured: a pod endpoint (service pod or the inbound app)', false, CAPTURED, '172.18.0.9', pod, true],
    ['captured: an endpoint without a pod (ServiceEntry address)', false, CAPTURED, '172.18.0.9', { address: '172.18.0.9' }, false],
    ['captured: passthrough to an address the app named', false, CAPTURED, '172.18.0.9', undefined, false],
    ['captured: a target that is not the endpoint', false, CAPTURED, '172.18.0.10', pod, false],
  ] as const)('%s', (_name, allowExternal, listener, address, endpoint, want) => {
    expect(mayConnect({ allowExternal }, listener, { address }, endpoint)).toBe(want);
  });
});
