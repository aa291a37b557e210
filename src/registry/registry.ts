/**
 * The service registry the compiler works from: Kubernetes Services with endpoints from ready Pods,
 * plus ServiceEntry hosts. Pure: built from a list of objects.
 */
import type { KubeObject } from '../model/objects.js';
import { serviceFqdn } from '../model/names.js';
import type { Endpoint } from '../model/table.js';
import type { PodStatus, PodTemplate, ServiceEntrySpec, ServiceSpec } from '../model/specs.js';

export interface RegistryPort {
  port: number;
  name?: string;
  protocol: string;
  /** Kubernetes targetPort (number or a container port name); ServiceEntry targetPort. */
  targetPort?: number | string;
}

export interface RegistryService {
  /** The host the mesh knows it by: FQDN for Services, the host as written for ServiceEntries. */
  hostname: string;
  name: string;
  namespace: string;
  source: 'kubernetes' | 'serviceentry';
  ports: RegistryPort[];
  /** For Kubernetes services. */
  selector?: Record<string, string>;
  /** For ServiceEntries. */
  resolution?: 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';
  location?: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  /** Endpoints per service port. */
  endpoints: Map<number, Endpoint[]>;
  /** The Service's virtual address (`spec.clusterIP`), where the runtime has them (Docker). */
  vip?: string;
}

export interface Registry {
  services: RegistryService[];
  byHost: Map<string, RegistryService>;
}

export function labelsMatch(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const keys = Object.keys(selector);
  if (keys.length === 0) return false;
  for (const k of keys) if (labels?.[k] !== selector[k]) return false;
  return true;
}

/** A subset selector: every label must be present (an empty selector selects all). */
export function subsetMatch(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  for (const k of Object.keys(selector)) if (labels?.[k] !== selector[k]) return false;
  return true;
}

interface PodView {
  name: string;
  workload: string;
  namespace: string;
  labels: Record<string, string>;
  ip: string;
  portMap?: Record<string, number>;
  containerPorts: Array<{ containerPort: number; name?: string }>;
}

function readyPods(objects: KubeObject[]): PodView[] {
  const out: PodView[] = [];
  for (const o of objects) {
    if (o.kind !== 'Pod') continue;
    const st = o.status as unknown as PodStatus | undefined;
    if (!st?.ready || !st.podIP || st.phase !== 'Running') continue;
    const spec = o.spec as unknown as PodTemplate['spec'];
    out.push({
      name: o.metadata.name,
      workload: o.metadata.ownerReferences?.[0]?.name ?? o.metadata.name,
      namespace: o.metadata.namespace ?? 'default',
      labels: o.metadata.labels ?? {},
      ip: st.podIP,
      portMap: st.portMap,
      containerPorts: spec.containers.flatMap((c) => c.ports ?? []),
    });
  }
  return out;
}

function resolveTargetPort(pod: PodView, targetPort: number | string): number | undefined {
  if (typeof targetPort === 'number') return targetPort;
  const asNumber = Number(targetPort);
  if (Number.isInteger(asNumber)) return asNumber;
  return pod.containerPorts.find((p) => p.name === targetPort)?.containerPort;
}

function podEndpoint(pod: PodView, containerPort: number): Endpoint {
  const bound = pod.portMap?.[String(containerPort)] ?? containerPort;
  return { address: pod.ip, port: bound, pod: pod.name, workload: pod.workload, namespace: pod.namespace, labels: pod.labels };
}

/**
 * Ready pods by namespace and by each `key=value` label, so a selector only looks at the pods that
 * carry its rarest label (linear in pods + services instead of their product).
 */
class PodIndex {
  private readonly byNsLabel = new Map<string, PodView[]>();

  constructor(pods: PodView[]) {
    for (const p of pods) {
      for (const [k, v] of Object.entries(p.labels)) {
        const key = `${p.namespace}\u0000${k}=${v}`;
        const list = this.byNsLabel.get(key);
        if (list) list.push(p);
        else this.byNsLabel.set(key, [p]);
      }
    }
  }

  select(namespace: string, selector: Record<string, string> | undefined): PodView[] {
    if (!selector || Object.keys(selector).length === 0) return [];
    let smallest: PodView[] | undefined;
    for (const [k, v] of Object.entries(selector)) {
      const list = this.byNsLabel.get(`${namespace}\u0000${k}=${v}`);
      if (!list) return [];
      if (!smallest || list.length < smallest.length) smallest = list;
    }
    return smallest!.filter((p) => labelsMatch(selector, p.labels));
  }
}

