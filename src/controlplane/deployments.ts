/**
 * Deployments -> pods, like the Deployment and ReplicaSet controllers together: pods carry a
 * `pod-template-hash` label; a changed template starts new pods first and removes old ones once the
 * new ones are ready (a surge rollout, so requests keep flowing); scaling adds or removes pods.
 * Reconciles are serialized per Deployment; `rolledOut()` lets `lab apply` wait for them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../model/objects.js';
import type { DeploymentSpec } from '../model/specs.js';
import type { ObjectStore } from '../store/store.js';
import type { PodManager } from './pods.js';

export function templateHash(spec: DeploymentSpec): string {
  return createHash('sha256').update(JSON.stringify(spec.template)).digest('hex').slice(0, 10);
}

function podName(deploy: string, hash: string): string {
  const suffix = randomBytes(3).toString('hex').slice(0, 5);
  return `${deploy}-${hash}-${suffix}`;
}

export class DeploymentController {
  private readonly queues = new Map<string, Promise<void>>();
  private readonly errors = new Map<string, string>();

  constructor(
    private readonly store: ObjectStore,
    private readonly pods: PodManager,
    private readonly log: (msg: string) => void,
  ) {}

  start(): () => void {
    return this.store.watch((e) => {
      if (e.object.kind !== 'Deployment') return;
      const ns = e.object.metadata.namespace ?? 'default';
      this.enqueue(ns, e.object.metadata.name);
    });
  }

  /** Resolves once no reconcile is queued or running (after the watch is stopped, for shutdown). */
  async idle(): Promise<void> {
    while (this.queues.size > 0) await Promise.allSettled([...this.queues.values()]);
  }

  /** Resolves once every queued reconcile of these deployments has finished; returns their errors. */
  async rolledOut(refs: Array<{ namespace: string; name: string }>): Promise<string[]> {
    await Promise.all(refs.map((r) => this.queues.get(`${r.namespace}/${r.name}`)));
    return refs.map((r) => this.errors.get(`${r.namespace}/${r.name}`)).filter((e): e is string => e !== undefined);
  }

  enqueue(namespace: string, name: string): Promise<void> {
    const k = `${namespace}/${name}`;
    const prev = this.queues.get(k) ?? Promise.resolve();
    const next = prev.then(() => this.reconcile(namespace, name)).catch((err: Error) => {
      this.errors.set(k, err.message);
      this.log(`deployment ${k}: ${err.message}`);
    });
    this.queues.set(k, next);
    void next.then(() => {
      if (this.queues.get(k) === next) this.queues.delete(k);
    });
    return next;
  }

  private ownedPods(namespace: string, name: string): KubeObject[] {
    return this.store
      .list('Pod', namespace)
      .filter((p) => p.metadata.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === name));
  }

  private async reconcile(namespace: string, name: string): Promise<void> {
    const k = `${namespace}/${name}`;
    this.errors.delete(k);
    const deploy = this.store.get('Deployment', namespace, name);
    const existing = this.ownedPods(namespace, name);
    if (!deploy) {
      await Promise.all(existing.map((p) => this.pods.delete(namespace, p.metadata.name)));
      return;
    }
    const spec = deploy.spec as unknown as DeploymentSpec;
    const hash = templateHash(spec);
    const replicas = spec.replicas ?? 1;
    const labels = { ...(spec.template.metadata?.labels ?? {}), 'pod-template-hash': hash };
    const current = existing.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash && p.status?.['phase'] !== 'Failed');
    const old = existing.filter((p) => !current.includes(p));

    this.updateStatus(deploy, current.length, old.length);
    // Surge: bring up the missing pods of the new template first...
    const missing = Math.max(0, replicas - current.length);
    const creations: Promise<void>[] = [];
    for (let i = 0; i < missing; i++) {
      creations.push(
        this.pods.create(
          { name: podName(name, hash), namespace, labels, owner: { kind: 'Deployment', name } },
          spec.template,
        ),
      );
    }
    const results = await Promise.allSettled(creations);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    // ...then retire the extra and the old ones.
    const nowCurrent = this.ownedPods(namespace, name).filter((p) => p.metadata.labels?.['pod-template-hash'] === hash);
    const extra = nowCurrent.slice(replicas);
    await Promise.all([...old, ...extra].map((p) => this.pods.delete(namespace, p.metadata.name)));
    const latest = this.store.get('Deployment', namespace, name);
    if (latest) this.updateStatus(latest, Math.min(replicas, nowCurrent.length), 0);
    if (failed) throw failed.reason as Error;
  }

  private updateStatus(deploy: KubeObject, readyNew: number, oldCount: number): void {
    const ns = deploy.metadata.namespace ?? 'default';
    const spec = deploy.spec as unknown as DeploymentSpec;
    const pods = this.ownedPods(ns, deploy.metadata.name);
    const ready = pods.filter((p) => p.status?.['ready'] === true).length;
    const status = {
      observedGeneration: deploy.metadata.generation,
      replicas: pods.length,
      updatedReplicas: readyNew,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(oldCount > 0 ? { oldReplicas: oldCount } : {}),
      desiredReplicas: spec.replicas ?? 1,
    };
    if (!isDeepStrictEqual(deploy.status, status)) this.store.updateStatus('Deployment', ns, deploy.metadata.name, status);
  }

  /** Keeps readyReplicas current when pods change readiness outside a reconcile (crash, restart). */
  refreshStatuses(): void {
    for (const d of this.store.list('Deployment')) {
      if (this.queues.has(`${d.metadata.namespace}/${d.metadata.name}`)) continue;
      const spec = d.spec as unknown as DeploymentSpec;
      const hash = templateHash(spec);
      const pods = this.ownedPods(d.metadata.namespace ?? 'default', d.metadata.name);
      this.updateStatus(d, pods.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash).length, 0);
    }
  }
}
