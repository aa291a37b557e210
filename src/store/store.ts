import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { objectKey, type KubeObject } from '../model/objects.js';

export type WatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject };
export type WatchListener = (event: WatchEvent) => void;

export interface ApplyResult {
  object: KubeObject;
  /** `created`, `configured` or `unchanged`, as kubectl prints them. */
  outcome: 'created' | 'configured' | 'unchanged';
}

/**
 * The lab's API server storage: objects keyed by kind/namespace/name, with kubectl-like metadata
 * bookkeeping (uid, generation bumped on spec changes, resourceVersion on every change) and watch.
 * It holds parsed objects only; validation happens before anything reaches it.
 */
export class ObjectStore {
  private readonly objects = new Map<string, KubeObject>();
  private readonly listeners = new Set<WatchListener>();
  private revision = 0;

  get resourceVersion(): number {
    return this.revision;
  }

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(objectKey(kind, namespace, name));
  }

  list(kind?: string, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const obj of this.objects.values()) {
      if (kind !== undefined && obj.kind !== kind) continue;
      if (namespace !== undefined && (obj.metadata.namespace ?? '') !== namespace) continue;
      out.push(obj);
    }
    return out.sort(byCreationThenName);
  }

  all(): KubeObject[] {
    return [...this.objects.values()].sort(byCreationThenName);
  }

  /** Create or update (kubectl apply semantics, whole-object replace of spec/metadata.labels). */
  apply(input: KubeObject): ApplyResult {
    const key = objectKey(input.kind, input.metadata.namespace, input.metadata.name);
    const prev = this.objects.get(key);
    if (prev && sameDesiredState(prev, input)) return { object: prev, outcome: 'unchanged' };
    const now = new Date().toISOString();
    const specChanged = !prev || !isDeepStrictEqual(prev.spec, input.spec);
    const next: KubeObject = {
      ...input,
      metadata: {
        ...input.metadata,
        uid: prev?.metadata.uid ?? randomUUID(),
        creationTimestamp: prev?.metadata.creationTimestamp ?? now,
        generation: (prev?.metadata.generation ?? 0) + (specChanged ? 1 : 0),
        resourceVersion: String(++this.revision),
      },
      // Status is owned by controllers; a user's apply never overwrites it.
      status: prev?.status ?? input.status,
    };
    if (next.status === undefined) delete next.status;
    this.objects.set(key, deepFreeze(next));
    this.emit({ type: prev ? 'MODIFIED' : 'ADDED', object: next });
    return { object: next, outcome: prev ? 'configured' : 'created' };
  }

  /** Put an object back exactly as it was saved (persistence), metadata included. */
  restore(obj: KubeObject): void {
    const key = objectKey(obj.kind, obj.metadata.namespace, obj.metadata.name);
    const rv = Number(obj.metadata.resourceVersion ?? 0);
    if (rv > this.revision) this.revision = rv;
    this.objects.set(key, deepFreeze(structuredClone(obj)));
    this.emit({ type: 'ADDED', object: obj });
  }

  /** Replace the status of an existing object (controllers only). Returns false if it is gone. */
  updateStatus(kind: string, namespace: string | undefined, name: string, status: Record<string, unknown>): boolean {
    const key = objectKey(kind, namespace, name);
    const prev = this.objects.get(key);
    if (!prev) return false;
    if (isDeepStrictEqual(prev.status, status)) return true;
    const next: KubeObject = { ...prev, status, metadata: { ...prev.metadata, resourceVersion: String(++this.revision) } };
    this.objects.set(key, deepFreeze(next));
    this.emit({ type: 'MODIFIED', object: next });
    return true;
  }

  delete(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = objectKey(kind, namespace, name);
    const prev = this.objects.get(key);
    if (!prev) return undefined;
    this.objects.delete(key);
    this.revision++;
    this.emit({ type: 'DELETED', object: prev });
    return prev;
  }

  watch(listener: WatchListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: WatchEvent): void {
    for (const l of this.listeners) l(event);
  }
}

function sameDesiredState(a: KubeObject, b: KubeObject): boolean {
  return (
    a.apiVersion === b.apiVersion &&
    isDeepStrictEqual(a.spec, b.spec) &&
    isDeepStrictEqual(a.metadata.labels ?? {}, b.metadata.labels ?? {}) &&
    isDeepStrictEqual(a.metadata.annotations ?? {}, b.metadata.annotations ?? {}) &&
    isDeepStrictEqual(a.metadata.ownerReferences, b.metadata.ownerReferences) &&
    isDeepStrictEqual(otherFields(a), otherFields(b))
  );
}

function otherFields(o: KubeObject): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata: _m, spec: _s, status: _st, ...rest } = o;
  return rest;
}

function byCreationThenName(a: KubeObject, b: KubeObject): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = objectKey(a.kind, a.metadata.namespace, a.metadata.name);
  const kb = objectKey(b.kind, b.metadata.namespace, b.metadata.name);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
