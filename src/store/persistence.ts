import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { KubeObject } from '../model/objects.js';
import { staleTempFiles, writeFileAtomic, writeFileAtomicSync } from '../shared/atomic-file.js';
import { LabError } from '../shared/errors.js';
import type { ObjectStore } from './store.js';

/** Kinds the lab recreates itself on start; persisting them would resurrect dead processes. */
const EPHEMERAL_KINDS = new Set(['Pod']);

/** A store.json that cannot be read back: the lab refuses to start and leaves the file alone. */
export class StoreLoadError extends LabError {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(
      'LAB_ERR_RUNTIME',
      `the store ${file} cannot be loaded (${reason}); it is kept as it is and the lab does not start. To start with an empty store, move it aside (mv ${file} ${file}.bad) and run lab up again`,
    );
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Why `o` (the i-th entry of store.json) is not an object the store can hold, or undefined. */
function objectProblem(o: unknown, i: number): string | undefined {
  const at = `objects[${i}]`;
  if (!isRecord(o)) return `${at} is not an object`;
  if (typeof o.apiVersion !== 'string' || o.apiVersion === '') return `${at} has no apiVersion`;
  if (typeof o.kind !== 'string' || o.kind === '') return `${at} has no kind`;
  const m = o.metadata;
  if (!isRecord(m)) return `${at} (${o.kind}) has no metadata`;
  if (typeof m.name !== 'string' || m.name === '') return `${at} (${o.kind}) has no metadata.name`;
  if (m.namespace !== undefined && typeof m.namespace !== 'string') return `${at} (${o.kind} ${m.name}): metadata.namespace is not a string`;
  if (m.labels !== undefined && !isRecord(m.labels)) return `${at} (${o.kind} ${m.name}): metadata.labels is not an object`;
  if (o.spec !== undefined && !isRecord(o.spec)) return `${at} (${o.kind} ${m.name}): spec is not an object`;
  return undefined;
}

/**
 * The objects of a store file, checked; none if there is no file. Throws StoreLoadError (naming the
 * file) if it is not JSON or holds something that is not an object the store can hold. Pure read:
 * `lab up` calls it before starting anything.
 */
export function readStoreFile(file: string): KubeObject[] {
  if (!existsSync(file)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new StoreLoadError(file, (err as Error).message);
  }
  if (!isRecord(parsed)) throw new StoreLoadError(file, 'not a JSON object');
  const objects = parsed.objects ?? [];
  if (!Array.isArray(objects)) throw new StoreLoadError(file, '"objects" is not a list');
  for (let i = 0; i < objects.length; i++) {
    const problem = objectProblem(objects[i], i);
    if (problem) throw new StoreLoadError(file, problem);
  }
  return objects as KubeObject[];
}

/**
 * Keeps the store on disk so a restarted control plane comes back with the same config.
 * Writes are coalesced and atomic (a temp file in the same folder, fsync, rename: a crash at any
 * point leaves the previous store.json or the new one). Scheduled writes go through the thread
 * pool, so a push in progress is not held up by the disk; flush() (shutdown) is synchronous.
 * If load() failed, nothing is ever written: the file that did not load is kept for the user.
 */
export class StorePersistence {
  private pending: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private flushes = 0;
  private loadFailed = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly file: string,
  ) {}

  /** Restores the file's objects into the store; throws StoreLoadError (and then never writes) if it cannot. */
  load(): KubeObject[] {
    let objects: KubeObject[];
    try {
      objects = readStoreFile(this.file);
    } catch (err) {
      this.loadFailed = true;
      throw err;
    }
    // What a write interrupted by a crash left behind: never renamed, so never the store.
    for (const tmp of staleTempFiles(this.file)) rmSync(tmp, { force: true });
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
    if (this.loadFailed) return;
    // A scheduled write still in flight holds older content: it must not rename over this one.
    this.flushes++;
    writeFileAtomicSync(this.file, this.serialize());
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
    if (this.pending || this.loadFailed) return;
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
    try {
      await writeFileAtomic(this.file, text, { beforeRename: () => this.flushes === flushes && !this.loadFailed });
    } catch (err) {
      process.stderr.write(`store: cannot save ${this.file}: ${(err as Error).message}\n`);
    }
  }
}
