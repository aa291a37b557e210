/**
 * The chapter's routing, decided on compiled tables (no sockets): each case is config + request ->
 * expected route, cluster and status.
 */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/model/objects.js';
import { GATEWAY_NODE, compile, objects, pod, sidecarNode, simulate, type SimRequest, type SimResult } from '../../helpers/sim.js';

const CATALOG_FQDN = 'catalog.istioinaction.svc.cluster.local';
const V1 = `outbound|80|version-v1|${CATALOG_FQDN}`;
const V2 = `outbound|80|version-v2|${CATALOG_FQDN}`;
const ALL = `outbound|80||${CATALOG_FQDN}`;

const services = objects(`
apiVersion: v1
kind: Service
metadata: { name: catalog }
spec:
  selector: { app: catalog }
  ports: [{ name: http, port: 80, targetPort: 3000 }]
---
apiVersion: v1
kind: Service
metadata: { name: webapp }
spec:
  selector: { app: webapp }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
`);
const pods: KubeObject[] = [
  pod('catalog-1', { app: 'catalog', version: 'v1' }, '127.1.1.10', 3000, 'istioinaction', 'catalog'),
  pod('catalog-v2-1', { app: 'catalog', version: 'v2' }, '127.1.1.11', 3000, 'istioinaction', 'catalog-v2'),
  pod('webapp-1', { app: 'webapp' }, '127.1.1.12', 8080, 'istioinaction', 'webapp'),
];
const gateway = objects(`
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: { name: catalog-gateway }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["catalog.istioinaction.io"]
`);
const destRule = objects(`
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: { name: catalog }
spec:
  host: catalog.istioinaction.svc.cluster.local
  subsets:
  - { name: version-v1, labels: { version: v1 } }
  - { name: version-v2, labels: { version: v2 } }
`);
const vsFromGw = (http: string) =>
  objects(`
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: { name: catalog-vs-from-gw }
spec:
  hosts: ["catalog.istioinaction.io"]
  gateways: [catalog-gateway]
  http:
${http}
`);
const meshVs = (http: string, extra = '') =>
  objects(`
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: { name: catalog }
spec:
  hosts: [catalog]
  gateways: [mesh]
${extra}
  http:
${http}
`);

const edge = (headers: Record<string, string> = {}, path = '/items'): SimRequest => ({ authority: 'catalog.istioinaction.io', path, headers, port: 80 });
const webapp = sidecarNode('webapp', { app: 'webapp' });
const other = sidecarNode('sleep', { app: 'sleep' }, '127.1.1.60');
const fromMesh = (headers: Record<string, string> = {}): SimRequest => ({ authority: 'catalog.istioinaction:80', path: '/items', headers, port: 80 });

interface Case {
  name: string;
  config: KubeObject[];
  node: typeof webapp;
  req: SimRequest;
  want: Partial<SimResult>;
}

