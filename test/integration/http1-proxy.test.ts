/**
 * HTTP/1.1 behaviour of the proxy, checked only from the outside: raw TCP sockets (node:net) on
 * the client side, node:http servers as upstreams. Nothing here depends on how the proxy speaks
 * HTTP internally, so the same file must pass on any engine behind `Proxy`.
 *
 * Covered: keep-alive, pipelining, request/response body framing (content-length, chunked, big
 * bodies), HEAD/204/304, HTTP/1.0, Expect: 100-continue, hop-by-hop headers, malformed requests
 * (400 + DPE), client disconnect (DC), upstream disconnect mid-body (UC), upstream connection
 * reuse, oversized request heads and absolute-form request targets.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyTable, Route } from '../../src/model/table.js';
import { Proxy } from '../../src/proxy/proxy.js';
import { parseAccessLogLines, type ParsedAccessLog } from '../../src/proxy/telemetry/access-log.js';
import { freePort } from '../../src/runtime/addresses.js';
import { httpRequest, waitFor } from '../helpers/lab.js';

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.x client: writes bytes as given, parses responses incrementally.
// ---------------------------------------------------------------------------------------------

interface RawResponse {
  version: string;
  status: number;
  reason: string;
  /** In wire order, names lowercased. */
  headers: Array<[string, string]>;
  body: Buffer;
  /** How the body was delimited. */
  framing: 'none' | 'content-length' | 'chunked' | 'close';
  /** The connection ended before the declared body was complete (only with `allowTruncated`). */
  truncated: boolean;
}

function headerValues(r: RawResponse, name: string): string[] {
  return r.headers.filter(([n]) => n === name).map(([, v]) => v);
}

function header(r: RawResponse, name: string): string | undefined {
  const v = headerValues(r, name);
  return v.length === 0 ? undefined : v.join(', ');
}

