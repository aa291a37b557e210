/**
 * The downstream side of the proxy's HTTP/1.1 engine: a `net` server that parses requests itself
 * (see parse.ts) and hands each one to the request handler as a ServerExchange.
 *
 * Why not node:http: measured side by side, node:http's server + client cost 2.9x nginx's CPU per
 * proxied request and a raw-socket proxy 1.4x (README, design notes). The proxy needs little of
 * what node:http does — it passes bodies through verbatim — so it owns the sockets.
 *
 * One request at a time per connection; pipelined requests wait in the buffer (bounded) and are
 * answered in order. A response is complete when it is fully written AND the request body has been
 * read to its end (an unread remainder is discarded), then the next request is parsed.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { BodyReader, findHeadEnd, HttpParseError, parseRequestHead, type RequestHead } from './parse.js';
import { httpDate, statusLine } from './wire.js';

/** Buffered-but-unprocessed bytes (pipelined requests, early bodies) before reading pauses. */
const MAX_BUFFERED = 64 * 1024;
/** Bodies up to this size are copied next to their head for a single write. */
const COALESCE_MAX = 16 * 1024;
/** Envoy's default is an hour; node:http used 5 s. Idle keep-alive connections go after a minute. */
const IDLE_TIMEOUT_MS = 60_000;
/**
 * Idle connections are found by one sweep per server rather than a timer per socket: node
 * refreshes a socket's timer on every read and write, which measured about 7 % of a request's CPU.
 */
const IDLE_SWEEP_MS = 5_000;

/**
 * How long a request head may take to arrive once its first byte has (Envoy's
 * `request_headers_timeout`). Envoy leaves it off by default and Istio does not set it; the lab
 * bounds it so a client that trickles a head in (slowloris) cannot hold a connection and its
 * buffer open until the idle sweep. Long enough for any real client; tests inject a short one.
 */
export const REQUEST_HEADERS_TIMEOUT_MS = 10_000;

/** How long a keep-alive connection may sit idle, and how often that is checked (tests shorten both). */
export interface IdlePolicy {
  timeoutMs: number;
  sweepMs: number;
}

export interface ServerOptions {
  /** See REQUEST_HEADERS_TIMEOUT_MS (the default); 0 turns the timeout off. */
  requestHeadersTimeoutMs?: number;
}

export interface ConnectionInfo {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

export interface BodySink {
  data(chunk: Buffer): void;
  end(): void;
}

/** How the response body is delimited on the wire to the client. */
export type ResponseFraming = 'length' | 'chunked' | 'close' | 'none';

export interface ServerHandlers {
  request(ex: ServerExchange): void;
  /** CONNECT: the socket is handed over with the bytes that followed the head. */
  connect(head: RequestHead, socket: Socket, rest: Buffer, info: ConnectionInfo): void;
  /** A request the codec refused; a 4xx/5xx was already written and the connection closes. */
  protocolError(err: HttpParseError, info: ConnectionInfo, bytesSent: number): void;
  /** A request head did not arrive in time; a 408 was already written and the connection closes. */
  requestHeadersTimeout?(info: ConnectionInfo, bytesSent: number): void;
}

export class ServerExchange {
  headersSent = false;
  /** The response has been written in full. */
  finished = false;
  /** The request body framing was invalid (Envoy: DPE); the connection was reset. */
  protocolError: string | undefined;
  /** Called once: `true` after a complete exchange, `false` when the client went away first. */
  onClose: ((completed: boolean) => void) | undefined;
  /** Called when the client socket can take more after write() returned false. */
  onDrain: (() => void) | undefined;

  private sink: BodySink | undefined;
  private pending: Buffer[] | undefined;
  private pendingBytes = 0;
  private bodyEnded: boolean;
  private closed = false;
  private closeAfter = false;
  /** Parses the request body's framing; undefined when there is no body. */
  readonly reader: BodyReader | undefined;

