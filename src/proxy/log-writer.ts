/**
 * Access log output that never blocks the request path. process.stdout is synchronous when it is
 * a file (as for every lab proxy): one write(2) per event-loop turn stalled a loaded sidecar on
 * disk I/O — measured 12k req/s with the proxy 44% idle, against 20k with logging elsewhere. Like
 * Envoy's access log flush thread, lines go out on the thread pool, one write in flight at a time,
 * with whatever accumulated meanwhile in the next one. Memory is bounded: past MAX_PENDING_BYTES
 * lines are dropped and counted.
 */
import { write } from 'node:fs';

const MAX_PENDING_BYTES = 16 << 20;

export class AsyncFdWriter {
  private pending: string[] = [];
  private pendingBytes = 0;
  private inFlight = false;
  private idle: (() => void)[] = [];
  /** Lines lost because the output could not keep up. */
  dropped = 0;

  constructor(private readonly fd: number) {}

  readonly write = (text: string): void => {
    if (this.pendingBytes + text.length > MAX_PENDING_BYTES) {
      this.dropped++;
      return;
    }
    this.pending.push(text);
    this.pendingBytes += text.length;
    if (!this.inFlight) this.next();
  };

  private next(): void {
    if (this.pending.length === 0) return;
    const buf = Buffer.from(this.pending.join(''));
    this.pending = [];
    this.pendingBytes = 0;
    this.inFlight = true;
    this.writeAll(buf, 0);
  }

  private writeAll(buf: Buffer, offset: number): void {
    write(this.fd, buf, offset, buf.length - offset, null, (err, n) => {
      if (!err && offset + n < buf.length) return this.writeAll(buf, offset + n);
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