class RawConn {
  private buf: Buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  /** The peer ended or the socket closed/errored: no more bytes will come. */
  ended = false;
  error: NodeJS.ErrnoException | undefined;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.signal();
    });
    const end = () => {
      this.ended = true;
      this.signal();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', (e: NodeJS.ErrnoException) => {
      this.error = e;
      end();
    });
    this.closed = new Promise((r) => socket.once('close', () => r()));
  }

  static open(port: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        const c = new RawConn(socket);
        conns.add(c);
        resolve(c);
      });
    });
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /** Queues bytes (errors after the peer closed are recorded, not thrown). */
  send(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Writes and waits until the bytes are handed to the kernel. */
  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, (err) => (err ? reject(err) : resolve()));
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Resolves when the connection is closed by the peer (bounded wait). */
  async waitEnded(what = 'connection close', timeoutMs = 10_000): Promise<void> {
    await this.until(() => (this.ended ? true : undefined), what, timeoutMs, true);
  }

  /** For failure messages: what is buffered, and how the connection stands. */
  private describe(): string {
    const preview = JSON.stringify(this.buf.subarray(0, 300).toString('latin1'));
    return `${this.buf.length} unread bytes: ${preview}${this.ended ? ', connection ended' : ''}${this.error ? `, error ${this.error.code}` : ''}`;
  }

  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async until<T>(probe: () => T | undefined, what: string, timeoutMs = 10_000, endIsOk = false): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = probe();
      if (v !== undefined) return v;
      if (this.ended && !endIsOk) throw new Error(`connection ended while waiting for ${what} (${this.describe()})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what} (${this.describe()})`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  /**
   * The next response on the connection (1xx responses are returned like any other).
   * `head`: the request was HEAD (no body whatever the headers say).
   * `allowTruncated`: return what arrived when the connection ends mid-body instead of failing.
   */
  readResponse(opts: { head?: boolean; allowTruncated?: boolean } = {}): Promise<RawResponse> {
    return this.until(() => this.parse(opts), 'a response');
  }

  /** Bytes left unread on the connection (e.g. anything sent after a response). */
  get unread(): Buffer {
    return this.buf;
  }

  private parse(opts: { head?: boolean; allowTruncated?: boolean }): RawResponse | undefined {
    const buf = this.buf;
    const headEnd = buf.indexOf('\r\n\r\n');
    if (headEnd < 0) return undefined;
    const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
    const m = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0]!);
    if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
    const headers: Array<[string, string]> = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`bad header line ${JSON.stringify(line)}`);
      headers.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]);
    }
    const status = Number(m[2]);
    const base = { version: m[1]!, status, reason: m[3] ?? '', headers, truncated: false };
    const start = headEnd + 4;
    const done = (body: Buffer, framing: RawResponse['framing'], end: number, truncated = false): RawResponse => {
      this.buf = buf.subarray(end);
      return { ...base, body, framing, truncated };
    };

    if (opts.head || status < 200 || status === 204 || status === 304) return done(Buffer.alloc(0), 'none', start);

    const te = headers.filter(([n]) => n === 'transfer-encoding').map(([, v]) => v.toLowerCase());
    if (te.length > 0 && te.join(',').split(',').pop()!.trim() === 'chunked') {
      const parts: Buffer[] = [];
      let pos = start;
      for (;;) {
        const eol = buf.indexOf('\r\n', pos);
        if (eol < 0) return this.truncatedOr(opts, () => done(Buffer.concat(parts), 'chunked', buf.length, true));
        const sizeText = buf.subarray(pos, eol).toString('latin1').split(';')[0]!.trim();
        if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`bad chunk size ${JSON.stringify(sizeText)}`);
        const size = parseInt(sizeText, 16);
        if (size === 0) {
          // Trailers (if any) end with an empty line.
          let tpos = eol + 2;
          for (;;) {
            const teol = buf.indexOf('\r\n', tpos);
            if (teol < 0) return this.truncatedOr(opts, () => done(Buffer.concat(parts), 'chunked', buf.length, true));
            if (teol === tpos) return done(Buffer.concat(parts), 'chunked', teol + 2);
            tpos = teol + 2;
          }
        }
        if (buf.length < eol + 2 + size + 2) {
          return this.truncatedOr(opts, () => done(Buffer.concat([...parts, buf.subarray(eol + 2, Math.min(buf.length, eol + 2 + size))]), 'chunked', buf.length, true));
        }
        if (buf[eol + 2 + size] !== 0x0d || buf[eol + 3 + size] !== 0x0a) throw new Error('chunk not followed by CRLF');
        parts.push(buf.subarray(eol + 2, eol + 2 + size));
        pos = eol + 4 + size;
      }
    }

    const cls = headers.filter(([n]) => n === 'content-length').map(([, v]) => v);
    if (cls.length > 1) throw new Error(`several content-length headers: ${cls.join(' | ')}`);
    const cl = cls[0];
    if (cl !== undefined) {
      const n = Number(cl);
      if (!Number.isInteger(n) || n < 0) throw new Error(`bad content-length ${cl}`);
      if (buf.length - start >= n) return done(buf.subarray(start, start + n), 'content-length', start + n);
      return this.truncatedOr(opts, () => done(buf.subarray(start), 'content-length', buf.length, true));
    }
    // Neither: the body runs until the connection closes.
    if (!this.ended) return undefined;
    return done(buf.subarray(start), 'close', buf.length);
  }

  private truncatedOr(opts: { allowTruncated?: boolean }, make: () => RawResponse): RawResponse | undefined {
    return opts.allowTruncated && this.ended ? make() : undefined;
  }
}

const conns = new Set<RawConn>();

// ---------------------------------------------------------------------------------------------
// Upstreams and proxy.
// ---------------------------------------------------------------------------------------------

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  /** The request body was read to its end. */
  complete: boolean;
  /** The exchange was closed before the response finished (the proxy reset it). */
  aborted: boolean;
  socket: Socket;
}

/** Deterministic payload bytes. */
function pattern(n: number, seed = 0): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed + (i >> 8)) & 0xff;
  return b;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let upA: Server;
let upB: Server;
let proxy: Proxy;
let proxyPort = 0;
let logText = '';
const seenA: Seen[] = [];
const seenB: Seen[] = [];
const timers = new Set<NodeJS.Timeout>();
let pipe2Answered: () => void = () => {};
const pipe2 = new Promise<void>((r) => (pipe2Answered = r));

function record(list: Seen[], req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): Seen {
  const s: Seen = {
    method: req.method ?? '',
    url: req.url ?? '',
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    body: Buffer.alloc(0),
    complete: false,
    aborted: false,
    socket: req.socket,
  };
  list.push(s);
  res.on('close', () => {
    if (!res.writableFinished) s.aborted = true;
  });
  return s;
}

