/**
 * Istio 1.16's PortNameAnalyzer (IST0118, Info): a Service port whose name does not start with a
 * protocol (`<protocol>[-<suffix>]`) and that sets no `appProtocol` leaves the protocol to
 * sniffing. The lab does not sniff (it takes such ports as HTTP), which is one more reason to name
 * them. System namespaces are skipped, as Istio does.
 */
import type { KubeObject } from '../model/objects.js';
import { isPlainObject } from './schema.js';

export interface ServiceFinding {
  code: 'IST0118';
  object: KubeObject;
  path: string;
  message: string;
}

/** Istio's protocol.Parse, for the part of a port name before the first `-` (grpc-web whole). */
const PROTOCOLS = new Set(['tcp', 'udp', 'grpc', 'grpc-web', 'http', 'http_proxy', 'http2', 'https', 'tls', 'mongo', 'redis', 'mysql']);
const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage', 'istio-system']);

export function portNameFollowsConvention(name: string): boolean {
  const lower = name.toLowerCase();
  return PROTOCOLS.has(lower.startsWith('grpc-web') ? 'grpc-web' : lower.split('-')[0]!);
}

export function analyzeServices(objects: KubeObject[]): ServiceFinding[] {
  const out: ServiceFinding[] = [];
  for (const svc of objects) {
    if (svc.kind !== 'Service' || SYSTEM_NAMESPACES.has(svc.metadata.namespace ?? 'default')) continue;
    const ports = isPlainObject(svc.spec) && Array.isArray(svc.spec['ports']) ? (svc.spec['ports'] as unknown[]) : [];
    ports.forEach((p, i) => {
      if (!isPlainObject(p) || (typeof p['appProtocol'] === 'string' && p['appProtocol'] !== '')) return;
      const name = typeof p['name'] === 'string' ? p['name'] : '';
      if (portNameFollowsConvention(name)) return;
      const port = typeof p['port'] === 'number' ? p['port'] : 0;
      const target = p['targetPort'] === undefined ? String(port) : String(p['targetPort']);
      out.push({ code: 'IST0118', object: svc, path: `spec.ports[${i}].name`, message: `Port name ${name} (port: ${port}, targetPort: ${target}) doesn't follow the naming convention of Istio port.` });
    });
  }
  return out;
}