export function buildRegistry(objects: KubeObject[]): Registry {
  const pods = readyPods(objects);
  const index = new PodIndex(pods);
  const services: RegistryService[] = [];

  for (const o of objects) {
    if (o.kind !== 'Service') continue;
    const ns = o.metadata.namespace ?? 'default';
    const spec = (o.spec ?? {}) as ServiceSpec;
    const ports: RegistryPort[] = (spec.ports ?? []).map((p) => ({
      port: p.port,
      name: p.name,
      protocol: protocolOf(p.name, p.protocol),
      targetPort: p.targetPort ?? p.port,
    }));
    const endpoints = new Map<number, Endpoint[]>();
    const selected = index.select(ns, spec.selector);
    for (const port of ports) {
      const eps: Endpoint[] = [];
      for (const pod of selected) {
        const cp = resolveTargetPort(pod, port.targetPort ?? port.port);
        if (cp !== undefined) eps.push(podEndpoint(pod, cp));
      }
      endpoints.set(port.port, eps);
    }
    services.push({
      hostname: serviceFqdn(o.metadata.name, ns),
      name: o.metadata.name,
      namespace: ns,
      source: 'kubernetes',
      ports,
      selector: spec.selector,
      endpoints,
      ...(spec.clusterIP && spec.clusterIP !== 'None' ? { vip: spec.clusterIP } : {}),
    });
  }

  for (const o of objects) {
    if (o.kind !== 'ServiceEntry') continue;
    const ns = o.metadata.namespace ?? 'default';
    const spec = o.spec as unknown as ServiceEntrySpec;
    const ports: RegistryPort[] = (spec.ports ?? []).map((p) => ({
      port: p.number,
      name: p.name,
      protocol: (p.protocol ?? 'TCP').toUpperCase(),
      targetPort: p.targetPort,
    }));
    for (const host of spec.hosts) {
      const endpoints = new Map<number, Endpoint[]>();
      for (const port of ports) endpoints.set(port.port, serviceEntryEndpoints(spec, host, port, pods, ns));
      services.push({
        hostname: host,
        name: o.metadata.name,
        namespace: ns,
        source: 'serviceentry',
        ports,
        resolution: spec.resolution ?? 'NONE',
        location: spec.location ?? 'MESH_EXTERNAL',
        endpoints,
      });
    }
  }

  // Istio: the first (oldest) definition of a host wins; `objects` comes sorted by creation time.
  const byHost = new Map<string, RegistryService>();
  for (const s of services) if (!byHost.has(s.hostname)) byHost.set(s.hostname, s);
  return { services: [...byHost.values()], byHost };
}

function serviceEntryEndpoints(
  spec: ServiceEntrySpec,
  host: string,
  port: RegistryPort,
  pods: PodView[],
  ns: string,
): Endpoint[] {
  const resolution = spec.resolution ?? 'NONE';
  const targetPortOf = (epPorts?: Record<string, number>) =>
    (port.name && epPorts?.[port.name]) || (typeof port.targetPort === 'number' ? port.targetPort : port.port);
  if (spec.workloadSelector?.labels) {
    return pods
      .filter((p) => p.namespace === ns && subsetMatch(spec.workloadSelector!.labels, p.labels))
      .map((p) => podEndpoint(p, targetPortOf()));
  }
  if (spec.endpoints?.length) {
    return spec.endpoints
      .filter((e) => e.address)
      .map((e) => ({ address: e.address!, port: targetPortOf(e.ports), labels: e.labels }));
  }
  // DNS without endpoints resolves the host itself; NONE uses the address the app asked for. The
  // proxy resolves both at request time through the lab's resolver.
  if (resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') return [{ address: host, port: targetPortOf() }];
  return [];
}

/** Istio's protocol selection: explicit `protocol`, else the port name prefix (`http-foo`), else TCP. */
export function protocolOf(name: string | undefined, protocol: string | undefined): string {
  const prefix = (name ?? '').split('-')[0]!.toLowerCase();
  const byName: Record<string, string> = { http: 'HTTP', http2: 'HTTP2', grpc: 'GRPC', https: 'HTTPS', tcp: 'TCP', tls: 'TLS' };
  if (byName[prefix]) return byName[prefix]!;
  if (protocol && protocol.toUpperCase() !== 'TCP') return protocol.toUpperCase();
  // Kubernetes `protocol: TCP` is the transport, not the app protocol; the lab treats unnamed
  // ports as HTTP (Istio would sniff the protocol, which for the book's services finds HTTP).
  return 'HTTP';
}