function upstreamA(): Server {
  return createServer((req, res) => {
    const s = record(seenA, req, res);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      s.body = Buffer.concat(chunks);
      s.complete = true;
      respondA(s, res);
    });
  });
}

function respondA(s: Seen, res: import('node:http').ServerResponse): void {
  const path = s.url.split('?')[0]!;
  const parts = path.split('/').slice(2); // ['', 'a', ...rest]
  const kind = parts[0];
  if (kind === 'len') {
    const body = pattern(Number(parts[1]));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  } else if (kind === 'chunked') {
    const body = pattern(Number(parts[1]));
    const n = Number(parts[2]);
    const size = Math.ceil(body.length / n);
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    let i = 0;
    const next = () => {
      if (i >= body.length) return void res.end();
      const piece = body.subarray(i, i + size);
      i += size;
      res.write(piece, () => next());
    };
    next();
  } else if (kind === 'head') {
    res.writeHead(200, { 'content-length': '1234', 'content-type': 'text/plain' });
    res.end();
  } else if (kind === 'status') {
    res.writeHead(Number(parts[1]), Number(parts[1]) === 304 ? { etag: '"v1"' } : {});
    res.end();
  } else if (kind === 'cookies') {
    res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
    res.end('cookies');
  } else if (kind === 'hang') {
    // Never answers.
  } else if (kind === 'cut') {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 100_000 });
    res.write(pattern(10_000), () => res.socket?.destroy());
  } else if (kind === 'pipe') {
    const i = Number(parts[1]);
    const body = ['first', 'second', 'third'][i - 1]!;
    if (i === 1) {
      // Held until the 2nd reply went out (if the proxy forwards pipelined requests concurrently),
      // or a bounded fallback for engines that forward them one at a time.
      const t = setTimeout(() => res.end(body), 1000);
      timers.add(t);
      void pipe2.then(() => {
        clearTimeout(t);
        if (!res.writableEnded) res.end(body);
      });
    } else if (i === 2) res.end(body, () => pipe2Answered());
    else res.end(body);
  } else {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`ok ${s.url}`);
  }
}

const route = (name: string, prefix: string, cluster: string): Route => ({
  name,
  matches: [{ uri: { prefix } }],
  action: { kind: 'route', clusters: [{ cluster, weight: 1 }], mirrors: [] },
});

function listen(s: Server): Promise<number> {
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
}

beforeAll(async () => {
  upA = upstreamA();
  upB = createServer((req, res) => {
    const s = record(seenB, req, res);
    req.resume();
    req.on('end', () => {
      s.complete = true;
      res.end(`b ${s.url}`);
    });
  });
  const portA = await listen(upA);
  const portB = await listen(upB);
  proxyPort = await freePort();
  proxy = new Proxy({ adminHost: '127.0.0.1', adminPort: 0, write: (t) => (logText += t.toString()) });
  await proxy.start();
  const table: ProxyTable = {
    version: 'http1',
    node: { id: 'router~127.0.0.1~gw.istio-system~istio-system.svc.cluster.local', role: 'gateway', pod: 'gw', namespace: 'istio-system', ip: '127.0.0.1', labels: {}, workload: 'gw' },
    listeners: [{ name: '0.0.0.0_80', direction: 'gateway', bindAddress: '127.0.0.1', bindPort: proxyPort, port: 80, routeConfig: 'http.80' }],
    routeConfigs: {
      'http.80': {
        name: 'http.80',
        virtualHosts: [{ name: 'test:80', domains: ['test'], routes: [route('a', '/a/', 'a'), route('b', '/b/', 'b')] }],
      },
    },
    clusters: {
      a: { name: 'a', type: 'eds', lb: 'ROUND_ROBIN', endpoints: [{ address: '127.0.0.1', port: portA }] },
      b: { name: 'b', type: 'eds', lb: 'ROUND_ROBIN', endpoints: [{ address: '127.0.0.1', port: portB }] },
    },
    hosts: {},
    telemetry: { accessLog: true, metrics: true },
  };
  const applied = await proxy.apply(table);
  expect(applied.errors).toEqual([]);
});

