/**
 * The canary controller (Flagger's, built into the control plane): one loop per Canary, ticking
 * every `analysis.interval` (divided by the lab's time scale), observing the store, running the
 * metric checks through the lab's metrics provider (embedded or Prometheus), and carrying out what
 * the state machine decides. Events go to Flagger-style JSON log lines (`lab logs deploy/flagger -n
 * istio-system`) and to the Canary's status, which names the provider that judged.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KubeObject } from '../model/objects.js';
import type { DeploymentSpec } from '../model/specs.js';
import type { MetricsProvider } from '../metrics/provider.js';
import type { ObjectStore } from '../store/store.js';
import { templateHash, type DeploymentController } from '../controlplane/deployments.js';
import type { PushController } from '../controlplane/push.js';
import { runCheck } from './checks.js';
import { primaryDeployment, primaryName, routingObjects, virtualService } from './generate.js';
import { initialState, tick, type Action, type CanaryState, type CheckResult } from './machine.js';
import { readCanary, type CanarySpec } from './spec.js';

export interface CanaryControllerOptions {
  store: ObjectStore;
  deployments: DeploymentController;
  push: PushController;
  /** Durations are divided by this (45 makes a 45s interval 1s). */
  timeScale: number;
  /** Where the checks' metrics come from now (`lab install prometheus` switches it while running). */
  metrics: () => MetricsProvider;
  logFile: string;
  log: (msg: string) => void;
}

interface Loop {
  key: string;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  stopped: boolean;
}

export class CanaryController {
  private readonly loops = new Map<string, Loop>();

  constructor(private readonly o: CanaryControllerOptions) {}

  start(): void {
    for (const c of this.o.store.list('Canary')) this.ensure(c);
    this.o.store.watch((e) => {
      if (e.object.kind !== 'Canary') return;
      if (e.type === 'DELETED') void this.remove(e.object);
      else this.ensure(e.object);
    });
  }

  stop(): void {
    for (const l of this.loops.values()) {
      l.stopped = true;
      if (l.timer) clearTimeout(l.timer);
    }
  }

