/**
 * The catalog's failure injection (`/blowup`), after the book's `server.js` middleware:
 * - `{"type":"500","percentage":P}`: P percent (0-100, default 100) of `/items` requests answer 500
 *   with an empty body;
 * - `{"type":"latency","latencyMs":N,"volatile":B}`: `/items` requests wait N ms (default 1000), or a
 *   random 0..N ms when volatile;
 * - `{"type":"drop","percentage":P}`: P percent (default 100) of `/items` requests get their
 *   connection closed without an answer.
 * One rule per type (a new POST replaces it); `"active": false` keeps a rule but disables it (the
 * book's chaos script); a missing `active` means active (the book required `"active": true`).
 */
import type { Random } from '../../shared/src/random.js';

export type BlowupType = '500' | 'latency' | 'drop';

export interface Blowup {
  type: BlowupType;
  active?: boolean;
  percentage?: number;
  latencyMs?: number;
  volatile?: boolean;
  [extra: string]: unknown;
}

export type BlowupDecision =
  | { kind: 'none'; delayMs: number }
  | { kind: '500'; delayMs: number }
  | { kind: 'drop'; delayMs: number };

export class BlowupError extends Error {}

export function parseBlowup(body: unknown): Blowup {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BlowupError('blowup must be a JSON object');
  const b = body as Record<string, unknown>;
  const type = b.type === undefined || b.type === null ? '' : String(b.type);
  if (type !== '500' && type !== 'latency' && type !== 'drop') {
    throw new BlowupError(`unknown blowup type "${type}" (expected "500", "latency" or "drop")`);
  }
  for (const k of ['percentage', 'latencyMs'] as const) {
    if (b[k] !== undefined && b[k] !== null && (typeof b[k] !== 'number' || !Number.isFinite(b[k]) || (b[k] as number) < 0)) {
      throw new BlowupError(`${k} must be a non-negative number`);
    }
  }
  return { ...b, type } as Blowup;
}

export class Blowups {
  private readonly rules = new Map<BlowupType, Blowup>();

  constructor(
    private readonly random: Random,
    private readonly log: (line: string) => void,
  ) {}

  set(rule: Blowup): void {
    this.rules.set(rule.type, rule);
  }

  /** Deletes one type, or all when `type` is undefined. Returns whether anything was removed. */
  delete(type?: string): boolean {
    if (type === undefined) {
      const had = this.rules.size > 0;
      this.rules.clear();
      return had;
    }
    return this.rules.delete(type as BlowupType);
  }

  get size(): number {
    return this.rules.size;
  }

  /** The rules keyed by type, as `GET /blowup` shows them (and the `blowups: {...}` log line). */
  toJSON(): Record<string, Blowup> {
    return Object.fromEntries(this.rules);
  }

  /**
   * Decides what happens to one request (the book applies rules only to paths containing `items`).
   * Latency comes first (the request waits), then a 500, then a drop.
   */
  decide(path: string): BlowupDecision {
    if (!path.includes('items') || this.rules.size === 0) return { kind: 'none', delayMs: 0 };
    let delayMs = 0;
    const latency = this.rules.get('latency');
    if (latency && latency.active !== false) {
      let sleep = latency.latencyMs || 1000;
      if (latency.volatile) sleep = Math.floor(this.random() * sleep);
      this.log(`Sending a latency blowup for ${sleep}ms`);
      delayMs = sleep;
    }
    const e500 = this.rules.get('500');
    if (e500 && e500.active !== false && this.roll(e500)) {
      this.log('Sending a 500 blowup');
      return { kind: '500', delayMs };
    }
    const drop = this.rules.get('drop');
    if (drop && drop.active !== false && this.roll(drop)) {
      this.log('Dropping connection');
      return { kind: 'drop', delayMs };
    }
    return { kind: 'none', delayMs };
  }

  private roll(rule: Blowup): boolean {
    const percentage = typeof rule.percentage === 'number' ? rule.percentage : 100;
    const r = this.random() * 100;
    this.log(`rando is ${Math.floor(r)} and percentage is ${percentage}`);
    return r < percentage;
  }
}
