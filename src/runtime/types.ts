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
  /** Stops everything this runtime started. */
  shutdown(): Promise<void>;
}
