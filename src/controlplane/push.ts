/**
 * Push: on every change, one snapshot, one table per proxy, sent to the proxies whose table
 * changed. Pushes run one at a time; changes during a push make one more push afterwards
 * (coalescing, like istiod's debounce but without a fixed delay). `converged()` resolves once every
 * proxy serves a table built from a snapshot taken after the call.
 */
import { PushCompiler, type SerializedTable } from '../compiler/compile.js';
import { AdminClient } from './admin-client.js';
import type { ProxyNode, Snapshot } from '../compiler/snapshot.js';
import { TABLE_SECTIONS, type ProxyTable } from '../model/table.js';

export interface ProxyHandle {
  key: string;
  node: ProxyNode;
  adminUrl: string;
  /** Version the proxy acknowledged last. */
  version?: string;
  lastError?: string;
}

export interface PushStats {
  pushes: number;
  lastPushMs: number;
  lastProxiesUpdated: number;
}

const PUSH_TIMEOUT_MS = 10_000;

export class PushController {
  private readonly proxies = new Map<string, ProxyHandle>();
  private running: Promise<void> | undefined;
  private dirty = false;
  private generation = 0;
  private completed = 0;
  private waiters: Array<{ gen: number; resolve: () => void }> = [];
  readonly stats: PushStats = { pushes: 0, lastPushMs: 0, lastProxiesUpdated: 0 };
  /** Keep-alive connections to the proxies' admin endpoints: a push is one request per proxy. */
  private readonly client = new AdminClient();
  /** What each proxy was last sent and acknowledged, section by section (for delta pushes). */
  private readonly sent = new WeakMap<ProxyHandle, SentTable>();

  constructor(
    private readonly snapshot: () => Snapshot,
    private readonly log: (msg: string) => void,
  ) {}

  register(handle: ProxyHandle): void {
    this.proxies.set(handle.key, handle);
    this.trigger();
  }

  unregister(key: string): void {
    this.proxies.delete(key);
  }

  list(): ProxyHandle[] {
    return [...this.proxies.values()];
  }

  get(key: string): ProxyHandle | undefined {
    return this.proxies.get(key);
  }

  /** Something changed: push (now, or right after the push in progress). */
  trigger(): void {
    this.generation++;
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.running = this.loop();
  }

  /** Resolves when a push that started after this call has completed. */
  converged(): Promise<void> {
    const gen = this.generation;
    if (!this.running && this.completed >= gen) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ gen, resolve }));
  }

  /** Compiles the table a proxy would get now (for `lab proxy-config`, tests). */
  tableFor(key: string): ProxyTable | undefined {
    const p = this.proxies.get(key);
    return p ? new PushCompiler(this.snapshot()).compile(p.node) : undefined;
  }

  private async loop(): Promise<void> {
    do {
      this.dirty = false;
      const gen = this.generation;
      try {
        await this.pushOnce();
      } catch (err) {
        this.log(`push failed: ${(err as Error).message}`);
      }
      this.completed = gen;
      this.waiters = this.waiters.filter((w) => {
        if (w.gen <= gen) {
          w.resolve();
          return false;
        }
        return true;
      });
    } while (this.dirty);
    this.running = undefined;
  }

  private async pushOnce(): Promise<void> {
    const t0 = performance.now();
    const compiler = new PushCompiler(this.snapshot());
    const work: Promise<void>[] = [];
    let updated = 0;
    for (const p of this.proxies.values()) {
      const t = compiler.compileSerialized(p.node);
      if (t.table.version === p.version) continue;
      updated++;
      work.push(this.send(p, t));
    }
    await Promise.all(work);
    this.stats.pushes++;
    this.stats.lastPushMs = performance.now() - t0;
    this.stats.lastProxiesUpdated = updated;
  }

  /**
   * Sends the changed sections when the proxy still serves what it was sent last, else the whole
   * table; a proxy that lost that table (restarted) answers 409 and gets the whole table.
   */
  private async send(p: ProxyHandle, t: SerializedTable): Promise<void> {
    const url = `${p.adminUrl}/config`;
    const sent = this.sent.get(p);
    try {
      let res = sent && sent.version === p.version ? await this.client.postJson(url, deltaJson(t, sent), PUSH_TIMEOUT_MS) : undefined;
      // 409: the proxy lost the base. 400: it could not read the delta; the whole table is the
      // fallback either way (a 422 stands: the whole table would be refused the same).
      if (!res || res.status === 409 || res.status === 400) res = await this.client.postJson(url, t.json, PUSH_TIMEOUT_MS);
      const body = JSON.parse(res.body) as { version?: string; errors?: string[]; error?: string };
      if (body.version === t.table.version) this.sent.set(p, { version: t.table.version, hashes: t.hashes });
      else if (body.version !== sent?.version) this.sent.delete(p);
      if (res.status !== 200) throw new Error(body.error ?? body.errors?.join('; ') ?? `HTTP ${res.status}`);
      p.version = body.version;
      p.lastError = body.errors?.length ? body.errors.join('; ') : undefined;
      if (p.lastError) this.log(`proxy ${p.key}: ${p.lastError}`);
    } catch (err) {
      p.lastError = (err as Error).message;
      this.log(`push to ${p.key} failed: ${p.lastError}`);
    }
  }
}

interface SentTable {
  version: string;
  hashes: SerializedTable['hashes'];
}

/** A delta push: the new version, the version it applies to, and the sections that differ. */
export function deltaJson(t: SerializedTable, base: SentTable): string {
  let out = `{"version":${JSON.stringify(t.table.version)},"base":${JSON.stringify(base.version)}`;
  for (const k of TABLE_SECTIONS) if (t.hashes[k] !== base.hashes[k]) out += `,"${k}":${t.sections[k]}`;
  return out + '}';
}