  private key(o: KubeObject): string {
    return `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
  }

  private ensure(obj: KubeObject): void {
    const key = this.key(obj);
    if (this.loops.has(key)) return;
    const loop: Loop = { key, stopped: false };
    this.loops.set(key, loop);
    this.emit(readCanary(obj), `Synced ${obj.metadata.namespace}/${obj.metadata.name}`);
    this.schedule(loop, 0);
  }

  private schedule(loop: Loop, delayMs: number): void {
    if (loop.stopped) return;
    loop.timer = setTimeout(() => {
      loop.running = this.runTick(loop).finally(() => {
        const obj = this.objectFor(loop.key);
        if (!obj) return;
        this.schedule(loop, readCanary(obj).intervalMs / this.o.timeScale);
      });
    }, delayMs);
    loop.timer.unref?.();
  }

  private objectFor(key: string): KubeObject | undefined {
    const [ns, name] = key.split('/');
    return this.o.store.get('Canary', ns, name!);
  }

  /** Deleting a Canary removes what it generated (ownerReferences, as Kubernetes' GC would). */
  private async remove(obj: KubeObject): Promise<void> {
    const key = this.key(obj);
    const loop = this.loops.get(key);
    if (loop) {
      loop.stopped = true;
      if (loop.timer) clearTimeout(loop.timer);
      await loop.running;
      this.loops.delete(key);
    }
    const owned = this.o.store
      .all()
      .filter((o) => o.metadata.namespace === obj.metadata.namespace && o.metadata.ownerReferences?.some((r) => r.kind === 'Canary' && r.name === obj.metadata.name));
    for (const o of owned) this.o.store.delete(o.kind, o.metadata.namespace, o.metadata.name);
    this.emit(readCanary(obj), `Deleting ${obj.metadata.name}.${obj.metadata.namespace} from cache`);
    await this.o.deployments.rolledOut(owned.filter((o) => o.kind === 'Deployment').map((o) => ({ namespace: o.metadata.namespace ?? 'default', name: o.metadata.name })));
  }

  private async runTick(loop: Loop): Promise<void> {
    const obj = this.objectFor(loop.key);
    if (!obj || loop.stopped) return;
    const spec = readCanary(obj);
    const target = this.o.store.get('Deployment', spec.namespace, spec.target);
    if (!target) {
      this.emit(spec, `${spec.target}.${spec.namespace} not ready: deployment ${spec.target} not found`);
      return;
    }
    const prev = (obj.status as unknown as CanaryState | undefined)?.phase ? (obj.status as unknown as CanaryState) : initialState();
    const now = Date.now();
    const provider = this.o.metrics();
    const obs = { now, targetRevision: templateHash(target.spec as unknown as DeploymentSpec), primaryReady: this.primaryReady(spec, target), canaryReady: this.canaryReady(target) };
    // Scraping matters from the moment a rollout starts: the first check's window must have history.
    const analysing = prev.phase === 'Progressing' || ((prev.phase === 'Initialized' || prev.phase === 'Succeeded' || prev.phase === 'Failed') && obs.targetRevision !== prev.lastAppliedSpec);
    if (analysing) provider.keepWarm();
    // The state machine is pure and synchronous: the checks it may ask for run first (only when it will).
    let checks: CheckResult[] | undefined;
    if (prev.phase === 'Progressing' && prev.canaryWeight > 0 && obs.canaryReady && obs.targetRevision === prev.lastAppliedSpec && prev.failedChecks < spec.threshold) {
      const templates = (ns: string, name: string) => this.o.store.get('MetricTemplate', ns, name);
      checks = await Promise.all(spec.metrics.map((m) => runCheck(spec, m, provider, templates, this.o.timeScale, now)));
    }
    const runChecks = (): CheckResult[] => {
      if (!checks) throw new Error('canary state machine asked for checks the controller did not expect to need');
      return checks;
    };
    const result = tick(spec, prev, obs, runChecks);
    for (const e of result.events) this.emit(spec, e, checks?.some((c) => c.message === e) ? provider.name : undefined);
    for (const a of result.actions) await this.act(spec, a);
    if (this.objectFor(loop.key)) {
      this.o.store.updateStatus('Canary', spec.namespace, spec.name, {
        ...result.state,
        lastTransitionTime: result.state.lastTransitionTime ?? new Date(now).toISOString(),
        // Which provider's data the last checks were judged on (Flagger: the metrics server).
        metricsProvider: checks ? provider.name : ((obj.status as { metricsProvider?: string } | undefined)?.metricsProvider ?? provider.name),
      } as unknown as Record<string, unknown>);
    }
  }

  private primaryReady(spec: CanarySpec, target: KubeObject): boolean {
    const primary = this.o.store.get('Deployment', spec.namespace, primaryName(spec));
    if (!primary) return false;
    const want = templateHash(primaryDeployment(spec, target, 1).spec as unknown as DeploymentSpec);
    const has = templateHash(primary.spec as unknown as DeploymentSpec);
    return want === has && deploymentReady(primary);
  }

  private canaryReady(target: KubeObject): boolean {
    const replicas = (target.spec as unknown as DeploymentSpec).replicas ?? 1;
    return replicas > 0 && deploymentReady(target);
  }

  private async act(spec: CanarySpec, a: Action): Promise<void> {
    const s = this.o.store;
    const rollout = (name: string) => this.o.deployments.rolledOut([{ namespace: spec.namespace, name }]);
    const target = () => s.get('Deployment', spec.namespace, spec.target)!;
    switch (a.type) {
      case 'initialize': {
        if (!s.get('Deployment', spec.namespace, primaryName(spec))) {
          const replicas = (target().spec as unknown as DeploymentSpec).replicas ?? 1;
          s.apply(primaryDeployment(spec, target(), Math.max(1, replicas)));
          this.emit(spec, `Deployment ${primaryName(spec)}.${spec.namespace} created`);
          await rollout(primaryName(spec));
        }
        for (const o of routingObjects(spec, target())) {
          const r = s.apply(o);
          if (r.outcome === 'created') this.emit(spec, `${o.kind} ${o.metadata.name}.${spec.namespace} created`);
        }
        if (s.apply(virtualService(spec, 0)).outcome !== 'unchanged') this.emit(spec, `VirtualService ${spec.apex}.${spec.namespace} updated`);
        await this.o.push.converged();
        return;
      }
      case 'setWeight':
        s.apply(virtualService(spec, a.weight));
        await this.o.push.converged();
        return;
      case 'scaleTarget': {
        const t = target();
        const primary = s.get('Deployment', spec.namespace, primaryName(spec));
        const replicas = a.replicas === 'primary' ? Math.max(1, (primary?.spec as unknown as DeploymentSpec | undefined)?.replicas ?? 1) : 0;
        if (a.replicas === 0) this.emit(spec, `Scaling down Deployment ${spec.target}.${spec.namespace}`);
        s.apply({ ...t, spec: { ...(t.spec as object), replicas } });
        await rollout(spec.target);
        await this.o.push.converged();
        return;
      }
      case 'promote': {
        const primary = s.get('Deployment', spec.namespace, primaryName(spec));
        const replicas = (primary?.spec as unknown as DeploymentSpec | undefined)?.replicas ?? 1;
        s.apply(primaryDeployment(spec, target(), replicas));
        await rollout(primaryName(spec));
        await this.o.push.converged();
        return;
      }
    }
  }

  /** `metricsProvider`: on a check's event, the provider whose data it was judged on. */
  private emit(spec: CanarySpec, msg: string, metricsProvider?: string): void {
    const line = JSON.stringify({ level: 'info', ts: new Date().toISOString(), caller: 'controller/events.go:33', msg, canary: `${spec.name}.${spec.namespace}`, ...(metricsProvider ? { metricsProvider } : {}) });
    try {
      mkdirSync(dirname(this.o.logFile), { recursive: true });
      appendFileSync(this.o.logFile, line + '\n');
    } catch (err) {
      this.o.log(`canary log: ${(err as Error).message}`);
    }
  }
}

function deploymentReady(d: KubeObject): boolean {
  const want = (d.spec as unknown as DeploymentSpec).replicas ?? 1;
  const st = (d.status ?? {}) as { readyReplicas?: number; updatedReplicas?: number; observedGeneration?: number };
  return (st.readyReplicas ?? 0) >= want && (st.updatedReplicas ?? 0) >= want && (st.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}
