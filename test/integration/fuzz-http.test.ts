/**
 * Malformed HTTP, generated (issue 15): the corpus of test/unit/proxy/http1-fuzz-corpus.ts (request
 * lines, header blocks, Content-Length/Transfer-Encoding framing, chunked bodies, pipelined
 * sequences of good and bad requests, split into several writes, sometimes cut short) is sent
 * over raw sockets to a real Proxy as ingress gateway and as sidecar (inbound and outbound
 * listeners), in front of a node:http upstream behind a relay that records every byte the upstream
 * receives. For every case:
 *   - the connection completes or closes within a bound (no hang);
 *   - every response is well-formed HTTP/1.1, in order, one per answered request, with a status
 *     the oracle allows: Envoy's 400/431/501/505 (408 for a head that never ends) from the proxy
 *     for refused heads, which also close the connection; the upstream's answer (echoing the
 *     marker, length and hash of the payload it received) for well-formed ones;
 *   - nothing of a refused request, or of anything after it on the connection, reaches the upstream,
 *     and a request with a malformed body is never completed there;
 *   - a well-formed request on a new connection then succeeds;
 * and the proxy answers health checks throughout; its counters match what the clients saw.
 * Plus slow clients: a head that trickles in is cut with 408 after the request headers timeout,
 * logged and counted. Seeded (fast-check), bounded runs, loopback only, free ports.
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyTable, Route } from '../../src/model/table.js';
import { Proxy } from '../../src/proxy/proxy.js';
import { parseAccessLogLines } from '../../src/proxy/telemetry/access-log.js';
import { freePort } from '../../src/runtime/addresses.js';
import { waitFor } from '../helpers/lab.js';
import { caseSpec, renderCase, type CaseRequest, type RenderedCase } from '../unit/proxy/http1-fuzz-corpus.js';

const SEED = 0x15_0003;
/** Cases per listener (three listeners). */
const RUNS = 250;
/**
 * The request headers timeout of the proxies under test: short, since the corpus's cut-off heads
 * wait for it, yet far above the gaps between the writes of one case.
 */
const HEADERS_TIMEOUT_MS = 250;
/** How long a case may take before it counts as a hang. */
const CASE_BOUND_MS = 4_000;

// ---------------------------------------------------------------------------------------------
// The upstream: node:http (an independent parser) behind a relay that records every byte.
// ---------------------------------------------------------------------------------------------

let recorded = '';
interface Seen {
  marker: string;
  method: string;
  url: string;
  bytes: number;
  sha: string;
}
const completed: Seen[] = [];
let upstream: HttpServer;
let relay: Server;
let relayPort = 0;
const relaySockets = new Set<Socket>();

const sha8 = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 8);

