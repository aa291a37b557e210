/**
 * Typed views of the specs the compiler reads. Validation (src/config) guarantees the shapes; these
 * types only name the fields the lab uses.
 */
import type { StringMatch } from './table.js';

export interface ContainerPort { containerPort: number; name?: string; protocol?: string }
export interface EnvVar { name: string; value?: string }
export interface Container {
  name: string;
  image: string;
  env?: EnvVar[];
  ports?: ContainerPort[];
  imagePullPolicy?: string;
}
export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: Container[]; serviceAccountName?: string };
}
export interface DeploymentSpec {
  replicas?: number;
  selector: { matchLabels?: Record<string, string> };
  template: PodTemplate;
}

export interface ServicePort { port: number; targetPort?: number | string; name?: string; protocol?: string }
export interface ServiceSpec {
  selector?: Record<string, string>;
  ports?: ServicePort[];
  type?: string;
  /** The Service's virtual address, assigned by the control plane where the runtime routes one (Docker). */
  clusterIP?: string;
}

/** Pod status as the lab's runtime reports it. */
export interface PodStatus {
  phase: 'Pending' | 'Running' | 'Failed' | 'Terminating';
  podIP?: string;
  /** When ports cannot be per-pod (no 127/8 aliasing), container port -> the port actually bound. */
  portMap?: Record<string, number>;
  ready?: boolean;
  /** The sidecar's admin endpoint, e.g. `http://127.20.1.5:15000`. */
  adminUrl?: string;
  /** The sidecar's outbound (forward proxy) listener. */
  outboundProxy?: string;
  startTime?: string;
  message?: string;
  restarts?: number;
}

export interface PortSelector { number?: number }
export interface Destination { host: string; subset?: string; port?: PortSelector }
export interface HTTPRouteDestination { destination: Destination; weight?: number; headers?: unknown }
export interface HTTPMatchRequest {
  name?: string;
  uri?: StringMatch;
  scheme?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  headers?: Record<string, StringMatch | Record<string, never>>;
  withoutHeaders?: Record<string, StringMatch | Record<string, never>>;
  queryParams?: Record<string, StringMatch>;
  ignoreUriCase?: boolean;
  port?: number;
  sourceLabels?: Record<string, string>;
  sourceNamespace?: string;
  gateways?: string[];
}
export interface HeaderOps { set?: Record<string, string>; add?: Record<string, string>; remove?: string[] }
/** VirtualService `http[].retries`. */
export interface HTTPRetry {
  attempts?: number;
  perTryTimeout?: string;
  retryOn?: string;
  retryRemoteLocalities?: boolean;
  retryIgnorePreviousHosts?: boolean;
  backoff?: string;
}
export interface HTTPRoute {
  name?: string;
  match?: HTTPMatchRequest[];
  route?: HTTPRouteDestination[];
  mirror?: Destination;
  mirrorPercentage?: { value?: number };
  mirrors?: Array<{ destination: Destination; percentage?: { value?: number } }>;
  timeout?: string;
  retries?: HTTPRetry;
  rewrite?: { uri?: string; authority?: string };
  headers?: { request?: HeaderOps; response?: HeaderOps };
  directResponse?: { status: number; body?: { string?: string } };
}
export interface VirtualServiceSpec { hosts?: string[]; gateways?: string[]; http?: HTTPRoute[]; exportTo?: string[] }

export interface LoadBalancerSettings { simple?: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'LEAST_CONN' | 'RANDOM' | 'PASSTHROUGH' | 'UNSPECIFIED' }
export interface TrafficPolicy { loadBalancer?: LoadBalancerSettings }
export interface Subset { name: string; labels?: Record<string, string>; trafficPolicy?: TrafficPolicy }
export interface DestinationRuleSpec { host: string; subsets?: Subset[]; trafficPolicy?: TrafficPolicy }

export interface GatewayServer { port: { number: number; name?: string; protocol: string; targetPort?: number }; hosts: string[]; name?: string }
export interface GatewaySpec { selector?: Record<string, string>; servers: GatewayServer[] }

export interface ServiceEntryPort { number: number; name?: string; protocol?: string; targetPort?: number }
export interface ServiceEntryEndpoint { address?: string; ports?: Record<string, number>; labels?: Record<string, string> }
export interface ServiceEntrySpec {
  hosts: string[];
  addresses?: string[];
  ports?: ServiceEntryPort[];
  location?: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  resolution?: 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';
  endpoints?: ServiceEntryEndpoint[];
  workloadSelector?: { labels?: Record<string, string> };
}

export interface SidecarSpec {
  workloadSelector?: { labels?: Record<string, string> };
  outboundTrafficPolicy?: { mode?: 'ALLOW_ANY' | 'REGISTRY_ONLY' };
}

export interface MeshConfig {
  outboundTrafficPolicy: { mode: 'ALLOW_ANY' | 'REGISTRY_ONLY' };
  accessLogFile: string;
  enableMetrics: boolean;
}

export const DEFAULT_MESH_CONFIG: MeshConfig = {
  outboundTrafficPolicy: { mode: 'ALLOW_ANY' },
  accessLogFile: '/dev/stdout',
  enableMetrics: true,
};
