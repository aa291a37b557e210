/**
 * The local runtime as the control plane sees it: pods are started, restarted and stopped by the
 * node agent (agent-main.ts), which outlives the control plane; container exits arrive on the
 * agent's event stream. A restarted control plane adopts what the agent still runs.
 */
import { LabError } from '../../shared/errors.js';
import type { AdoptedPod, ContainerExit, PodLaunch, Runtime, RunningPod } from '../types.js';
import type { AgentEvent, AgentPod } from './agent-protocol.js';

class AgentPodHandle implements RunningPod {
  readonly listeners: Array<(e: ContainerExit) => void> = [];
  constructor(
    readonly name: string,
    readonly key: string,
    private readonly agent: AgentRuntime,
  ) {}
  onExit(listener: (exit: ContainerExit) => void): void {
    this.listeners.push(listener);
  }
  restart(container: string): Promise<void> {
    return this.agent.call('POST', '/pods/restart', { key: this.key, container }).then(() => undefined);
  }
  async stop(): Promise<void> {
    this.agent.forget(this.key);
    await this.agent.call('POST', '/pods/stop', { key: this.key });
  }
}

export class AgentRuntime implements Runtime {
  readonly name = 'local' as const;
  private readonly pods = new Map<string, AgentPodHandle>();
  private events: AbortController | undefined;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly log: (msg: string) => void,
  ) {}

  private get auth(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  async call<T = unknown>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: body === undefined ? this.auth : { ...this.auth, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (err) {
      throw new LabError('LAB_ERR_RUNTIME', `the node agent at ${this.url} does not answer (${(err as Error).message})`);
    }
    const parsed = (await res.json().catch(() => ({}))) as T & { error?: string };
    if (!res.ok) throw new LabError('LAB_ERR_RUNTIME', `node agent: ${parsed.error ?? `HTTP ${res.status}`}`);
    return parsed;
  }

  /** Follows the agent's exit events for as long as this control plane runs. */
  watch(): void {
    if (this.events) return;
    const ctl = new AbortController();
    this.events = ctl;
    const loop = async () => {
      while (!ctl.signal.aborted) {
        try {
          const res = await fetch(`${this.url}/events`, { signal: ctl.signal, headers: this.auth });
          const reader = res.body!.getReader();
          const decoder = new TextDecoder();
          let buf = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buf += decoder.decode(value, { stream: true });
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (line) this.dispatch(JSON.parse(line) as AgentEvent);
            }
          }
        } catch (err) {
          if (ctl.signal.aborted) return;
          this.log(`node agent events: ${(err as Error).message}; reconnecting`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    void loop();
  }

  private dispatch(e: AgentEvent): void {
    const pod = this.pods.get(e.key);
    if (!pod) return;
    for (const l of pod.listeners) l({ container: e.container, code: e.code, signal: e.signal });
  }

  forget(key: string): void {
    this.pods.delete(key);
  }

  async start(launch: PodLaunch): Promise<RunningPod> {
    this.watch();
    const key = `${launch.namespace}/${launch.name}`;
    const handle = new AgentPodHandle(launch.name, key, this);
    this.pods.set(key, handle);
    try {
      await this.call('POST', '/pods', { launch });
    } catch (err) {
      this.pods.delete(key);
      throw err;
    }
    return handle;
  }

  async adopt(): Promise<AdoptedPod[]> {
    this.watch();
    const { pods } = await this.call<{ pods: AgentPod[] }>('GET', '/pods');
    const adopted: AdoptedPod[] = [];
    for (const p of pods) {
      const key = `${p.namespace}/${p.name}`;
      if (!p.record) {
        this.log(`pod ${key}: no adoption record; stopping it`);
        await this.call('POST', '/pods/stop', { key }).catch(() => undefined);
        continue;
      }
      const handle = new AgentPodHandle(p.name, key, this);
      this.pods.set(key, handle);
      adopted.push({ name: p.name, namespace: p.namespace, record: p.record, pod: handle });
    }
    return adopted;
  }

  /** The control plane's own notes kept by the agent (its address block), across restarts. */
  meta<T>(): Promise<T> {
    return this.call<T>('GET', '/meta');
  }
  setMeta(value: unknown): Promise<void> {
    return this.call('PUT', '/meta', value).then(() => undefined);
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.pods.values()].map((p) => p.stop().catch(() => undefined)));
    this.events?.abort();
  }

  /** This control plane goes; the agent and its pods stay. */
  detach(): void {
    this.events?.abort();
  }
}