afterAll(async () => {
  for (const t of timers) clearTimeout(t);
  for (const c of conns) c.destroy();
  // Upstream connections first, so no proxied exchange can hold the proxy's shutdown open.
  const ups = [upA, upB].filter((s): s is Server => s !== undefined);
  const closing = ups.map((s) => new Promise((r) => s.close(r)));
  for (const s of ups) s.closeAllConnections();
  await proxy?.stop();
  await Promise.all(closing);
});

// ---------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------

function logLine(pred: (l: ParsedAccessLog) => boolean, what: string): Promise<ParsedAccessLog> {
  return waitFor(async () => parseAccessLogLines(logText).find(pred), `access log line for ${what}`);
}

const logFor = (requestId: string) => logLine((l) => l.requestId === requestId, requestId);

const flagsOf = (l: ParsedAccessLog) => l.responseFlags.split(',');

function seen(list: Seen[], url: string): Promise<Seen> {
  return waitFor(async () => list.find((s) => s.url === url), `upstream request ${url}`);
}

function get(path: string, extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;
}

/** The proxy still answers a plain request on a new connection. */
async function stillServing(tag: string): Promise<void> {
  const r = await httpRequest({ host: '127.0.0.1', port: proxyPort, path: `/a/still/${tag}`, headers: { host: 'test' } });
  expect(r.status).toBe(200);
  expect(r.body).toBe(`ok /a/still/${tag}`);
}

// ---------------------------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------------------------

describe('HTTP/1.1 connection handling', () => {
  it('keep-alive: three sequential requests on one socket are answered in order', async () => {
    const c = await RawConn.open(proxyPort);
    for (const i of [1, 2, 3]) {
      c.send(get(`/a/ka/${i}`, `x-request-id: ka-${i}\r\n`));
      const r = await c.readResponse();
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe(`ok /a/ka/${i}`);
      expect(header(r, 'connection')?.toLowerCase()).not.toBe('close');
    }
    expect(c.ended).toBe(false);
    expect(seenA.filter((s) => s.url.startsWith('/a/ka/')).map((s) => s.url)).toEqual(['/a/ka/1', '/a/ka/2', '/a/ka/3']);
    for (const i of [1, 2, 3]) expect((await logFor(`ka-${i}`)).responseCode).toBe('200');
    c.destroy();
  });

  it('pipelining: three requests in one write are answered in request order', async () => {
    const c = await RawConn.open(proxyPort);
    c.send([1, 2, 3].map((i) => get(`/a/pipe/${i}`, `x-request-id: pipe-${i}\r\n`)).join(''));
    const bodies: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await c.readResponse();
      expect(r.status).toBe(200);
      bodies.push(r.body.toString());
    }
    expect(bodies).toEqual(['first', 'second', 'third']);
    expect(c.ended).toBe(false);
    expect(c.unread.length).toBe(0);
    c.destroy();
  });

  it('HEAD: content-length is passed on without a body and the connection stays usable', async () => {
    const c = await RawConn.open(proxyPort);
    c.send(`HEAD /a/head HTTP/1.1\r\nHost: test\r\nx-request-id: head-1\r\n\r\n`);
    const r = await c.readResponse({ head: true });
    expect(r.status).toBe(200);
    expect(header(r, 'content-length')).toBe('1234');
    c.send(get('/a/after-head'));
    const next = await c.readResponse();
    expect(next.status).toBe(200);
    expect(next.body.toString()).toBe('ok /a/after-head');
    expect((await seen(seenA, '/a/head')).method).toBe('HEAD');
    expect((await logFor('head-1')).responseCode).toBe('200');
    c.destroy();
  });

  it.each([204, 304])('%i: no body, connection reusable', async (code) => {
    const c = await RawConn.open(proxyPort);
    c.send(get(`/a/status/${code}`, `x-request-id: status-${code}\r\n`));
    const r = await c.readResponse();
    expect(r.status).toBe(code);
    expect(r.body.length).toBe(0);
    expect(header(r, 'transfer-encoding')).toBeUndefined();
    c.send(get(`/a/after-${code}`));
    const next = await c.readResponse();
    expect(next.status).toBe(200);
    expect(next.body.toString()).toBe(`ok /a/after-${code}`);
    const line = await logFor(`status-${code}`);
    expect(line.responseCode).toBe(String(code));
    expect(line.bytesSent).toBe('0');
    c.destroy();
  });

  it('HTTP/1.0 without keep-alive: answered, then the proxy closes the connection', async () => {
    const c = await RawConn.open(proxyPort);
    c.send(`GET /a/h10 HTTP/1.0\r\nHost: test\r\n\r\n`);
    const r = await c.readResponse();
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('ok /a/h10');
    await c.waitEnded('the proxy to close the HTTP/1.0 connection');
    expect(c.ended).toBe(true);
  });

  it('HTTP/1.0 with Connection: keep-alive and a chunked upstream reply: the body arrives whole, framed for HTTP/1.0', async () => {
    const c = await RawConn.open(proxyPort);
    c.send(`GET /a/chunked/30000/5 HTTP/1.0\r\nHost: test\r\nConnection: keep-alive\r\nx-request-id: h10-ka\r\n\r\n`);
    const r = await c.readResponse();
    expect(r.status).toBe(200);
    // HTTP/1.0 has no chunked coding: content-length or close-delimited.
    expect(r.framing).not.toBe('chunked');
    expect(sha(r.body)).toBe(sha(pattern(30000)));
    expect((await logFor('h10-ka')).bytesSent).toBe('30000');
    c.destroy();
  });

  it('upstream connections are reused: 20 sequential requests use at most 2 upstream connections', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await httpRequest({ host: '127.0.0.1', port: proxyPort, path: `/b/reuse/${i}`, headers: { host: 'test' } });
      expect(r.status).toBe(200);
      expect(r.body).toBe(`b /b/reuse/${i}`);
    }
    const used = seenB.filter((s) => s.url.startsWith('/b/reuse/'));
    expect(used.length).toBe(20);
    expect(new Set(used.map((s) => s.socket)).size).toBeLessThanOrEqual(2);
  });

  it('absolute-form request target: answered without a 5xx, and the connection stays usable', async () => {
    const c = await RawConn.open(proxyPort);
    c.send(`GET http://test/a/abs HTTP/1.1\r\nHost: test\r\nx-request-id: abs-1\r\n\r\n`);
    const r = await c.readResponse();
    expect(r.status).toBeLessThan(500);
    // Either routed like origin-form (Envoy) or not routed at all (404): never a crash.
    expect([200, 404]).toContain(r.status);
    if (r.status === 200) expect((await seen(seenA, '/a/abs')).method).toBe('GET');
    c.send(get('/a/after-abs'));
    const next = await c.readResponse();
    expect(next.status).toBe(200);
    expect(next.body.toString()).toBe('ok /a/after-abs');
    c.destroy();
    await stillServing('abs');
  });
});