async function startUpstream(): Promise<void> {
  upstream = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const marker = String(req.headers['x-fz'] ?? '');
      completed.push({ marker, method: req.method ?? '', url: req.url ?? '', bytes: body.length, sha: sha8(body) });
      const text = `ok ${marker} ${body.length} ${sha8(body)}`;
      // Content-Length rather than chunked, so an HTTP/1.0 client's keep-alive is kept.
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  // What node refuses gets a framed 400 (its default has no Content-Length), so the client side
  // of the proxy stays on keep-alive and the oracle stays simple.
  upstream.on('clientError', (_err, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const upstreamPort = (upstream.address() as AddressInfo).port;
  relay = createServer((down) => {
    const up = connect(upstreamPort, '127.0.0.1');
    relaySockets.add(down).add(up);
    down.on('data', (d: Buffer) => {
      recorded += d.toString('latin1');
      up.write(d);
    });
    up.on('data', (d: Buffer) => down.write(d));
    const close = () => {
      down.destroy();
      up.destroy();
      relaySockets.delete(down);
      relaySockets.delete(up);
    };
    for (const s of [down, up]) {
      s.on('end', close);
      s.on('error', close);
      s.on('close', close);
    }
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
  relayPort = (relay.address() as AddressInfo).port;
}

// ---------------------------------------------------------------------------------------------
// The proxies: an ingress gateway and a sidecar (inbound + outbound), with a short headers timeout.
// ---------------------------------------------------------------------------------------------

interface Target {
  name: string;
  proxy: Proxy;
  port: number;
  log: () => string;
}

const toUpstream = (cluster: string): Route => ({
  name: 'fz',
  matches: [{ uri: { prefix: '/' } }],
  action: { kind: 'route', clusters: [{ cluster, weight: 1 }], mirrors: [] },
});

async function startProxy(role: 'gateway' | 'sidecar', listeners: (ports: number[]) => ProxyTable['listeners'], nPorts: number): Promise<{ proxy: Proxy; ports: number[]; log: () => string }> {
  let log = '';
  const proxy = new Proxy({ adminHost: '127.0.0.1', adminPort: 0, seed: 7, requestHeadersTimeoutMs: HEADERS_TIMEOUT_MS, write: (b) => (log += b.toString('latin1')) });
  await proxy.start();
  const ports: number[] = [];
  for (let i = 0; i < nPorts; i++) ports.push(await freePort());
  const endpoints = [{ address: '127.0.0.1', port: relayPort }];
  const table: ProxyTable = {
    version: `fuzz-${role}`,
    node: { id: `${role}~127.0.0.1~fz-1.ns~ns.svc.cluster.local`, role, pod: 'fz-1', namespace: 'ns', ip: '127.0.0.1', labels: { app: 'fz' }, workload: 'fz' },
    listeners: listeners(ports),
    routeConfigs: {
      'http.80': { name: 'http.80', virtualHosts: [{ name: 'test:80', domains: ['test', 'test:80'], routes: [toUpstream('outbound|80||test.ns.svc.cluster.local')] }] },
      '80': { name: '80', virtualHosts: [{ name: 'test:80', domains: ['test', 'test:80'], routes: [toUpstream('outbound|80||test.ns.svc.cluster.local')] }] },
      '*': { name: '*', virtualHosts: [] },
      'inbound|8080': { name: 'inbound|8080', virtualHosts: [{ name: 'inbound|http|8080', domains: ['*'], routes: [{ ...toUpstream('inbound|8080||'), matches: [] }] }] },
    },
    clusters: {
      'outbound|80||test.ns.svc.cluster.local': { name: 'outbound|80||test.ns.svc.cluster.local', type: 'eds', lb: 'ROUND_ROBIN', endpoints },
      'inbound|8080||': { name: 'inbound|8080||', type: 'eds', lb: 'ROUND_ROBIN', endpoints },
    },
    hosts: {},
    telemetry: { accessLog: true, metrics: true },
  };
  const applied = await proxy.apply(table);
  expect(applied.errors).toEqual([]);
  return { proxy, ports, log: () => log };
}

const targets: Target[] = [];

beforeAll(async () => {
  await startUpstream();
  const gw = await startProxy('gateway', ([p]) => [{ name: '0.0.0.0_80', direction: 'gateway', bindAddress: '127.0.0.1', bindPort: p!, port: 80, routeConfig: 'http.80' }], 1);
  targets.push({ name: 'ingress gateway', proxy: gw.proxy, port: gw.ports[0]!, log: gw.log });
  const sc = await startProxy(
    'sidecar',
    ([inb, out]) => [
      { name: 'virtualInbound:8080', direction: 'inbound', bindAddress: '127.0.0.1', bindPort: inb!, port: 8080, routeConfig: 'inbound|8080' },
      { name: 'virtualOutbound', direction: 'outbound', bindAddress: '127.0.0.1', bindPort: out!, port: 15001, routeConfig: '*' },
    ],
    2,
  );
  targets.push({ name: 'sidecar inbound', proxy: sc.proxy, port: sc.ports[0]!, log: sc.log });
  targets.push({ name: 'sidecar outbound', proxy: sc.proxy, port: sc.ports[1]!, log: sc.log });
});

afterAll(async () => {
  for (const s of relaySockets) s.destroy();
  await Promise.all([...new Set(targets.map((t) => t.proxy))].map((p) => p.stop()));
  upstream?.closeAllConnections();
  await Promise.all([new Promise((r) => relay?.close(r)), new Promise((r) => upstream?.close(r))]);
});

// ---------------------------------------------------------------------------------------------
// A client that writes raw bytes and parses what comes back.
// ---------------------------------------------------------------------------------------------

interface Response {
  status: number;
  headers: Map<string, string[]>;
  body: Buffer;
  /** Made by the proxy itself (no x-envoy-upstream-service-time). */
  local: boolean;
}

/**
 * Parses complete responses from `buf`; `methods[i]` is the method of the i-th request (HEAD has
 * no body). Interim (1xx) responses are skipped. Throws on anything that is not well-formed.
 */
function parseResponses(buf: Buffer, methods: string[], closed: boolean): { responses: Response[]; rest: number } {
  const responses: Response[] = [];
  let pos = 0;
  for (;;) {
    const headEnd = buf.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) break;
    const lines = buf.subarray(pos, headEnd).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.1 ([1-5]\d\d) [\x20-\x7e]*$/.exec(lines[0]!);
    if (!m) throw new Error(`malformed status line ${JSON.stringify(lines[0])}`);
    const status = Number(m[1]);
    const headers = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const h = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/.exec(line);
      if (!h) throw new Error(`malformed header line ${JSON.stringify(line)}`);
      const name = h[1]!.toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), h[2]!]);
    }
    let start = headEnd + 4;
    if (status < 200) {
      pos = start;
      continue;
    }
    const one = (name: string) => {
      const v = headers.get(name);
      if (v && v.length > 1) throw new Error(`repeated ${name}: ${v.join(' | ')}`);
      return v?.[0];
    };
    const cl = one('content-length');
    const te = one('transfer-encoding');
    if (cl !== undefined && te !== undefined) throw new Error('both content-length and transfer-encoding in a response');
    let body: Buffer;
    if (methods[responses.length] === 'HEAD' || status === 204 || status === 304) body = Buffer.alloc(0);
    else if (te !== undefined) {
      if (te.toLowerCase() !== 'chunked') throw new Error(`response transfer-encoding ${te}`);
      const parts: Buffer[] = [];
      let p = start;
      let done = false;
      for (;;) {
        const eol = buf.indexOf('\r\n', p);
        if (eol < 0) break;
        const size = parseInt(buf.subarray(p, eol).toString('latin1').split(';')[0]!, 16);
        if (!Number.isInteger(size)) throw new Error('bad chunk size in a response');
        if (size === 0) {
          const end = buf.indexOf('\r\n\r\n', eol);
          if (end >= 0) (p = end + 4), (done = true);
          break;
        }
        if (buf.length < eol + 4 + size) break;
        parts.push(buf.subarray(eol + 2, eol + 2 + size));
        p = eol + 4 + size;
      }
      if (!done) break;
      body = Buffer.concat(parts);
      start = p;
      pos = p;
      responses.push({ status, headers, body, local: !headers.has('x-envoy-upstream-service-time') });
      continue;
    } else if (cl !== undefined) {
      if (!/^\d+$/.test(cl)) throw new Error(`bad content-length ${cl}`);
      const n = Number(cl);
      if (buf.length < start + n) break;
      body = buf.subarray(start, start + n);
    } else {
      if (!closed) break;
      body = buf.subarray(start);
    }
    pos = start + body.length;
    responses.push({ status, headers, body, local: !headers.has('x-envoy-upstream-service-time') });
  }
  return { responses, rest: buf.length - pos };
}

