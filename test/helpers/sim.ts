/**
 * Routing tables as data (Istio's pilot/pkg/simulation): config as YAML + a request -> what the
 * compiled table decides, with no sockets.
 */
import { parseAllDocuments } from 'yaml';
import { PushCompiler } from '../../src/compiler/compile.js';
import { createSnapshot, type ProxyNode } from '../../src/compiler/snapshot.js';
import type { KubeObject } from '../../src/model/objects.js';
import { DEFAULT_MESH_CONFIG, type MeshConfig } from '../../src/model/specs.js';
import type { ProxyTable } from '../../src/model/table.js';
import { compileRouteConfig } from '../../src/router/compile.js';
import { decide } from '../../src/router/decide.js';
import { createRandom } from '../../src/router/random.js';

let clock = 0;
export function objects(yamlText: string, namespace = 'istioinaction'): KubeObject[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as KubeObject)
    .filter(Boolean)
    .map((o) => ({
      ...o,
      metadata: { namespace, ...o.metadata, creationTimestamp: o.metadata.creationTimestamp ?? new Date(Date.UTC(2024, 0, 1, 0, 0, clock++)).toISOString() },
    }));
}

/** A ready pod with a sidecar, as the runtime would report it. */
export function pod(name: string, labels: Record<string, string>, ip: string, port = 3000, namespace = 'istioinaction', owner = name): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: owner }], creationTimestamp: '2024-01-01T00:00:00.000Z' },
    spec: { containers: [{ name: 'app', image: 'istioinaction/catalog:latest', ports: [{ containerPort: port }] }] },
    status: { phase: 'Running', ready: true, podIP: ip },
  };
}

export const GATEWAY_NODE: ProxyNode = {
  role: 'gateway',
  pod: 'istio-ingressgateway-1',
  namespace: 'istio-system',
  ip: '127.1.1.1',
  labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' },
  workload: 'istio-ingressgateway',
  inbound: [],
};

export function sidecarNode(workload: string, labels: Record<string, string>, ip = '127.1.1.50', namespace = 'istioinaction', ports: number[] = [8080]): ProxyNode {
  return {
    role: 'sidecar',
    pod: `${workload}-abc`,
    namespace,
    ip,
    labels,
    workload,
    inbound: ports.map((p) => ({ port: p, bindAddress: ip, bindPort: p, appAddress: '127.2.1.50', appPort: p })),
    outbound: { bindAddress: ip, bindPort: 15001 },
  };
}

export function compile(objs: KubeObject[], node: ProxyNode, mesh: MeshConfig = DEFAULT_MESH_CONFIG): ProxyTable {
  const snapshot = createSnapshot(objs, mesh, {
    hosts: {},
    gatewayPorts: (p) => (p === 80 ? { address: '127.0.0.1', port: 8080 } : p >= 1024 ? { address: '127.0.0.1', port: p } : undefined),
  });
  return new PushCompiler(snapshot).compile(node);
}

export interface SimRequest {
  authority: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  /** Listener port: gateway server port, or the destination port for sidecar outbound. */
  port?: number;
}

export interface SimResult {
  kind: 'forward' | 'direct' | 'no_route';
  status: number;
  route?: string;
  cluster?: string;
  /** `NC` when the cluster is not in the table, `NR` for no route. */
  flags: string;
  endpoints?: string[];
  mirrors?: string[];
}

/** What the proxy would do, decided on the compiled table (the proxy adds only sockets). */
export function simulate(table: ProxyTable, req: SimRequest, seed = 1): SimResult {
  const port = req.port ?? 80;
  const rcName =
    table.node.role === 'gateway' ? `http.${port}` : table.routeConfigs[String(port)] ? String(port) : '*';
  const rc = table.routeConfigs[rcName];
  if (!rc) return { kind: 'no_route', status: 404, flags: 'NR' };
  const d = decide(compileRouteConfig(rc), { authority: req.authority, path: req.path ?? '/', method: req.method ?? 'GET', scheme: 'http', headers: req.headers ?? {}, port }, createRandom(seed));
  if (d.kind === 'no_route') return { kind: 'no_route', status: 404, flags: 'NR' };
  if (d.kind === 'direct') return { kind: 'direct', status: d.status, route: d.routeName, flags: d.flags, cluster: d.logCluster };
  const cluster = table.clusters[d.cluster];
  if (!cluster) return { kind: 'forward', status: 503, route: d.routeName, cluster: d.cluster, flags: 'NC' };
  if (cluster.type === 'eds' && cluster.endpoints.length === 0) return { kind: 'forward', status: 503, route: d.routeName, cluster: d.cluster, flags: 'UH' };
  return {
    kind: 'forward',
    status: 200,
    route: d.routeName,
    cluster: d.cluster,
    flags: '-',
    endpoints: cluster.endpoints.map((e) => `${e.address}:${e.port}`),
    mirrors: [...d.mirrors],
  };
}