  constructor(
    readonly head: RequestHead,
    readonly info: ConnectionInfo,
    private readonly conn: ServerConnection,
  ) {
    this.bodyEnded = head.framing.kind === 'none';
    if (!this.bodyEnded) this.reader = new BodyReader(head.framing, 'raw');
  }

  /** The request body has been read to its end. */
  get bodyDone(): boolean {
    return this.bodyEnded;
  }

  /** Decoded request payload bytes so far. */
  get bodyBytes(): number {
    return this.reader?.payloadBytes ?? 0;
  }

  /** The client speaks HTTP/1.1 and can take a chunked response. */
  get canChunk(): boolean {
    return this.head.minor === 1;
  }

  /** Starts delivering the request body (what arrived so far first). */
  readBody(sink: BodySink): void {
    this.sink = sink;
    const pending = this.pending;
    this.pending = undefined;
    this.pendingBytes = 0;
    if (pending) for (const c of pending) sink.data(c);
    if (this.bodyEnded) sink.end();
    this.conn.resume();
  }

  /** Nobody will read the body: drop it as it arrives so the connection stays usable. */
  discardBody(): void {
    this.readBody(DISCARD);
  }

  pauseBody(): void {
    this.conn.pause();
  }

  resumeBody(): void {
    this.conn.resume();
  }

  /** Called by the connection as body bytes are parsed. */
  deliver(chunk: Buffer): void {
    if (this.sink) {
      this.sink.data(chunk);
      return;
    }
    (this.pending ??= []).push(chunk);
    this.pendingBytes += chunk.length;
    // Nobody reads yet (target still resolving): stop reading rather than buffer without bound.
    if (this.pendingBytes > MAX_BUFFERED) this.conn.pause();
  }

  /** Called by the connection when the body is complete. */
  deliverEnd(): void {
    this.bodyEnded = true;
    this.sink?.end();
  }

  /**
   * Writes the status line and headers. `headerLines` are complete `name: value\r\n` lines; the
   * framing headers for `chunked`/`close` and the Connection header are added here.
   */
  writeHead(status: number, headerLines: string, framing: ResponseFraming, reason?: string): void {
    const text = this.headText(status, headerLines, framing, reason);
    if (text !== undefined) this.conn.writeHead(text);
  }

  /** The complete head (status line to the blank line); undefined if one was sent or it closed. */
  private headText(status: number, headerLines: string, framing: ResponseFraming, reason?: string): string | undefined {
    if (this.headersSent || this.closed) return undefined;
    this.headersSent = true;
    let text = statusLine(status, reason) + headerLines;
    if (framing === 'chunked') text += 'transfer-encoding: chunked\r\n';
    this.closeAfter = framing === 'close' || !this.head.keepAlive || this.conn.closing;
    if (this.closeAfter) text += 'connection: close\r\n';
    else if (this.head.minor === 0) text += 'connection: keep-alive\r\n';
    return text + '\r\n';
  }

  write(chunk: Buffer): boolean {
    if (this.closed) return true;
    return this.conn.write(chunk);
  }

  end(): void {
    if (this.finished || this.closed) return;
    this.finished = true;
    this.conn.responseDone(this, this.closeAfter);
  }

  /** A whole response the proxy makes itself (local replies), in one write. */
  respond(status: number, headerLines: string, body: Buffer | string): number {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    if (this.headersSent) {
      this.destroy();
      return 0;
    }
    let lines = `date: ${httpDate()}\r\ncontent-length: ${buf.length}\r\n` + headerLines;
    if (buf.length > 0 && !/^content-type:/im.test(headerLines)) lines += 'content-type: text/plain\r\n';
    const head = this.headText(status, lines, 'length');
    if (head === undefined) return 0;
    // The whole response is known: one write now, without the head's deferred flush.
    this.conn.writeWhole(head, buf.length > 0 && this.head.method !== 'HEAD' ? buf : undefined);
    this.end();
    return buf.length;
  }