const cases: Case[] = [
  { name: 'step 4: gateway without a VirtualService -> 404 NR', config: [...gateway], node: GATEWAY_NODE, req: edge({}, '/'), want: { status: 404, flags: 'NR' } },
  {
    name: 'step 5: VS to host catalog -> all endpoints, route name "-"',
    config: [...gateway, ...vsFromGw('  - route:\n    - destination: { host: catalog }')],
    node: GATEWAY_NODE,
    req: edge(),
    want: { status: 200, cluster: ALL, route: '', endpoints: ['127.1.1.10:3000', '127.1.1.11:3000'] },
  },
  {
    name: 'unknown authority at the gateway -> 404 NR',
    config: [...gateway, ...vsFromGw('  - route:\n    - destination: { host: catalog }')],
    node: GATEWAY_NODE,
    req: { authority: 'other.example.com', port: 80 },
    want: { status: 404, flags: 'NR' },
  },
  {
    name: 'step 7: subset version-v1',
    config: [...gateway, ...destRule, ...vsFromGw('  - route:\n    - destination: { host: catalog, subset: version-v1 }')],
    node: GATEWAY_NODE,
    req: edge(),
    want: { status: 200, cluster: V1, endpoints: ['127.1.1.10:3000'] },
  },
  {
    name: 'subset without a DestinationRule -> 503 NC',
    config: [...gateway, ...vsFromGw('  - route:\n    - destination: { host: catalog, subset: version-v1 }')],
    node: GATEWAY_NODE,
    req: edge(),
    want: { status: 503, flags: 'NC', cluster: V1 },
  },
  ...[
    ['internal', V2],
    ['external', V1],
  ].map(([cohort, cluster]) => ({
    name: `step 8: x-istio-cohort ${cohort} -> ${cluster}`,
    config: [
      ...gateway,
      ...destRule,
      ...vsFromGw(`  - match:
    - headers:
        x-istio-cohort: { exact: internal }
    route:
    - destination: { host: catalog, subset: version-v2 }
  - route:
    - destination: { host: catalog, subset: version-v1 }`),
    ],
    node: GATEWAY_NODE,
    req: edge({ 'x-istio-cohort': cohort! }),
    want: { status: 200, cluster },
  })),
  { name: 'sidecar without a VirtualService -> route "default" over all endpoints', config: [], node: webapp, req: fromMesh(), want: { status: 200, route: 'default', cluster: ALL } },
  {
    name: 'step 10: mesh VS applies to sidecars (short host resolves in the VS namespace)',
    config: [...destRule, ...meshVs('  - route:\n    - destination: { host: catalog, subset: version-v1 }')],
    node: webapp,
    req: fromMesh(),
    want: { cluster: V1 },
  },
  {
    name: 'mesh VS matches every spelling of the service (FQDN)',
    config: [...destRule, ...meshVs('  - route:\n    - destination: { host: catalog, subset: version-v1 }')],
    node: webapp,
    req: { authority: `${CATALOG_FQDN}:80`, port: 80 },
    want: { cluster: V1 },
  },
  {
    name: 'mesh VS does not apply at the gateway',
    config: [...gateway, ...destRule, ...meshVs('  - route:\n    - destination: { host: catalog, subset: version-v1 }'), ...vsFromGw('  - route:\n    - destination: { host: catalog }')],
    node: GATEWAY_NODE,
    req: edge(),
    want: { cluster: ALL },
  },
  {
    name: 'sourceLabels: the match applies to webapp',
    config: [...destRule, ...meshVs(`  - match:
    - sourceLabels: { app: webapp }
    route:
    - destination: { host: catalog, subset: version-v2 }
  - route:
    - destination: { host: catalog, subset: version-v1 }`)],
    node: webapp,
    req: fromMesh(),
    want: { cluster: V2 },
  },
  {
    name: 'sourceLabels: the match is dropped for other workloads (not a catch-all)',
    config: [...destRule, ...meshVs(`  - match:
    - sourceLabels: { app: webapp }
    route:
    - destination: { host: catalog, subset: version-v2 }
  - route:
    - destination: { host: catalog, subset: version-v1 }`)],
    node: other,
    req: fromMesh(),
    want: { cluster: V1 },
  },
  {
    name: 'match.gateways replaces top-level gateways (mesh-only match ignored at the gateway)',
    config: [...gateway, ...destRule, ...vsFromGw(`  - match:
    - gateways: [mesh]
    route:
    - destination: { host: catalog, subset: version-v2 }
  - route:
    - destination: { host: catalog, subset: version-v1 }`)],
    node: GATEWAY_NODE,
    req: edge(),
    want: { cluster: V1 },
  },
  {
    name: 'named route and match -> route name "<route>.<match>"',
    config: [...destRule, ...meshVs(`  - name: cohort
    match:
    - name: internal
      headers: { x-istio-cohort: { exact: internal } }
    route:
    - destination: { host: catalog, subset: version-v2 }`)],
    node: webapp,
    req: fromMesh({ 'x-istio-cohort': 'internal' }),
    want: { route: 'cohort.internal', cluster: V2 },
  },
  {
    name: 'a VS route that matches nothing -> 404 NR (no fallthrough to default)',
    config: [...destRule, ...meshVs(`  - match:
    - uri: { prefix: /admin }
    route:
    - destination: { host: catalog, subset: version-v2 }`)],
    node: webapp,
    req: fromMesh(),
    want: { status: 404, flags: 'NR' },
  },
  {
    name: 'mirror: primary v1, mirror v2',
    config: [...destRule, ...meshVs(`  - route:
    - destination: { host: catalog, subset: version-v1 }
      weight: 100
    mirror: { host: catalog, subset: version-v2 }`)],
    node: webapp,
    req: fromMesh(),
    want: { cluster: V1, mirrors: [V2] },
  },
  {
    name: 'mirrorPercentage 0 disables the mirror',
    config: [...destRule, ...meshVs(`  - route:
    - destination: { host: catalog, subset: version-v1 }
    mirror: { host: catalog, subset: version-v2 }
    mirrorPercentage: { value: 0 }`)],
    node: webapp,
    req: fromMesh(),
    want: { cluster: V1, mirrors: [] },
  },
  { name: 'ALLOW_ANY: unknown host -> allow_any PassthroughCluster', config: [], node: webapp, req: { authority: 'jsonplaceholder.typicode.com:80', port: 80 }, want: { status: 200, route: 'allow_any', cluster: 'PassthroughCluster' } },
  {
    name: 'ServiceEntry host -> outbound|80||host, route default',
    config: objects(`
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: { name: jsonplaceholder }
spec:
  hosts: [jsonplaceholder.typicode.com]
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: DNS
`),
    node: webapp,
    req: { authority: 'jsonplaceholder.typicode.com:80', port: 80 },
    want: { status: 200, route: 'default', cluster: 'outbound|80||jsonplaceholder.typicode.com' },
  },
];

