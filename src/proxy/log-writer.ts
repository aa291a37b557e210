/**
 * Access log output that never blocks the request path. process.stdout is synchronous when it is
 * a file (as for every lab proxy): one write(2) per event-loop turn stalled a loaded sidecar on
 * disk I/O — measured 12k req/s with the proxy 44% idle, against 20k with logging elsewhere. Like
 * Envoy's access log flush thread, lines go out on the thread pool, one write in flight at a time,
 * with whatever accumulated meanwhile in the next one (one writev of the pending batches). Memory
 * is bounded: past MAX_PENDING_BYTES batches are dropped and counted.
 */
import { writev } from 'node:fs';

const MAX_PENDING_BYTES = 16 << 20;

export class AsyncFdWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private inFlight = false;
  private idle: (() => void)[] = [];
  /** Batches lost because the output could not keep up. */
  dropped = 0;

  constructor(private readonly fd: number) {}

  readonly write = (chunk: Buffer): void => {
    if (this.pendingBytes + chunk.length > MAX_PENDING_BYTES) {
      this.dropped++;
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (!this.inFlight) this.next();
  };

  private next(): void {
    if (this.pending.length === 0) return;
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.inFlight = true;
    this.writeAll(chunks);
  }

  private writeAll(chunks: Buffer[]): void {
    writev(this.fd, chunks, (err, n) => {
      if (!err) {
        const rest = unwritten(chunks, n);
        if (rest.length > 0) return this.writeAll(rest);
      }
      this.inFlight = false;
      this.next();
      if (!this.inFlight) for (const resolve of this.idle.splice(0)) resolve();
    });
  }

  /** Resolves once everything queued has been written. */
  drain(): Promise<void> {
    if (!this.inFlight && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

}

/** What is left of `chunks` after the first `written` bytes went out. */
export function unwritten(chunks: Buffer[], written: number): Buffer[] {
  let skip = written;
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    if (skip < c.length) return [c.subarray(skip), ...chunks.slice(i + 1)];
    skip -= c.length;
  }
  return [];
}
