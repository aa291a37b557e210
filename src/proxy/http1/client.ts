/**
 * The upstream side of the proxy's HTTP/1.1 engine: keep-alive connections per upstream address
 * (and source address), survived across table pushes, and one request at a time on each.
 *
 * Request bytes are written as the handler produces them (head first, body verbatim); response
 * bytes are parsed only as far as framing needs, and handed on verbatim ('raw') or de-chunked
 * ('decoded', for HTTP/1.0 clients).
 */
import { connect, type Socket } from 'node:net';
import { BodyReader, findHeadEnd, HttpParseError, parseResponseHead, type ResponseHead } from './parse.js';
import type { IdlePolicy } from './server.js';

/** Below node:http's 5 s keepAliveTimeout, so we close idle connections before servers do. */
const IDLE_TIMEOUT_MS = 4_000;
/** Idle connections are closed by one sweep per pool, not a timer per socket (see server.ts). */
const IDLE_SWEEP_MS = 1_000;
/** Idle connections kept per upstream; more are closed when released. */
const MAX_IDLE_PER_KEY = 64;

export interface UpstreamTarget {
  address: string;
  port: number;
  /** Source address to bind (a pod's loopback IP), if any. */
  localAddress?: string;
}

/**
 * - connect: no connection could be made (refused, unreachable);
 * - reset: the connection failed or closed before any response byte;
 * - truncated: it closed in the middle of the response;
 * - protocol: the response was not valid HTTP/1.1.
 */
export type UpstreamFailure = 'connect' | 'reset' | 'truncated' | 'protocol';

export interface ResponseEvents {
  /** The response head arrived; returns how the body should be delivered. */
  head(head: ResponseHead, local: { address: string; port: number }): 'raw' | 'decoded';
  data(chunk: Buffer): void;
  end(): void;
  error(kind: UpstreamFailure, err?: Error): void;
}

class UpstreamConnection {
  readonly socket: Socket;
  req: UpstreamRequest | undefined;
  connected = false;
  uses = 0;
  lastError: Error | undefined;
  /** When it was last released to the pool (Date.now()). */
  idleSince = 0;

  constructor(
    readonly key: string,
    target: UpstreamTarget,
    private readonly pool: UpstreamPool,
  ) {
    this.socket = connect({ host: target.address, port: target.port, localAddress: target.localAddress, noDelay: true });
    this.socket.on('connect', () => (this.connected = true));
    this.socket.on('data', (chunk: Buffer) => this.req?.onData(chunk));
    this.socket.on('drain', () => this.req?.onDrain?.());
    this.socket.on('error', (err) => (this.lastError = err));
    this.socket.on('close', () => {
      this.pool.forget(this);
      const req = this.req;
      this.req = undefined;
      req?.onClose(this);
    });
  }
}

export class UpstreamRequest {
  /** Called when the upstream socket can take more after write() returned false. */
  onDrain: (() => void) | undefined;
  private conn: UpstreamConnection | undefined;
  private buf: Buffer | undefined;
  private head: ResponseHead | undefined;
  private reader: BodyReader | undefined;
  private requestEnded: boolean;
  private gotBytes = false;
  private retried = false;
  private finished = false;

  constructor(
    private readonly pool: UpstreamPool,
    private readonly target: UpstreamTarget,
    private readonly headText: string,
    private readonly method: string,
    /** Nothing follows headText: the request can be re-sent as is. */
    private readonly replayable: boolean,
    private readonly events: ResponseEvents,
  ) {
    this.requestEnded = replayable;
  }

  /** The local end of the upstream connection, for the access log. */
  get localAddress(): { address: string; port: number } | undefined {
    const s = this.conn?.socket;
    return s?.localAddress ? { address: s.localAddress, port: s.localPort ?? 0 } : undefined;
  }

  start(conn: UpstreamConnection): void {
    this.conn = conn;
    conn.req = this;
    conn.uses++;
    // A previous exchange may have left it paused (backpressure that outlived its response).
    conn.socket.resume();
    conn.socket.write(this.headText, 'latin1');
  }

  write(chunk: Buffer): boolean {
    if (this.finished || !this.conn) return true;
    return this.conn.socket.write(chunk);
  }

  end(): void {
    this.requestEnded = true;
  }

  pause(): void {
    this.conn?.socket.pause();
  }

  resume(): void {
    this.conn?.socket.resume();
  }

  /** Stops the exchange and closes its connection; no more events. */
  abort(): void {
    this.stop();
  }

  /** Ends the exchange once and closes its connection; false if it had already ended. */
  private stop(): boolean {
    if (this.finished) return false;
    this.finished = true;
    const conn = this.conn;
    if (conn) {
      conn.req = undefined;
      conn.socket.destroy();
    }
    return true;
  }

  onData(chunk: Buffer): void {
    this.gotBytes = true;
    try {
      if (this.reader) {
        this.feed(chunk, 0);
        return;
      }
      let buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
      for (;;) {
        const end = findHeadEnd(buf, 0);
        if (end < 0) {
          this.buf = buf;
          return;
        }
        const head = parseResponseHead(buf, 0, end, this.method);
        // Interim responses (103 Early Hints, a stray 100) are not forwarded; the final one follows.
        if (head.status >= 100 && head.status < 200) {
          if (head.status === 101) throw new HttpParseError(400, 'http1.codec_error', 'upgrade is not supported');
          buf = buf.subarray(end);
          continue;
        }
        this.buf = undefined;
        this.head = head;
        const local = this.localAddress ?? { address: '', port: 0 };
        const mode = this.events.head(head, local);
        if (this.finished) return;
        this.reader = new BodyReader(head.framing, mode);
        if (this.reader.done) {
          this.complete(end < buf.length);
          return;
        }
        if (end < buf.length) this.feed(buf, end);
        return;
      }
    } catch (err) {
      this.fail('protocol', err as Error);
    }
  }