  /** Resets the client connection (a response can no longer be completed). */
  destroy(): void {
    this.conn.destroy();
  }

  /** Called by the connection, exactly once. */
  close(completed: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose?.(completed);
  }
}

const DISCARD: BodySink = { data() {}, end() {} };

export class ServerConnection {
  /** Unparsed bytes (the next request, or the rest of the current one's body while paused). */
  private buf: Buffer | undefined;
  private current: ServerExchange | undefined;
  private reader: BodyReader | undefined;
  private pumping = false;
  private paused = false;
  private ended = false;
  private readonly info: ConnectionInfo;
  private pendingHead: string | undefined;
  /** No more requests are parsed on this connection (closing after a response, refused, or CONNECT). */
  private detached = false;
  /** When the last exchange ended (Date.now()), for the idle sweep. */
  private idleSince = Date.now();
  /**
   * Armed only while a request head is incomplete after a read (a head that arrives in one read,
   * the usual case, costs no timer); runs from the first read of that head, not the last.
   */
  private headTimer: NodeJS.Timeout | undefined;
  /** Set when the server is closing: the in-flight exchange finishes and the connection closes. */
  closing = false;

  constructor(
    private readonly socket: Socket,
    private readonly handlers: ServerHandlers,
    private readonly onGone: (c: ServerConnection) => void,
    private readonly headersTimeoutMs = REQUEST_HEADERS_TIMEOUT_MS,
  ) {
    this.info = {
      localAddress: socket.localAddress ?? '',
      localPort: socket.localPort ?? 0,
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
    };
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onSocketClose);
    socket.on('drain', this.onSocketDrain);
    socket.on('error', noop);
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
  }

  /**
   * The head waits for the first body bytes of the same tick so both go out in one write(2) as one
   * Buffer: cheaper than cork/writev, and one packet. A head with no body in this tick goes alone.
   */
  writeHead(text: string): void {
    this.pendingHead = text;
    process.nextTick(flushHead, this);
  }

  write(chunk: Buffer): boolean {
    const head = this.pendingHead;
    if (head === undefined) return this.socket.write(chunk);
    this.pendingHead = undefined;
    if (chunk.length > COALESCE_MAX) {
      this.socket.write(head, 'latin1');
      return this.socket.write(chunk);
    }
    const out = Buffer.allocUnsafe(head.length + chunk.length);
    out.write(head, 0, 'latin1');
    chunk.copy(out, head.length);
    return this.socket.write(out);
  }

  /** A head and, optionally, a body as one write (a response made whole by the server itself). */
  writeWhole(head: string, body: Buffer | undefined): void {
    this.flushHead();
    this.pendingHead = head;
    // write() coalesces the parked head with the body; with no body, the head goes alone.
    if (body) this.write(body);
    else this.flushHead();
  }

  flushHead(): void {
    const head = this.pendingHead;
    if (head === undefined) return;
    this.pendingHead = undefined;
    this.socket.write(head, 'latin1');
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Closes now if idle; otherwise after the current response. */
  shutdown(): void {
    this.closing = true;
    if (this.current) return;
    // A response still in the socket's buffer (e.g. the answer to /quitquitquit) goes out first.
    if (this.socket.writableLength > 0) this.socket.end();
    else this.socket.destroy();
  }

  responseDone(ex: ServerExchange, closeAfter: boolean): void {
    if (ex !== this.current) return;
    this.flushHead();
    if (closeAfter) {
      // Whatever else the client sends (the body's rest, more requests) is read and dropped.
      this.current = undefined;
      this.reader = undefined;
      this.buf = undefined;
      this.detach(true);
      this.socket.end();
      ex.close(true);
      return;
    }
    if (!this.reader) this.complete();
    // Otherwise the body is still arriving: it is discarded and the exchange completes at its end.
    else ex.discardBody();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.reader) {
      this.feedBody(chunk, 0);
      return;
    }
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    if (this.current) {
      // Pipelined bytes while a response is pending: hold them, within bounds.
      if (this.buf.length > MAX_BUFFERED) this.pause();
      return;
    }
    this.pump();
  };