interface Observed {
  responses: Response[];
  /** The status the proxy refused a request with (set by checkResponses). */
  refusal?: number;
  closed: boolean;
  hung: boolean;
  unparsed: number;
}

/** What the oracle expects of the connection as a whole. */
function plan(requests: CaseRequest[]): { answered: number; staysOpen: boolean; endAfter: number | undefined } {
  let answered = 0;
  for (const r of requests) {
    const o = r.outcome;
    if (o.kind === 'forward') {
      answered++;
      if (!o.keepAlive) return { answered, staysOpen: false, endAfter: undefined };
      continue;
    }
    // An unfinished body waits for bytes that never come: the client leaves once the answers
    // before it are in.
    if (o.kind === 'incomplete') return { answered, staysOpen: false, endAfter: answered };
    return { answered: answered + (o.kind === 'refuse' ? 1 : 0), staysOpen: false, endAfter: undefined };
  }
  return { answered, staysOpen: true, endAfter: undefined };
}

async function exchange(port: number, c: RenderedCase): Promise<Observed> {
  const methods = c.requests.map((r) => r.method);
  const { answered, staysOpen, endAfter } = plan(c.requests);
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  let buf = Buffer.alloc(0);
  let closed = false;
  let wake: (() => void) | undefined;
  const signal = () => wake?.();
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    signal();
  });
  socket.on('close', () => {
    closed = true;
    signal();
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let prev = 0;
  for (const cut of [...c.cuts, c.wire.length]) {
    if (socket.destroyed) break;
    await new Promise<void>((r) => socket.write(c.wire.subarray(prev, cut), () => r()));
    prev = cut;
  }
  const deadline = Date.now() + CASE_BOUND_MS;
  let ended = false;
  let hung = false;
  for (;;) {
    const { responses } = parseResponses(buf, methods, closed);
    if (closed) break;
    if (staysOpen && responses.length >= answered) break;
    if (endAfter !== undefined && !ended && responses.length >= endAfter) {
      ended = true;
      socket.end();
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      hung = true;
      break;
    }
    await new Promise<void>((r) => {
      const t = setTimeout(r, Math.min(left, 50));
      wake = () => {
        clearTimeout(t);
        r();
      };
    });
  }
  wake = undefined;
  socket.destroy();
  const { responses, rest } = parseResponses(buf, methods, closed);
  return { responses, closed, hung, unparsed: rest };
}

// ---------------------------------------------------------------------------------------------
// The properties.
// ---------------------------------------------------------------------------------------------

const show = (c: RenderedCase) => c.requests.map((r) => `[${r.outcome.kind}] ${JSON.stringify(r.wire.toString('latin1').slice(0, 300))}`).join('\n  ');

/** Checks the responses against the oracle; returns the index of the request the connection ended at (or the count). */
function checkResponses(c: RenderedCase, o: Observed): number {
  const fail = (msg: string): never => {
    throw new Error(`${msg}\n  case:\n  ${show(c)}\n  responses: ${o.responses.map((r) => `${r.status}${r.local ? ' (local)' : ''}`).join(', ')}${o.closed ? ', closed' : ''}`);
  };
  if (o.hung) fail(`no close or completion within ${CASE_BOUND_MS} ms`);
  let ri = 0;
  for (let i = 0; i < c.requests.length; i++) {
    const req = c.requests[i]!;
    const oc = req.outcome;
    const r = o.responses[ri];
    if (oc.kind === 'forward') {
      if (!r) fail(`no response to well-formed request ${i}`);
      ri++;
      if (!oc.statuses.includes(r!.status)) fail(`request ${i}: status ${r!.status}, expected one of ${oc.statuses}`);
      if (oc.via === 'upstream' && r!.local && !oc.mayRefuse) fail(`request ${i}: answered by the proxy, expected the upstream`);
      if (oc.via === 'local' && !r!.local) fail(`request ${i}: answered by the upstream, expected the proxy`);
      if (!r!.local && r!.status === 200 && !oc.head) {
        // The upstream echoes what it received: this request's marker, its exact payload.
        const want = `ok ${req.marker} ${oc.payload.length} ${sha8(oc.payload)}`;
        if (r!.body.toString('latin1') !== want) fail(`request ${i}: upstream saw ${JSON.stringify(r!.body.toString('latin1'))}, expected ${JSON.stringify(want)}`);
      }
      const closes = r!.headers.get('connection')?.some((v) => v.toLowerCase() === 'close') ?? false;
      if (!oc.keepAlive) {
        if (!o.closed) fail(`request ${i}: the connection stayed open after a non-keep-alive exchange`);
        return i + 1;
      }
      if (closes && !oc.mayRefuse) fail(`request ${i}: connection: close on a keep-alive exchange`);
      if (closes) return i + 1;
      continue;
    }
    if (!o.closed) fail(`request ${i} (${oc.kind}): the connection stayed open`);
    if (oc.kind === 'refuse') {
      if (!r) fail(`request ${i}: refused without a response`);
      ri++;
      if (!r!.local) fail(`request ${i}: refused head answered by the upstream`);
      if (!oc.statuses.includes(r!.status)) fail(`request ${i}: status ${r!.status}, expected one of ${oc.statuses}`);
      if (!r!.headers.get('connection')?.includes('close')) fail(`request ${i}: refusal without connection: close`);
      o.refusal = r!.status;
    } else if (r) {
      // A malformed or unfinished body: the proxy resets; only an answer it made before the
      // body failed (no route, duplicate Host) or a 400 for the body may precede that.
      ri++;
      if (!r.local) fail(`request ${i} (${oc.kind}): answered by the upstream`);
      if (![400, 404, 408].includes(r.status)) fail(`request ${i} (${oc.kind}): status ${r.status}`);
    }
    if (o.responses.length > ri) fail(`responses after the connection should have ended`);
    return i;
  }
  if (o.responses.length > ri) fail(`more responses than requests`);
  return c.requests.length;
}

/**
 * `stop` is where the connection stopped being served (checkResponses): a refused request there,
 * and every request from there on that was never read, must not reach the upstream; a request
 * whose body failed there reached it only in part.
 */
function mustNotReach(c: RenderedCase, stop: number, i: number): boolean {
  const kind = c.requests[i]!.outcome.kind;
  return i > stop || (i === stop && kind !== 'bodyError' && kind !== 'incomplete');
}

/** A plain request on a new connection is answered by the upstream. */
async function fresh(port: number, tag: string): Promise<void> {
  const c = renderCaseOf(`GET /fresh/${tag} HTTP/1.1\r\nHost: test\r\nx-fz: ${tag}\r\nConnection: close\r\n\r\n`);
  const o = await exchange(port, c);
  const r = o.responses[0];
  if (!r || r.status !== 200 || r.body.toString('latin1') !== `ok ${tag} 0 ${sha8(Buffer.alloc(0))}`) {
    throw new Error(`a fresh request after the case failed: ${r ? `${r.status} ${r.body.toString('latin1')}` : o.hung ? 'hung' : 'no response'}`);
  }
}

function renderCaseOf(wire: string): RenderedCase {
  return {
    requests: [{ marker: '', method: 'GET', wire: Buffer.from(wire, 'latin1'), outcome: { kind: 'forward', statuses: [200], via: 'upstream', mayRefuse: false, head: false, keepAlive: false, expectContinue: false, payload: Buffer.alloc(0) } }],
    wire: Buffer.from(wire, 'latin1'),
    cuts: [],
  };
}

async function adminGet(proxy: Proxy, path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${proxy.adminPort}${path}`);
  return { status: r.status, body: await r.text() };
}

/** Totals over the whole run, per proxy: what the clients saw, to compare with the proxy's counters. */
const seenRefusals = new Map<Proxy, { protocol: number; timeouts: number }>();
/** Markers that must never reach the upstream, and those that must never complete there. */
const forbidden = new Set<string>();
const neverComplete = new Set<string>();
const forwardedOk = new Map<string, { method: string; payload: Buffer }>();
let nextCase = 0;
const counts = { cases: 0, requests: 0, forward: 0, refuse: 0, bodyError: 0, incomplete: 0 };

describe('generated malformed and well-formed HTTP', () => {
  for (let t = 0; t < 3; t++) {
    it(`${['ingress gateway', 'sidecar inbound', 'sidecar outbound'][t]}: never crashes or hangs, answers as Envoy does, forwards nothing ambiguous, keeps serving`, async () => {
      const target = targets[t]!;
      const totals = seenRefusals.get(target.proxy) ?? { protocol: 0, timeouts: 0 };
      seenRefusals.set(target.proxy, totals);
      await fc.assert(
        fc.asyncProperty(caseSpec, async (spec) => {
          const id = nextCase++;
          const c = renderCase(spec, (i) => `fz${id}q${i}z`);
          const from = recorded.length;
          const o = await exchange(target.port, c);
          const stop = checkResponses(c, o);
          counts.cases++;
          for (const [i, r] of c.requests.entries()) {
            counts.requests++;
            counts[r.outcome.kind]++;
            if (mustNotReach(c, stop, i)) forbidden.add(r.marker);
            else if (r.outcome.kind === 'bodyError' || r.outcome.kind === 'incomplete') neverComplete.add(r.marker);
            else if (r.outcome.kind === 'forward' && r.outcome.via === 'upstream' && !r.outcome.mayRefuse) forwardedOk.set(r.marker, { method: r.method, payload: r.outcome.payload });
          }
          if (o.refusal === 408) totals.timeouts++;
          else if (o.refusal !== undefined) totals.protocol++;
          await fresh(target.port, `fresh${id}z`);
          // Nothing of a refused request, or of what followed it, reached the upstream.
          const since = recorded.slice(from);
          for (const [i, r] of c.requests.entries()) {
            if (mustNotReach(c, stop, i) && since.includes(r.marker)) {
              throw new Error(`request ${i} reached the upstream: ${show(c)}`);
            }
          }
          if (id % 50 === 0) expect((await adminGet(target.proxy, '/ready')).status).toBe(200);
        }),
        { seed: SEED + t, numRuns: RUNS, endOnFailure: true },
      );
      expect((await adminGet(target.proxy, '/ready')).status).toBe(200);
    }, 120_000);
  }

  it('over the whole corpus: the upstream completed exactly the well-formed requests, once each, with their payloads; the counters match', async () => {
    expect(counts.cases).toBe(3 * RUNS);
    // Every class of the corpus was exercised.
    for (const k of ['forward', 'refuse', 'bodyError', 'incomplete'] as const) expect(counts[k], JSON.stringify(counts)).toBeGreaterThan(10);
    const markersSeen = new Set(recorded.match(/fz\d+q\d+z/g) ?? []);
    for (const m of forbidden) expect(markersSeen.has(m), `${m} reached the upstream`).toBe(false);
    const byMarker = new Map<string, number>();
    for (const s of completed) byMarker.set(s.marker, (byMarker.get(s.marker) ?? 0) + 1);
    for (const m of neverComplete) expect(byMarker.has(m), `${m} completed upstream with a malformed or unfinished body`).toBe(false);
    for (const s of completed) {
      if (s.marker.startsWith('fresh')) continue;
      // Everything the upstream completed was a request the oracle calls well-formed.
      expect(forbidden.has(s.marker) || neverComplete.has(s.marker), `${s.marker} completed upstream`).toBe(false);
      const want = forwardedOk.get(s.marker);
      if (want) expect([s.bytes, s.sha]).toEqual([want.payload.length, sha8(want.payload)]);
    }
    for (const m of forwardedOk.keys()) expect(byMarker.get(m), `${m} completed upstream`).toBe(1);
    for (const [proxy, seen] of seenRefusals) {
      const stats = JSON.parse((await adminGet(proxy, '/stats')).body) as Record<string, number>;
      expect(stats.downstream_rq_header_timeout).toBe(seen.timeouts);
      expect(stats.downstream_cx_protocol_error).toBe(seen.protocol);
    }
    console.log(`fuzz corpus: ${JSON.stringify(counts)}`);
  });
});

// ---------------------------------------------------------------------------------------------
// What the corpus found, pinned.
// ---------------------------------------------------------------------------------------------

describe('regressions found by the corpus', () => {
  const fwd = (keepAlive: boolean): CaseRequest['outcome'] => ({ kind: 'forward', statuses: [200], via: 'either', mayRefuse: false, head: false, keepAlive, expectContinue: false, payload: Buffer.alloc(0) });
  const send = (port: number, outcomes: CaseRequest['outcome'][], wire: string) =>
    exchange(port, { requests: outcomes.map((outcome) => ({ marker: '', method: 'GET', wire: Buffer.alloc(0), outcome })), wire: Buffer.from(wire, 'latin1'), cuts: [] });

  it.each([
    ['HTTP/1.0, no route', 0, 'GET * HTTP/1.0\r\nHost: test\r\n\r\n', 404],
    ['Connection: close, unknown host', 0, 'GET /fz/a HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n', 404],
    ['HTTP/1.0, duplicate Host (sidecar inbound)', 1, 'GET /fz/a HTTP/1.0\r\nHost: test\r\nHost: test\r\n\r\n', 400],
    ['HTTP/1.0, origin-form without Host (sidecar outbound)', 2, 'GET /fz/a HTTP/1.0\r\n\r\n', 400],
  ])('a request pipelined after a local reply that closes the connection (%s) is neither answered nor forwarded', async (_name, t, first, status) => {
    const target = targets[t]!;
    const from = recorded.length;
    const o = await send(target.port, [fwd(false), fwd(true)], `${first}GET /fz/after HTTP/1.1\r\nHost: test\r\nx-fz: reg-after-close-${t}\r\n\r\n`);
    expect(o.responses.map((r) => [r.status, r.local])).toEqual([[status, true]]);
    expect(o.closed).toBe(true);
    await fresh(target.port, `reg-fresh-${t}`);
    expect(recorded.slice(from)).not.toContain(`reg-after-close-${t}`);
  });

  it('agreeing repeated Content-Length fields reach the upstream as one plain value', async () => {
    const from = recorded.length;
    const o = await send(targets[0]!.port, [fwd(true), fwd(true)], 'POST /fz/cl HTTP/1.1\r\nHost: test\r\nx-fz: reg-cl-1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhelloPOST /fz/cl HTTP/1.1\r\nHost: test\r\nx-fz: reg-cl-2\r\nContent-Length: 5, 005\r\n\r\nworld');
    expect(o.responses.map((r) => r.body.toString('latin1'))).toEqual([`ok reg-cl-1 5 ${sha8(Buffer.from('hello'))}`, `ok reg-cl-2 5 ${sha8(Buffer.from('world'))}`]);
    const sent = recorded.slice(from);
    expect(sent.match(/content-length: [^\r]*\r\n/gi)).toEqual(['content-length: 5\r\n', 'content-length: 5\r\n']);
  });

  it.each(['gzip, chunked', 'chunked, gzip', 'xchunked', 'identity'])('Transfer-Encoding: %s is answered 501 and nothing reaches the upstream', async (te) => {
    const from = recorded.length;
    const o = await send(targets[0]!.port, [{ kind: 'refuse', statuses: [501] }], `POST /fz/te HTTP/1.1\r\nHost: test\r\nx-fz: reg-te\r\nTransfer-Encoding: ${te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
    expect(o.responses.map((r) => [r.status, r.local, r.headers.get('connection')])).toEqual([[501, true, ['close']]]);
    expect(o.closed).toBe(true);
    await fresh(targets[0]!.port, 'fresh-after-te');
    expect(recorded.slice(from)).not.toContain('reg-te');
  });

  it('peer metadata with labels that are not strings does not stop the connection serving', async () => {
    const meta = (labels: string) => Buffer.from(`{"workload":"w","namespace":"n","labels":${labels}}`).toString('base64');
    const req = (i: number, labels: string) => `GET /fz/peer HTTP/1.1\r\nHost: test\r\nx-fz: reg-peer-${i}\r\nx-envoy-peer-metadata: ${meta(labels)}\r\n\r\n`;
    const o = await send(targets[1]!.port, [fwd(true), fwd(true), fwd(true)], req(1, 'null') + req(2, '{"app":5,"version":["x"]}') + req(3, '"x"'));
    expect(o.hung).toBe(false);
    expect(o.responses.map((r) => r.status)).toEqual([200, 200, 200]);
  });
});