describe('bodies', () => {
  it('content-length POST of 200 KB arrives intact (backpressure) and is logged as bytes received', async () => {
    const payload = pattern(200 * 1024, 3);
    const c = await RawConn.open(proxyPort);
    c.send(`POST /a/upload-cl HTTP/1.1\r\nHost: test\r\nx-request-id: up-cl\r\nContent-Type: application/octet-stream\r\nContent-Length: ${payload.length}\r\n\r\n`);
    c.send(payload);
    const r = await c.readResponse();
    expect(r.status).toBe(200);
    const s = await seen(seenA, '/a/upload-cl');
    expect(s.method).toBe('POST');
    expect(s.body.length).toBe(payload.length);
    expect(sha(s.body)).toBe(sha(payload));
    expect((await logFor('up-cl')).bytesReceived).toBe(String(payload.length));
    c.destroy();
  });

  it('chunked POST written by hand in pieces arrives intact and is logged as bytes received', async () => {
    const payload = pattern(50_000, 5);
    const sizes = [1, 1000, 16_384, 7, 50_000 - 1 - 1000 - 16_384 - 7];
    const encoded: Buffer[] = [];
    let off = 0;
    for (const n of sizes) {
      encoded.push(Buffer.from(`${n.toString(16)}\r\n`), payload.subarray(off, off + n), Buffer.from('\r\n'));
      off += n;
    }
    encoded.push(Buffer.from('0\r\n\r\n'));
    const wire = Buffer.concat(encoded);
    const c = await RawConn.open(proxyPort);
    await c.write(`POST /a/upload-chunked HTTP/1.1\r\nHost: test\r\nx-request-id: up-chunked\r\nTransfer-Encoding: chunked\r\n\r\n`);
    // Split at awkward places: inside a size line, inside data, inside a CRLF, inside the last chunk.
    const cuts = [2, 5, 3000, 3002, 20_000, wire.length - 3, wire.length];
    let prev = 0;
    for (const cut of cuts) {
      await c.write(wire.subarray(prev, cut));
      prev = cut;
    }
    const r = await c.readResponse();
    expect(r.status).toBe(200);
    const s = await seen(seenA, '/a/upload-chunked');
    expect(s.body.length).toBe(payload.length);
    expect(sha(s.body)).toBe(sha(payload));
    expect((await logFor('up-chunked')).bytesReceived).toBe(String(payload.length));
    c.destroy();
  });

  it.each([
    ['content-length', '/a/len/10000', 10_000],
    ['chunked (several writes, no content-length)', '/a/chunked/40000/7', 40_000],
    ['2 MB content-length', `/a/len/${2 * 1024 * 1024}`, 2 * 1024 * 1024],
  ])('response body with %s: exact bytes, logged as bytes sent', async (_name, path, size) => {
    const id = `resp-${size}`;
    const c = await RawConn.open(proxyPort);
    c.send(get(path, `x-request-id: ${id}\r\n`));
    const r = await c.readResponse();
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(size);
    expect(sha(r.body)).toBe(sha(pattern(size)));
    if (path.startsWith('/a/len/')) expect(header(r, 'content-length')).toBe(String(size));
    expect((await logFor(id)).bytesSent).toBe(String(size));
    // Still usable after a big body.
    c.send(get('/a/after-body'));
    expect((await c.readResponse()).body.toString()).toBe('ok /a/after-body');
    c.destroy();
  });

  it('Expect: 100-continue: the client gets 100 Continue before sending the body, then the final response', async () => {
    const body = 'hello world';
    const c = await RawConn.open(proxyPort);
    c.send(`POST /a/expect HTTP/1.1\r\nHost: test\r\nx-request-id: expect-1\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
    const cont = await c.readResponse();
    expect(cont.status).toBe(100);
    expect(cont.version).toBe('HTTP/1.1');
    c.send(body);
    const r = await c.readResponse();
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('ok /a/expect');
    const s = await seen(seenA, '/a/expect');
    expect(s.body.toString()).toBe(body);
    expect((await logFor('expect-1')).bytesReceived).toBe(String(body.length));
    c.destroy();
  });
});

describe('headers', () => {
  it('hop-by-hop headers are not forwarded; end-to-end ones are, repeated ones keep every value; set-cookie stays separate', async () => {
    const body = 'hop!!';
    const c = await RawConn.open(proxyPort);
    c.send(
      `POST /a/cookies HTTP/1.1\r\n` +
        `Host: test\r\n` +
        `x-request-id: hop-1\r\n` +
        `Connection: close, x-secret\r\n` +
        `x-secret: 1\r\n` +
        `Keep-Alive: timeout=5\r\n` +
        `TE: trailers\r\n` +
        `Proxy-Connection: keep-alive\r\n` +
        `Upgrade: foo/1\r\n` +
        `x-custom: 1\r\n` +
        `x-multi: first\r\n` +
        `x-multi: second\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body}`,
    );
    const r = await c.readResponse();
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('cookies');
    expect(headerValues(r, 'set-cookie')).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    // The client asked for close.
    await c.waitEnded('the proxy to honour Connection: close');

    const s = await seen(seenA, '/a/cookies');
    expect(s.body.toString()).toBe(body);
    expect(s.headers['x-secret']).toBeUndefined();
    expect(s.headers['proxy-connection']).toBeUndefined();
    expect(s.headers['keep-alive']).toBeUndefined();
    expect(s.headers['transfer-encoding']).toBeUndefined();
    expect(s.headers['x-custom']).toBe('1');
    const multi: string[] = [];
    for (let i = 0; i < s.rawHeaders.length; i += 2) {
      if (s.rawHeaders[i]!.toLowerCase() === 'x-multi') multi.push(...s.rawHeaders[i + 1]!.split(',').map((v) => v.trim()));
    }
    expect(multi).toEqual(['first', 'second']);
  });
});

describe('malformed requests', () => {
  it.each([
    ['bare LF line endings', 'GET /a/bad HTTP/1.1\nHost: test\n\n'],
    ['space before the colon of a header name', 'GET /a/bad HTTP/1.1\r\nHost: test\r\nx-bad : 1\r\n\r\n'],
    ['NUL in a header value', 'GET /a/bad HTTP/1.1\r\nHost: test\r\nx-bad: a\x00b\r\n\r\n'],
    ['\\x01 in a header value', 'GET /a/bad HTTP/1.1\r\nHost: test\r\nx-bad: a\x01b\r\n\r\n'],
    ['content-length and transfer-encoding together', 'POST /a/bad HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['content-length: abc', 'POST /a/bad HTTP/1.1\r\nHost: test\r\nContent-Length: abc\r\n\r\n'],
    ['two different content-length values', 'POST /a/bad HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'],
  ])('%s: 400, connection closed, DPE logged; the proxy keeps serving', async (name, wire) => {
    const c = await RawConn.open(proxyPort);
    const me = `127.0.0.1:${c.localPort}`;
    c.send(wire);
    const r = await c.readResponse({ allowTruncated: true });
    expect(r.status).toBe(400);
    await c.waitEnded(`the proxy to close after ${name}`);
    const line = await logLine((l) => l.downstreamRemoteAddress === me && flagsOf(l).includes('DPE'), `DPE from ${me}`);
    expect(line.responseCode).toBe('400');
    await stillServing(`bad-${name.replace(/\W+/g, '-')}`);
  });

  it('invalid chunk size in a routed request body: 400 or connection closed, DPE logged; the proxy keeps serving', async () => {
    const c = await RawConn.open(proxyPort);
    const me = `127.0.0.1:${c.localPort}`;
    await c.write('POST /a/bad-chunk HTTP/1.1\r\nHost: test\r\nx-request-id: bad-chunk\r\nTransfer-Encoding: chunked\r\n\r\n');
    c.send('5\r\nhello\r\nzz\r\n');
    await c.waitEnded('the proxy to close after a bad chunk size');
    if (c.unread.length > 0) {
      const r = await c.readResponse({ allowTruncated: true });
      expect(r.status).toBe(400);
    }
    const line = await logLine((l) => l.downstreamRemoteAddress === me && flagsOf(l).includes('DPE'), `DPE from ${me}`);
    expect(['0', '400']).toContain(line.responseCode);
    await stillServing('bad-chunk');
  });

  it('a 70 KB request header: 431 (or 400) and the connection closes; the proxy keeps serving', async () => {
    const c = await RawConn.open(proxyPort);
    c.send(get('/a/huge', `x-huge: ${'h'.repeat(70 * 1024)}\r\n`));
    const r = await c.readResponse({ allowTruncated: true });
    expect([400, 431]).toContain(r.status);
    await c.waitEnded('the proxy to close after an oversized head');
    await stillServing('huge');
  });
});

describe('disconnects', () => {
  it('client disconnect before the response: DC logged, upstream exchange closed', async () => {
    const c = await RawConn.open(proxyPort);
    c.send(get('/a/hang', 'x-request-id: dc-1\r\n'));
    const s = await seen(seenA, '/a/hang');
    c.destroy();
    const line = await logLine((l) => l.requestId === 'dc-1' && flagsOf(l).includes('DC'), 'dc-1 with DC');
    expect(line.responseCode).toBe('0');
    await waitFor(async () => (s.aborted ? true : undefined), 'the upstream exchange to close');
    await stillServing('dc');
  });

  it('upstream closes mid-body: the client gets a short body and the connection ends; UC logged', async () => {
    const c = await RawConn.open(proxyPort);
    c.send(get('/a/cut', 'x-request-id: uc-1\r\n'));
    const r = await c.readResponse({ allowTruncated: true });
    expect(r.status).toBe(200);
    expect(r.truncated).toBe(true);
    expect(r.body.length).toBeLessThan(100_000);
    expect(sha(r.body)).toBe(sha(pattern(10_000).subarray(0, r.body.length)));
    await c.waitEnded('the proxy to end the client connection');
    const line = await logFor('uc-1');
    expect(line.responseCode).toBe('200');
    expect(flagsOf(line)).toContain('UC');
    await stillServing('uc');
  });
});