  private feedBody(chunk: Buffer, start: number): void {
    const ex = this.current!;
    const reader = this.reader!;
    let end: number;
    try {
      end = reader.read(chunk, start, (slice: Buffer) => ex.deliver(slice));
    } catch (err) {
      ex.protocolError = err instanceof HttpParseError ? err.details : 'http1.codec_error';
      this.socket.destroy();
      return;
    }
    if (!reader.done) return;
    this.reader = undefined;
    if (end < chunk.length) this.buf = chunk.subarray(end);
    ex.deliverEnd();
    if (ex.finished && this.current === ex) this.complete();
    else if (this.buf && this.buf.length > MAX_BUFFERED) this.pause();
  }

  private complete(): void {
    const ex = this.current!;
    this.current = undefined;
    this.idleSince = Date.now();
    ex.close(true);
    // The server is closing: this was the last exchange on the connection.
    if (this.closing) {
      this.socket.end();
      return;
    }
    this.resume();
    this.pump();
  }

  /** Parses and dispatches buffered requests until one is in flight or the buffer runs dry. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.current && this.buf && !this.detached && !this.socket.destroyed) {
        const buf = this.buf;
        // RFC 9112 2.2: ignore empty lines before a request line.
        let start = 0;
        while (start + 1 < buf.length && buf[start] === 13 && buf[start + 1] === 10) start += 2;
        let end: number;
        let head: RequestHead;
        try {
          end = findHeadEnd(buf, start);
          if (end < 0) {
            // A head with bare-LF line ends never completes: refuse it now instead of waiting.
            if (hasBareLineFeed(buf, start)) throw new HttpParseError(400, 'http1.codec_error', 'bare LF in message head');
            if (start > 0) this.buf = buf.subarray(start);
            // Empty lines alone start no request (and leave the connection to the idle sweep).
            if (start < buf.length && this.headTimer === undefined && this.headersTimeoutMs > 0) {
              this.headTimer = setTimeout(headersTimedOut, this.headersTimeoutMs, this);
            }
            break;
          }
          if (this.headTimer !== undefined) this.clearHeadTimer();
          head = parseRequestHead(buf, start, end);
        } catch (err) {
          this.reject(err);
          return;
        }
        const rest = end < buf.length ? buf.subarray(end) : undefined;
        this.buf = undefined;
        if (head.method === 'CONNECT') {
          // Paused: bytes after the CONNECT head wait until the tunnel's pipe reads them.
          this.detach(false);
          this.handlers.connect(head, this.socket, rest ?? Buffer.alloc(0), this.info);
          return;
        }
        const ex = new ServerExchange(head, this.info, this);
        this.current = ex;
        this.reader = ex.reader;
        // Like Envoy (proxy_100_continue off): answer 100 here; Expect is not forwarded.
        if (head.expectContinue && ex.reader) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
        this.handlers.request(ex);
        if (rest) {
          if (this.reader) this.feedBody(rest, 0);
          // Unless the exchange already ended the connection (a local reply with close): what
          // follows it was never to be read, let alone forwarded.
          else if (!this.detached) this.buf = rest;
        }
      }
    } finally {
      this.pumping = false;
    }
    // A half-closed client gets its last answer, then our end of the connection closes too.
    if (this.ended && !this.current) {
      this.clearHeadTimer();
      this.socket.end();
    }
  }

  private reject(err: unknown): void {
    const e = err instanceof HttpParseError ? err : new HttpParseError(400, 'http1.codec_error');
    const body = e.status === 431 ? 'Request Header Fields Too Large' : e.status === 505 ? 'HTTP Version Not Supported' : e.status === 501 ? 'Not Implemented' : 'Bad Request';
    this.closeWith(e.status, body);
    this.handlers.protocolError(e, this.info, body.length);
  }

  /** The head in the buffer took too long (Envoy: 408 with the body `request header timeout`). */
  headersTimedOut(): void {
    this.headTimer = undefined;
    if (this.current || this.socket.destroyed || this.buf === undefined) return;
    const body = 'request header timeout';
    this.closeWith(408, body);
    this.handlers.requestHeadersTimeout?.(this.info, body.length);
  }