// ---------------------------------------------------------------------------------------------
// Slow clients.
// ---------------------------------------------------------------------------------------------

describe('slow clients (request headers timeout)', () => {
  async function open(port: number): Promise<{ socket: Socket; localPort: number | undefined; text: () => string; closed: Promise<number> }> {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const localPort = socket.localPort;
    const t0 = Date.now();
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - t0)));
    return { socket, localPort, text: () => text, closed };
  }

  it('a head trickling in one byte every 20 ms is cut with 408 and closed after the timeout; logged and counted', async () => {
    const target = targets[0]!;
    const before = JSON.parse((await adminGet(target.proxy, '/stats')).body) as Record<string, number>;
    // Only lines from now on: the corpus's many connections may have used the same client port.
    const logFrom = target.log().length;
    const c = await open(target.port);
    const head = 'GET /fz/slow HTTP/1.1\r\nHost: test\r\nx-request-id: slow-1\r\n\r\n';
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < head.length && !c.socket.destroyed) c.socket.write(head[sent++]!);
    }, 20);
    const elapsed = await Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(-1), 5_000))]);
    clearInterval(timer);
    expect(elapsed).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(HEADERS_TIMEOUT_MS + 2_000);
    // Cut well before the head was complete.
    expect(sent).toBeLessThan(head.length);
    expect(c.text()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(c.text()).toContain('connection: close\r\n');
    expect(c.text().endsWith('\r\n\r\nrequest header timeout')).toBe(true);
    const local = `127.0.0.1:${c.localPort}`;
    const line = await waitFor(async () => parseAccessLogLines(target.log().slice(logFrom)).find((l) => l.downstreamRemoteAddress === local), `the 408 access log line from ${local} in ${target.log().slice(logFrom)}`);
    expect([line.responseCode, line.responseFlags, line.responseCodeDetails, line.method]).toEqual(['408', '-', 'request_header_timeout', '-']);
    const after = JSON.parse((await adminGet(target.proxy, '/stats')).body) as Record<string, number>;
    expect(after.downstream_rq_header_timeout).toBe(before.downstream_rq_header_timeout! + 1);
    await fresh(target.port, 'after-slow');
  });

  it('a head that completes in time, a slow body and an idle keep-alive connection are not cut', async () => {
    const target = targets[0]!;
    const c = await open(target.port);
    // The head in three reads, well within the timeout.
    for (const piece of ['POST /fz/ok HTTP/1.1\r\n', 'Host: test\r\nx-fz: slowbody\r\n', 'Content-Length: 5\r\n\r\n']) {
      await new Promise<void>((r) => c.socket.write(piece, () => r()));
      await new Promise((r) => setTimeout(r, 10));
    }
    // The body comes after twice the headers timeout: only the head is bounded.
    await new Promise((r) => setTimeout(r, HEADERS_TIMEOUT_MS * 2));
    c.socket.write('hello');
    await waitFor(async () => (c.text().includes(`ok slowbody 5 ${sha8(Buffer.from('hello'))}`) ? true : undefined), 'the answer to the slow body');
    // Idle between requests for twice the timeout: no timer runs while nothing is buffered.
    await new Promise((r) => setTimeout(r, HEADERS_TIMEOUT_MS * 2));
    c.socket.write('GET /fz/again HTTP/1.1\r\nHost: test\r\nx-fz: again\r\n\r\n');
    await waitFor(async () => (c.text().includes('ok again 0') ? true : undefined), 'the answer on the idle connection');
    expect(c.text()).not.toContain(' 408 ');
    c.socket.destroy();
  });
});
