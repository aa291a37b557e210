import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KubeObject } from '../model/objects.js';
import type { ObjectStore } from './store.js';

/** Kinds the lab recreates itself on start; persisting them would resurrect dead processes. */
const EPHEMERAL_KINDS = new Set(['Pod']);

/**
 * Keeps the store on disk so a restarted control plane comes back with the same config.
 * Writes are coalesced and atomic (write to a temp file, then rename).
 */
export class StorePersistence {
  private pending: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly file: string,
  ) {}

  load(): KubeObject[] {
    if (!existsSync(this.file)) return [];
    const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as { objects?: KubeObject[] };
    const objects = parsed.objects ?? [];
    for (const o of objects) this.store.restore(o);
    return objects;
  }

  start(): () => void {
    return this.store.watch((e) => {
      if (EPHEMERAL_KINDS.has(e.object.kind)) return;
      this.schedule();
    });
  }

  flush(): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
    const objects = this.store.all().filter((o) => !EPHEMERAL_KINDS.has(o.kind));
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ objects }, null, 1));
    renameSync(tmp, this.file);
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => this.flush(), 50);
    this.pending.unref();
  }
}