  /** A response made here, then the connection closes; whatever the client still sends is dropped. */
  private closeWith(status: number, body: string): void {
    this.clearHeadTimer();
    this.socket.end(`${statusLine(status)}content-length: ${body.length}\r\ncontent-type: text/plain\r\nconnection: close\r\nserver: istio-envoy\r\ndate: ${httpDate()}\r\n\r\n${body}`, 'latin1');
    this.buf = undefined;
    this.detach(true);
  }

  private clearHeadTimer(): void {
    if (this.headTimer === undefined) return;
    clearTimeout(this.headTimer);
    this.headTimer = undefined;
  }

  /** Stops parsing on this socket (CONNECT tunnel, or a refused request). */
  private detach(flowing: boolean): void {
    this.detached = true;
    const s = this.socket;
    s.off('data', this.onData);
    s.off('end', this.onEnd);
    s.off('drain', this.onSocketDrain);
    this.paused = !flowing;
    if (flowing) s.resume();
    else s.pause();
  }

  private readonly onEnd = (): void => {
    this.ended = true;
    // Like Envoy and node:http, a client that closes its side mid-exchange has gone away (DC): the
    // exchange is reset rather than answered into a half-closed socket.
    if (this.current) {
      this.socket.destroy();
      return;
    }
    this.pump();
  };

  private readonly onSocketDrain = (): void => {
    this.current?.onDrain?.();
  };

  /** Called by the server's sweep. */
  closeIfIdleSince(cutoff: number): void {
    if (!this.current && this.idleSince < cutoff) this.socket.destroy();
  }

  private readonly onSocketClose = (): void => {
    this.clearHeadTimer();
    const ex = this.current;
    this.current = undefined;
    this.reader = undefined;
    ex?.close(false);
    this.onGone(this);
  };
}

function noop(): void {}

function hasBareLineFeed(buf: Buffer, start: number): boolean {
  for (let i = buf.indexOf(10, start); i !== -1; i = buf.indexOf(10, i + 1)) if (i === start || buf[i - 1] !== 13) return true;
  return false;
}

function flushHead(conn: ServerConnection): void {
  conn.flushHead();
}

function headersTimedOut(conn: ServerConnection): void {
  conn.headersTimedOut();
}

/** A listening socket with its live connections, so close() can finish them. */
export class Http1Server {
  private readonly connections = new Set<ServerConnection>();
  private readonly server: Server;
  private readonly sweep: NodeJS.Timeout;

  constructor(handlers: ServerHandlers, idle: IdlePolicy = { timeoutMs: IDLE_TIMEOUT_MS, sweepMs: IDLE_SWEEP_MS }, opts: ServerOptions = {}) {
    const headersTimeoutMs = opts.requestHeadersTimeoutMs ?? REQUEST_HEADERS_TIMEOUT_MS;
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      const conn = new ServerConnection(socket, handlers, (c) => this.connections.delete(c), headersTimeoutMs);
      this.connections.add(conn);
    });
    this.sweep = setInterval(() => {
      const cutoff = Date.now() - idle.timeoutMs;
      for (const c of this.connections) c.closeIfIdleSince(cutoff);
    }, idle.sweepMs);
    this.sweep.unref();
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  get port(): number {
    const a = this.server.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  /** Stops accepting; idle connections close now, busy ones after their current response. */
  close(): Promise<void> {
    clearInterval(this.sweep);
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const c of this.connections) c.shutdown();
    });
  }
}