  private feed(chunk: Buffer, start: number): void {
    const end = this.reader!.read(chunk, start, this.events.data);
    if (this.reader!.done && !this.finished) this.complete(end < chunk.length);
  }

  /** Decoded response payload bytes so far. */
  get payloadBytes(): number {
    return this.reader?.payloadBytes ?? 0;
  }

  private complete(trailingGarbage: boolean): void {
    this.finished = true;
    const conn = this.conn!;
    conn.req = undefined;
    // Reusable only if both messages ended cleanly and the server keeps the connection.
    if (this.head!.keepAlive && this.requestEnded && !trailingGarbage) this.pool.release(conn);
    else conn.socket.destroy();
    this.events.end();
  }

  private fail(kind: UpstreamFailure, err?: Error): void {
    if (this.stop()) this.events.error(kind, err);
  }

  onClose(conn: UpstreamConnection): void {
    if (this.finished) return;
    if (this.reader) {
      // A close-delimited body ends here; any other framing was cut short.
      if (this.head!.framing.kind === 'close') {
        this.finished = true;
        this.events.end();
      } else this.fail('truncated', conn.lastError);
      return;
    }
    if (!conn.connected) return this.fail('connect', conn.lastError);
    // A kept-alive connection the server closed just as we reused it: the request never got
    // there, so a replayable one (no body still to stream) is sent again on a fresh connection (as
    // node:http and Envoy do for bodyless requests).
    if (!this.gotBytes && conn.uses > 1 && this.replayable && !this.retried) {
      this.retried = true;
      this.buf = undefined;
      this.start(this.pool.open(this.target));
      return;
    }
    this.fail('reset', conn.lastError);
  }
}

export class UpstreamPool {
  private readonly idle = new Map<string, UpstreamConnection[]>();
  private readonly all = new Set<UpstreamConnection>();
  private sweep: NodeJS.Timeout | undefined;

  constructor(private readonly idlePolicy: IdlePolicy = { timeoutMs: IDLE_TIMEOUT_MS, sweepMs: IDLE_SWEEP_MS }) {}

  /**
   * Sends a request head (complete, with the final CRLF) and returns the exchange; the body, if
   * any, follows with write()/end(). `replayable`: nothing follows `headText` (a bodyless request,
   * or one whose whole body is already in `headText`), so the request can be sent again as is.
   */
  request(target: UpstreamTarget, headText: string, method: string, replayable: boolean, events: ResponseEvents): UpstreamRequest {
    const req = new UpstreamRequest(this, target, headText, method, replayable, events);
    req.start(this.take(target) ?? this.open(target));
    return req;
  }

  /** Idle connections across all upstreams (for tests and stats). */
  get idleCount(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }

  open(target: UpstreamTarget): UpstreamConnection {
    const conn = new UpstreamConnection(keyOf(target), target, this);
    this.all.add(conn);
    return conn;
  }

  private take(target: UpstreamTarget): UpstreamConnection | undefined {
    const list = this.idle.get(keyOf(target));
    // LIFO: the most recently used connection is the least likely to have been closed by the server.
    return list?.pop();
  }

  release(conn: UpstreamConnection): void {
    let list = this.idle.get(conn.key);
    if (!list) {
      list = [];
      this.idle.set(conn.key, list);
    }
    if (list.length >= MAX_IDLE_PER_KEY) {
      conn.socket.destroy();
      return;
    }
    // Flowing while idle, so a close by the server is seen and the connection forgotten.
    conn.socket.resume();
    conn.idleSince = Date.now();
    list.push(conn);
    if (!this.sweep) {
      const { timeoutMs, sweepMs } = this.idlePolicy;
      this.sweep = setInterval(() => this.closeIdle(Date.now() - timeoutMs), sweepMs);
      this.sweep.unref();
    }
  }

  forget(conn: UpstreamConnection): void {
    this.all.delete(conn);
    const list = this.idle.get(conn.key);
    if (!list) return;
    const i = list.indexOf(conn);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.idle.delete(conn.key);
  }

  /** Closes connections idle since before `cutoff`; the sweep stops when nothing is idle. */
  private closeIdle(cutoff: number): void {
    // Lists are in release order, so the stale ones are at the front.
    for (const list of [...this.idle.values()]) {
      while (list.length > 0 && list[0]!.idleSince < cutoff) list.shift()!.socket.destroy();
    }
    if (this.idleCount === 0 && this.sweep) {
      clearInterval(this.sweep);
      this.sweep = undefined;
    }
  }

  /** Closes idle connections to addresses (`address:port`) that are no longer endpoints. */
  retain(live: ReadonlySet<string>): void {
    for (const [key, list] of this.idle) {
      if (live.has(key.slice(0, key.indexOf('|')))) continue;
      for (const c of [...list]) c.socket.destroy();
    }
  }

  /** Closes every connection, busy ones included. */
  destroy(): void {
    if (this.sweep) clearInterval(this.sweep);
    this.sweep = undefined;
    for (const c of [...this.all]) c.socket.destroy();
    this.idle.clear();
  }
}

function keyOf(t: UpstreamTarget): string {
  return `${t.address}:${t.port}|${t.localAddress ?? ''}`;
}
