import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KubeObject } from '../model/objects.js';
import type { ObjectStore } from './store.js';

/** Kinds the lab recreates itself on start; persisting them would resurrect dead processes. */
const EPHEMERAL_KINDS = new Set(['Pod']);

/**
 * Keeps the store on disk so a restarted control plane comes back with the same config.
 * Writes are coalesced and atomic (write to a temp file, then rename). Scheduled writes go through
 * the thread pool, so a push in progress is not held up by the disk; flush() (shutdown) is
 * synchronous.
 */
export class StorePersistence {
  private pending: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private flushes = 0;

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
    this.dirty = false;
    // A scheduled write still in flight holds older content: it must not rename over this one.
    this.flushes++;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, this.serialize());
    renameSync(tmp, this.file);
  }

  /** Resolves when no scheduled write is waiting or running (tests). */
  async idle(): Promise<void> {
    while (this.pending || this.writing) {
      if (this.writing) await this.writing;
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  private serialize(): string {
    const objects = this.store.all().filter((o) => !EPHEMERAL_KINDS.has(o.kind));
    return JSON.stringify({ objects }, null, 1);
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.dirty = true;
      this.writing ??= this.writeWhileDirty();
    }, 50);
    this.pending.unref();
  }

  /** One write at a time; changes made during a write get one more. */
  private async writeWhileDirty(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        await this.writeOnce();
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async writeOnce(): Promise<void> {
    const flushes = this.flushes;
    const text = this.serialize();
    const tmp = `${this.file}.async.tmp`;
    try {
      await mkdir(dirname(this.file), { recursive: true });
      await writeFile(tmp, text);
      if (this.flushes === flushes) await rename(tmp, this.file);
    } catch (err) {
      process.stderr.write(`store: cannot save ${this.file}: ${(err as Error).message}\n`);
    }
  }
}