describe('compiled routing tables (simulation)', () => {
  it.each(cases)('$name', ({ config, node, req, want }) => {
    const table = compile([...services, ...pods, ...config], node);
    const got = simulate(table, req);
    expect(got).toMatchObject(want);
  });
});

describe('gateway listeners', () => {
  it('opens no listener when no Gateway declares a port', () => {
    const table = compile([...services, ...pods], GATEWAY_NODE);
    expect(table.listeners).toEqual([]);
  });

  it('opens one listener per declared HTTP port, mapped to the host port', () => {
    const table = compile([...services, ...pods, ...gateway], GATEWAY_NODE);
    expect(table.listeners).toEqual([{ name: '0.0.0.0_80', direction: 'gateway', bindAddress: '127.0.0.1', bindPort: 8080, port: 80, routeConfig: 'http.80' }]);
  });

  it('ignores Gateways whose selector does not match this gateway', () => {
    const g = objects(`
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: { name: other }
spec:
  selector: { istio: egressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
`);
    expect(compile([...services, ...g], GATEWAY_NODE).listeners).toEqual([]);
  });
});

describe('sidecar tables', () => {
  it('REGISTRY_ONLY: unknown host -> block_all direct 502', () => {
    const table = compile([...services, ...pods], webapp, { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' }, accessLogFile: '/dev/stdout', enableMetrics: true });
    expect(simulate(table, { authority: 'jsonplaceholder.typicode.com:80', port: 80 })).toMatchObject({ kind: 'direct', status: 502, route: 'block_all', flags: '-' });
  });

  it('a Sidecar resource overrides the mesh outbound policy for the workloads it selects', () => {
    const sidecar = objects(`
apiVersion: networking.istio.io/v1beta1
kind: Sidecar
metadata: { name: webapp-only }
spec:
  workloadSelector: { labels: { app: webapp } }
  outboundTrafficPolicy: { mode: REGISTRY_ONLY }
`);
    const objs = [...services, ...pods, ...sidecar];
    expect(simulate(compile(objs, webapp), { authority: 'example.org:80', port: 80 })).toMatchObject({ route: 'block_all' });
    expect(simulate(compile(objs, other), { authority: 'example.org:80', port: 80 })).toMatchObject({ route: 'allow_any' });
  });

  it('subset clusters hold only the pods with the subset labels; load balancer from the DestinationRule', () => {
    const dr = objects(`
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: { name: catalog }
spec:
  host: catalog
  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
  subsets:
  - { name: version-v2, labels: { version: v2 }, trafficPolicy: { loadBalancer: { simple: RANDOM } } }
`);
    const table = compile([...services, ...pods, ...dr], webapp);
    expect(table.clusters[ALL]).toMatchObject({ lb: 'ROUND_ROBIN' });
    expect(table.clusters[V2]).toMatchObject({ lb: 'RANDOM', endpoints: [expect.objectContaining({ address: '127.1.1.11', port: 3000, pod: 'catalog-v2-1', workload: 'catalog-v2' })] });
    expect(compile([...services, ...pods], webapp).clusters[ALL]).toMatchObject({ lb: 'LEAST_REQUEST' });
  });

  it('inbound: one listener per container port, to the app through inbound|PORT||', () => {
    const table = compile([...services, ...pods], webapp);
    expect(table.listeners.find((l) => l.direction === 'inbound')).toMatchObject({ port: 8080, routeConfig: 'inbound|8080' });
    expect(table.clusters['inbound|8080||']).toMatchObject({ endpoints: [{ address: '127.2.1.50', port: 8080 }] });
  });

  it('pods that are not ready are not endpoints', () => {
    const notReady = { ...pods[1]!, status: { phase: 'Running', ready: false, podIP: '127.1.1.11' } };
    const table = compile([...services, pods[0]!, notReady], webapp);
    expect(table.clusters[ALL]!.endpoints.map((e) => e.address)).toEqual(['127.1.1.10']);
  });

  it('the version is a content hash: same input, same version; a change, a new one', () => {
    const a = compile([...services, ...pods], webapp);
    const b = compile([...services, ...pods], webapp);
    const c = compile([...services, ...pods, ...destRule], webapp);
    expect(a.version).toBe(b.version);
    expect(c.version).not.toBe(a.version);
  });
});

describe('ServiceEntry resolutions', () => {
  const se = (spec: string) =>
    objects(`
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: ext }
spec:
${spec}
`);

  it('STATIC: the endpoints are the listed addresses, with per-port overrides', () => {
    const table = compile(
      se(`  hosts: [api.internal.example]
  location: MESH_INTERNAL
  ports: [{ number: 80, name: http, protocol: HTTP, targetPort: 9000 }]
  resolution: STATIC
  endpoints:
  - address: 127.9.0.1
  - address: 127.9.0.2
    ports: { http: 9100 }`),
      webapp,
    );
    expect(table.clusters['outbound|80||api.internal.example']).toMatchObject({
      type: 'eds',
      endpoints: [
        { address: '127.9.0.1', port: 9000 },
        { address: '127.9.0.2', port: 9100 },
      ],
    });
  });

  it('DNS without endpoints resolves the host itself; NONE uses the address the app asked for', () => {
    const dns = compile(se(`  hosts: [jsonplaceholder.typicode.com]\n  ports: [{ number: 80, name: http, protocol: HTTP }]\n  resolution: DNS`), webapp);
    expect(dns.clusters['outbound|80||jsonplaceholder.typicode.com']).toMatchObject({ type: 'dns', endpoints: [{ address: 'jsonplaceholder.typicode.com', port: 80 }] });
    const none = compile(se(`  hosts: [jsonplaceholder.typicode.com]\n  ports: [{ number: 80, name: http, protocol: HTTP }]\n  resolution: NONE`), webapp);
    expect(none.clusters['outbound|80||jsonplaceholder.typicode.com']).toMatchObject({ type: 'original_dst' });
  });

  it('a VirtualService and DestinationRule can target a ServiceEntry host', () => {
    const extra = [
      ...se(`  hosts: [api.internal.example]
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: STATIC
  endpoints:
  - { address: 127.9.0.1, labels: { version: a } }
  - { address: 127.9.0.2, labels: { version: b } }`),
      ...objects(`
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: { name: api }
spec:
  host: api.internal.example
  subsets: [{ name: b, labels: { version: b } }]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: api }
spec:
  hosts: [api.internal.example]
  http:
  - route: [{ destination: { host: api.internal.example, subset: b } }]
`),
    ];
    const table = compile([...services, ...extra], webapp);
    expect(simulate(table, { authority: 'api.internal.example:80', port: 80 })).toMatchObject({ cluster: 'outbound|80|b|api.internal.example', endpoints: ['127.9.0.2:80'] });
  });
});

describe('serialized tables', () => {
  it('the pushed JSON is exactly the table (version included)', async () => {
    const { PushCompiler } = await import('../../../src/compiler/compile.js');
    const { createSnapshot } = await import('../../../src/compiler/snapshot.js');
    const { DEFAULT_MESH_CONFIG } = await import('../../../src/model/specs.js');
    const snap = createSnapshot([...services, ...pods, ...destRule], DEFAULT_MESH_CONFIG, { hosts: {}, gatewayPorts: () => undefined });
    const { table, json } = new PushCompiler(snap).compileSerialized(webapp);
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(table)));
  });

  it('section hashes tell replicas and pushes apart exactly where their JSON differs', async () => {
    const { PushCompiler } = await import('../../../src/compiler/compile.js');
    const { createSnapshot } = await import('../../../src/compiler/snapshot.js');
    const { DEFAULT_MESH_CONFIG } = await import('../../../src/model/specs.js');
    const { TABLE_SECTIONS } = await import('../../../src/model/table.js');
    const snapOf = (objs: KubeObject[]) => createSnapshot(objs, DEFAULT_MESH_CONFIG, { hosts: {}, gatewayPorts: () => undefined });
    const replicaA = sidecarNode('webapp', { app: 'webapp' }, '127.1.1.50');
    const replicaB = sidecarNode('webapp', { app: 'webapp' }, '127.1.1.51');
    const push1 = new PushCompiler(snapOf([...services, ...pods]));
    const a = push1.compileSerialized(replicaA);
    const b = push1.compileSerialized(replicaB);
    const a2 = new PushCompiler(snapOf([...services, ...pods, ...destRule])).compileSerialized(replicaA);
    const differing = (x: typeof a, y: typeof a) => TABLE_SECTIONS.filter((k) => x.hashes[k] !== y.hashes[k]);
    const differingText = (x: typeof a, y: typeof a) => TABLE_SECTIONS.filter((k) => x.sections[k] !== y.sections[k]);
    // Replicas (same app address in this helper): same routes and clusters; own identity and listeners.
    expect(differing(a, b)).toEqual(differingText(a, b));
    expect(differing(a, b)).toEqual(['node', 'listeners']);
    // A DestinationRule adds subsets: clusters change (and routes, if they name subsets).
    expect(differing(a, a2)).toEqual(differingText(a, a2));
    expect(differing(a, a2)).toContain('clusters');
    expect(a.table.version).not.toBe(a2.table.version);
    expect(a.table.version).toMatch(/^[0-9a-f]{12}$/);
    // The same input gives the same version.
    expect(new PushCompiler(snapOf([...services, ...pods])).compileSerialized(replicaA).table.version).toBe(a.table.version);
  });
});
