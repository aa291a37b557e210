/**
 * The outbound decision (registry hit, ServiceEntry hit, wildcard, passthrough, block) and every
 * spelling that might bypass REGISTRY_ONLY: all are decided by one canonical host.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MESH_CONFIG, type MeshConfig } from '../../../src/model/specs.js';
import { outboundTarget } from '../../../src/proxy/outbound-target.js';
import { compile, objects, pod, sidecarNode, simulate } from '../../helpers/sim.js';

const REGISTRY_ONLY: MeshConfig = { ...DEFAULT_MESH_CONFIG, outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } };
const forum = sidecarNode('forum', { app: 'forum' });
const base = [
  ...objects(`
apiVersion: v1
kind: Service
metadata: { name: catalog }
spec:
  selector: { app: catalog }
  ports: [{ name: http, port: 80, targetPort: 3000 }]
`),
  pod('catalog-1', { app: 'catalog' }, '127.1.1.10'),
];
const serviceEntry = objects(`
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: jsonplaceholder }
spec:
  hosts: [jsonplaceholder.typicode.com]
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: DNS
`);
const wildcardEntry = objects(`
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: typicode }
spec:
  hosts: ["*.typicode.com"]
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: NONE
`);

/** raw request line target + raw headers -> what the sidecar decides. */
function decideOutbound(url: string, rawHeaders: string[], mesh: MeshConfig, extra = serviceEntry.slice(0, 0)) {
  const hosts = rawHeaders.filter((_, i) => i % 2 === 0 && rawHeaders[i]!.toLowerCase() === 'host').length;
  const host = rawHeaders.find((_, i) => i % 2 === 1 && rawHeaders[i - 1]!.toLowerCase() === 'host');
  const t = outboundTarget(url, host, hosts);
  if (!t.ok) return { rejected: t.reason };
  const table = compile([...base, ...extra], forum, mesh);
  return simulate(table, { authority: t.authority, path: t.path, port: t.port });
}

describe('outbound decision', () => {
  it.each([
    ['registry service', 'http://catalog.istioinaction/items', REGISTRY_ONLY, [], { route: 'default', cluster: 'outbound|80||catalog.istioinaction.svc.cluster.local' }],
    ['ServiceEntry host', 'http://jsonplaceholder.typicode.com/users', REGISTRY_ONLY, serviceEntry, { route: 'default', cluster: 'outbound|80||jsonplaceholder.typicode.com' }],
    ['wildcard ServiceEntry', 'http://api.typicode.com/users', REGISTRY_ONLY, wildcardEntry, { cluster: 'outbound|80||*.typicode.com' }],
    ['passthrough under ALLOW_ANY', 'http://jsonplaceholder.typicode.com/users', DEFAULT_MESH_CONFIG, [], { route: 'allow_any', cluster: 'PassthroughCluster' }],
    ['block under REGISTRY_ONLY', 'http://jsonplaceholder.typicode.com/users', REGISTRY_ONLY, [], { kind: 'direct', status: 502, route: 'block_all', flags: '-' }],
  ] as const)('%s', (_name, url, mesh, extra, want) => {
    expect(decideOutbound(url, [], mesh, [...extra])).toMatchObject(want);
  });
});

describe('no bypass of REGISTRY_ONLY', () => {
  const blocked = { kind: 'direct', status: 502, route: 'block_all' };
  it.each([
    ['absolute-form URI whose host differs from Host', 'http://jsonplaceholder.typicode.com/users', ['Host', 'catalog.istioinaction']],
    ['IP literal', 'http://127.0.0.5/users', []],
    ['IP literal with port', 'http://127.0.0.5:80/users', []],
    ['trailing dot', 'http://jsonplaceholder.typicode.com./users', []],
    ['mixed case', 'http://JsonPlaceholder.Typicode.COM/users', []],
    ['explicit :80', 'http://jsonplaceholder.typicode.com:80/users', []],
    ['origin-form with Host', '/users', ['Host', 'jsonplaceholder.typicode.com']],
    ['origin-form with a mixed-case Host and trailing dot', '/users', ['Host', 'JSONPLACEHOLDER.typicode.com.:80']],
  ])('%s -> block_all', (_name, url, headers) => {
    expect(decideOutbound(url, headers, REGISTRY_ONLY)).toMatchObject(blocked);
  });

  it('the absolute-form host decides even when Host names a registered service', () => {
    const t = outboundTarget('http://jsonplaceholder.typicode.com/users', 'catalog.istioinaction', 1);
    expect(t).toMatchObject({ ok: true, authority: 'jsonplaceholder.typicode.com:80', hostHeader: 'jsonplaceholder.typicode.com' });
  });

  it.each([
    ['HTTP/1.0 without Host', '/users', []],
    ['duplicate Host headers', '/users', ['Host', 'catalog.istioinaction', 'Host', 'jsonplaceholder.typicode.com']],
    ['userinfo', 'http://catalog.istioinaction@jsonplaceholder.typicode.com/users', []],
    ['https scheme through the plain proxy', 'https://jsonplaceholder.typicode.com/users', []],
    ['spaces in the host', '/users', ['Host', 'jsonplaceholder typicode.com']],
  ])('%s is rejected outright', (_name, url, headers) => {
    expect(decideOutbound(url, headers, REGISTRY_ONLY)).toHaveProperty('rejected');
  });

  it('with the ServiceEntry, every spelling of its host reaches the same cluster', () => {
    for (const url of ['http://jsonplaceholder.typicode.com/users', 'http://JSONPLACEHOLDER.typicode.com./users', 'http://jsonplaceholder.typicode.com:80/users']) {
      expect(decideOutbound(url, [], REGISTRY_ONLY, serviceEntry)).toMatchObject({ cluster: 'outbound|80||jsonplaceholder.typicode.com' });
    }
  });
});
