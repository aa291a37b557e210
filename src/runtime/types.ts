/**
 * The one interface both runtimes (local processes, Docker) implement. The control plane decides
 * what runs and where (addresses, ports, env); a runtime only starts and stops it.
 */

/** One container of a pod, as a runtime starts it. */
export interface ContainerLaunch {
  /** `app` containers run a demo service; `istio-proxy` runs the proxy. */
  name: string;
  /** Which program: a service folder name (`catalog`, `webapp`, ...) or `proxy`. */
  program: string;
  env: Record<string, string>;
  /** Log file the container's stdout/stderr go to. */
  logFile: string;
}

export interface PodLaunch {
  name: string;
  namespace: string;
  containers: ContainerLaunch[];
  /** The pod's labels (Docker puts them on its containers). */
  labels?: Record<string, string>;
  /** The pod's address on the lab network (Docker; the local runtime's addresses are in env). */
  ip?: string;
  /** Sidecar pods on Docker: container port -> the sidecar's inbound capture port. */
  capture?: { inbound: Array<{ port: number; capturePort: number }> };
  /** Extra DNS names for the pod on the lab network (the external stand-in's host name). */
  aliases?: string[];
  /** Ports published on the host's loopback (the ingress gateway): host port -> container port. */
  publish?: Array<{ hostPort: number; containerPort: number }>;
  /**
   * What the control plane needs to take the pod over again after a restart (JSON it writes and
   * reads; the runtime only keeps it with the pod). Only runtimes whose pods outlive the control
   * plane (Docker) keep it.
   */
  record?: string;
}

/** A pod found running when the control plane starts (its containers outlived the last one). */
export interface AdoptedPod {
  name: string;
  namespace: string;
  record: string;
  pod: RunningPod;
}

export interface ContainerExit {
  container: string;
  code: number | null;
  signal: string | null;
}

export interface RunningPod {
  readonly name: string;
  /** Called each time a container exits on its own (not through stop() or restart()). */
  onExit(listener: (exit: ContainerExit) => void): void;
  /** Restarts one container in place (after a crash), keeping the others. */
  restart(container: string): Promise<void>;
  stop(): Promise<void>;
}

export interface Runtime {
  readonly name: 'local' | 'docker';
  start(pod: PodLaunch): Promise<RunningPod>;
  /**
   * The service ports the mesh knows (Docker: each is a capture rule in every pod, so the sidecar
   * learns a connection's original port). The local runtime has no capture and ignores it.
   */
  setServicePorts?(ports: number[]): Promise<void>;
  /**
   * Pods left running by an earlier control plane, now managed by this runtime (Docker). Pods
   * whose proxy is gone are removed instead (their Deployment starts new ones).
   */
  adopt?(): Promise<AdoptedPod[]>;
  /** Stops everything this runtime started. */
  shutdown(): Promise<void>;
}
