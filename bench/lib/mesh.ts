/**
 * Tables for the proxy rows, built by the real compiler from Kubernetes/Istio objects (a Service,
 * its Pod, a mesh VirtualService with a header-match route, a Gateway and its VirtualService), so
 * the benchmark measures the same tables the lab pushes.
 */
import { PushCompiler } from '../../src/compiler/compile.js';
import { createSnapshot, type ProxyNode } from '../../src/compiler/snapshot.js';
import type { KubeObject } from '../../src/model/objects.js';
import { DEFAULT_MESH_CONFIG } from '../../src/model/specs.js';
import type { ProxyTable } from '../../src/model/table.js';

export const NS = 'bench';
/** The authority clients use: `upstream.bench` (the service in namespace bench), port 80. */
export const MESH_HOST = `upstream.${NS}`;
export const GATEWAY_HOST = 'upstream.bench.io';

export interface Addr {
  address: string;
  port: number;
}

export function serviceObject(name: string, ns = NS): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 3000 }] },
  };
}

/** A ready Pod: its podIP/portMap is where the service's endpoint points (a sidecar or the app). */
export function podObject(name: string, app: string, endpoint: Addr, ns = NS): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels: { app, version: 'v1' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: app, controller: true }],
    },
    spec: { containers: [{ name: app, image: `bench/${app}:latest`, ports: [{ containerPort: 3000 }] }] },
    status: { phase: 'Running', ready: true, podIP: endpoint.address, portMap: { '3000': endpoint.port } },
  };
}

/** A mesh VirtualService: a header-match route (not taken by the benchmark's requests), then the default. */
export function meshVirtualService(host: string, ns = NS): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: { name: host, namespace: ns },
    spec: {
      hosts: [host],
      gateways: ['mesh'],
      http: [
        { name: 'cohort', match: [{ headers: { 'x-bench-cohort': { exact: 'canary' } } }], route: [{ destination: { host, port: { number: 80 } } }] },
        { name: 'default', route: [{ destination: { host, port: { number: 80 } } }] },
      ],
    },
  };
}

function gatewayObjects(): KubeObject[] {
  return [
    {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'Gateway',
      metadata: { name: 'bench-gateway', namespace: NS },
      spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: [GATEWAY_HOST] }] },
    },
    {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'VirtualService',
      metadata: { name: 'upstream-from-gw', namespace: NS },
      spec: { hosts: [GATEWAY_HOST], gateways: ['bench-gateway'], http: [{ route: [{ destination: { host: 'upstream', port: { number: 80 } } }] }] },
    },
  ];
}

export interface MeshLayout {
  telemetry: { accessLog: boolean; metrics: boolean };
  /** The app behind everything. */
  upstream: Addr;
  /** Client pod: its sidecar's outbound (forward-proxy) listener. */
  client?: { ip: string; outboundPort: number };
  /** Server pod with a sidecar: its inbound listener, which hands requests to `upstream`. */
  server?: { ip: string; inboundPort: number };
  /** Ingress gateway: where its port 80 is bound. */
  gateway?: { ip: string; port: number };
}

/**
 * Compiles the tables of one layout. Without `server`, the upstream pod has no sidecar: its
 * endpoint is the app itself, so one proxy sits between client and app.
 */
export function compileTables(l: MeshLayout): { client?: ProxyTable; server?: ProxyTable; gateway?: ProxyTable } {
  const endpoint = l.server ? { address: l.server.ip, port: l.server.inboundPort } : l.upstream;
  const objects: KubeObject[] = [
    serviceObject('upstream'),
    podObject('upstream-0', 'upstream', endpoint),
    meshVirtualService('upstream'),
    ...gatewayObjects(),
  ];
  const snapshot = createSnapshot(objects, DEFAULT_MESH_CONFIG, {
    hosts: {},
    gatewayPorts: (p) => (p === 80 && l.gateway ? { address: l.gateway.ip, port: l.gateway.port } : undefined),
    telemetry: l.telemetry,
  });
  const compiler = new PushCompiler(snapshot);
  const out: { client?: ProxyTable; server?: ProxyTable; gateway?: ProxyTable } = {};
  if (l.client) {
    const node: ProxyNode = {
      role: 'sidecar',
      pod: 'client-0',
      namespace: NS,
      ip: l.client.ip,
      labels: { app: 'client', version: 'v1' },
      workload: 'client',
      inbound: [],
      outbound: { bindAddress: l.client.ip, bindPort: l.client.outboundPort },
    };
    out.client = compiler.compile(node);
  }
  if (l.server) {
    const node: ProxyNode = {
      role: 'sidecar',
      pod: 'upstream-0',
      namespace: NS,
      ip: l.server.ip,
      labels: { app: 'upstream', version: 'v1' },
      workload: 'upstream',
      inbound: [{ port: 3000, bindAddress: l.server.ip, bindPort: l.server.inboundPort, appAddress: l.upstream.address, appPort: l.upstream.port }],
    };
    out.server = compiler.compile(node);
  }
  if (l.gateway) {
    const node: ProxyNode = {
      role: 'gateway',
      pod: 'istio-ingressgateway-0',
      namespace: 'istio-system',
      ip: l.gateway.ip,
      labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' },
      workload: 'istio-ingressgateway',
      inbound: [],
    };
    out.gateway = compiler.compile(node);
  }
  return out;
}
