/**
 * The lab without processes: the objects a scenario applies, plus what the control plane would add
 * (the ingress gateway Deployment, one ready Pod per replica with the Deployment's labels), compiled
 * by the same PushCompiler into the table each proxy would be pushed. Addresses are made up
 * (loopback, never dialled): routing decisions do not depend on them.
 */
import { PushCompiler } from '../compiler/compile.js';
import { createSnapshot, type ProxyNode, type Snapshot } from '../compiler/snapshot.js';
import { INGRESS_GATEWAY } from '../controlplane/controlplane.js';
import type { KubeObject } from '../model/objects.js';
import { DEFAULT_MESH_CONFIG, type MeshConfig, type PodTemplate } from '../model/specs.js';
import type { ProxyTable } from '../model/table.js';
import { programForImage } from '../runtime/images.js';

/** Stands in for the external service's address in the lab's DNS (`hosts`); never connected to. */
const EXTERNAL_STANDIN = { address: '127.255.0.1', port: 80 };
const EXTERNAL_HOST = 'jsonplaceholder.typicode.com';

export interface OfflinePod {
  object: KubeObject;
  node: ProxyNode;
}

export class OfflineWorld {
  readonly objects: KubeObject[];
  readonly pods: OfflinePod[];
  private readonly compilers = new Map<string, PushCompiler>();

  constructor(applied: KubeObject[]) {
    const hasGateway = applied.some((o) => o.kind === 'Deployment' && o.metadata.namespace === 'istio-system' && o.metadata.name === INGRESS_GATEWAY.metadata.name);
    const deployments = [...(hasGateway ? [] : [INGRESS_GATEWAY]), ...applied.filter((o) => o.kind === 'Deployment')];
    this.pods = deployments.flatMap((d, i) => podsOf(d, i + 1));
    this.objects = [...applied, ...(hasGateway ? [] : [INGRESS_GATEWAY]), ...this.pods.map((p) => p.object)];
  }

  snapshot(mesh: MeshConfig = DEFAULT_MESH_CONFIG): Snapshot {
    return createSnapshot(this.objects, mesh, {
      hosts: { [`${EXTERNAL_HOST}:80`]: EXTERNAL_STANDIN },
      // The ingress gateway's Service maps 80 and 443; other server ports bind as they are.
      gatewayPorts: (port) => (port === 80 || port === 443 || port >= 1024 ? { address: '127.0.0.1', port } : undefined),
    });
  }

  /** The ingress gateway (`ingress`), or the first pod of Deployment `from` (`name` in `namespace`, or `namespace/name`). */
  node(from: string, namespace: string): ProxyNode | undefined {
    if (from === 'ingress' || from === 'istio-ingressgateway') return this.pods.find((p) => p.node.role === 'gateway' && p.node.labels['istio'] === 'ingressgateway')?.node;
    const { name, ns } = splitFrom(from, namespace);
    return this.pods.find((p) => p.node.workload === name && p.node.namespace === ns)?.node;
  }

  workloads(): string[] {
    return [...new Set(this.pods.filter((p) => p.node.role === 'sidecar').map((p) => `${p.node.namespace}/${p.node.workload}`))];
  }

  table(node: ProxyNode, mesh: MeshConfig = DEFAULT_MESH_CONFIG): ProxyTable {
    const key = JSON.stringify(mesh);
    let c = this.compilers.get(key);
    if (!c) {
      c = new PushCompiler(this.snapshot(mesh));
      this.compilers.set(key, c);
    }
    return c.compile(node);
  }
}

function isProxyImage(image: string | undefined): boolean {
  if (!image) return false;
  try {
    return programForImage(image, '') === 'proxy';
  } catch {
    return false; // an image the lab cannot run is an app for routing purposes
  }
}

/** `webapp` (in the scenario's namespace) or `team-a/webapp`. */
export function splitFrom(from: string, namespace: string): { name: string; ns: string } {
  const slash = from.indexOf('/');
  return slash < 0 ? { name: from, ns: namespace } : { name: from.slice(slash + 1), ns: from.slice(0, slash) };
}

/** `replicas` ready pods (default 1), as the Deployment controller would start them. */
function podsOf(d: KubeObject, index: number): OfflinePod[] {
  const spec = (d.spec ?? {}) as { replicas?: number; template?: PodTemplate };
  const template = spec.template;
  const labels = { ...(template?.metadata?.labels ?? {}) };
  const namespace = d.metadata.namespace ?? 'default';
  const containers = template?.spec.containers ?? [];
  // As the pod manager decides: a pod whose first container is the proxy image is a gateway, and
  // a sidecar's inbound ports are its first (app) container's.
  const gateway = labels['istio'] === 'ingressgateway' || isProxyImage(containers[0]?.image);
  const ports = gateway ? [] : (containers[0]?.ports ?? []).map((p) => p.containerPort);
  const replicas = Math.max(0, spec.replicas ?? 1);
  const out: OfflinePod[] = [];
  for (let r = 0; r < replicas; r++) {
    const ip = `127.200.${index % 256}.${r + 1}`;
    const name = `${d.metadata.name}-offline-${r}`;
    const object: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name }] },
      spec: { containers } as unknown as Record<string, unknown>,
      status: { phase: 'Running', ready: true, podIP: ip },
    };
    const node: ProxyNode = {
      role: gateway ? 'gateway' : 'sidecar',
      pod: name,
      namespace,
      ip,
      labels,
      workload: d.metadata.name,
      inbound: gateway ? [] : ports.map((p) => ({ port: p, bindAddress: ip, bindPort: p, appAddress: ip, appPort: p })),
      ...(gateway ? {} : { outbound: { bindAddress: ip, bindPort: 15001 } }),
    };
    out.push({ object, node });
  }
  return out;
}
