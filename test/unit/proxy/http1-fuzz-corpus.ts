/**
 * A generated corpus of HTTP/1.1 requests, well-formed and malformed, each with what the proxy must
 * do with it (its oracle): request lines, header blocks, Content-Length / Transfer-Encoding framing,
 * chunked bodies, and pipelined sequences of them. Shared by the codec's unit fuzz test
 * (http1-fuzz.test.ts) and the proxy-level one (test/integration/fuzz-http.test.ts).
 *
 * Every generated piece carries the statuses its defect may be answered with (Envoy's codes: 400,
 * 431, 501, 505); a request's expectation is derived from the union of its pieces' defects, so
 * the oracle does not depend on which defect the parser happens to see first. Requests are plain
 * data (fast-check prints counterexamples readably); MARK in their text stands for a per-request
 * marker the harness fills in, so it can tell which request reached the upstream.
 */
import fc from 'fast-check';

/** Stands for the request's marker; never produced by the latin1 generators. */
export const MARK = '\u2603';

/** Tags that widen what a well-formed request may be answered with. */
type Tag =
  /** A node:http upstream may refuse it (unknown method, non-ASCII target, lenient chunk extension). */
  | 'mayRefuse'
  /** Routing depends on the listener (no Host, absolute-form or `*` target). */
  | 'routing'
  /** Two Host fields: the request path answers 400 itself. */
  | 'dupHost'
  | 'close'
  | 'keepAlive';

export interface Piece {
  text: string;
  /** Statuses a refusal of this piece may carry; empty = well-formed. */
  defects: number[];
  tags?: Tag[];
}

export interface RequestSpec {
  method: Piece;
  sp1: Piece;
  target: Piece;
  sp2: Piece;
  version: Piece;
  /** Line end after the request line. */
  eol: Piece;
  /** Complete header lines (line end included), the marker header first. */
  fields: Piece[];
  framing: Framing;
}

export type Framing =
  | { kind: 'none' }
  | { kind: 'length'; fields: Piece[]; body: number[] }
  | { kind: 'chunked'; fields: Piece[]; chunks: Piece[]; payload: number[]; bad: boolean; tags?: Tag[] };

export interface CaseSpec {
  requests: RequestSpec[];
  /** Cut the last request short (an incomplete message at the end): in its head or its body, at this fraction. */
  truncate: { inBody: boolean; at: number } | undefined;
  /** Where the wire is split into separate writes (fractions of its length). */
  splits: number[];
}

export type Outcome =
  | {
      kind: 'forward';
      /** Statuses the answer may have, and whether it comes from the upstream, the proxy, or either. */
      statuses: number[];
      via: 'upstream' | 'local' | 'either';
      mayRefuse: boolean;
      head: boolean;
      keepAlive: boolean;
      expectContinue: boolean;
      /** The payload the upstream must receive (decoded). */
      payload: Buffer;
    }
  | { kind: 'refuse'; statuses: number[] }
  | { kind: 'bodyError'; via: 'upstream' | 'local' | 'either' }
  | { kind: 'incomplete'; inHead: boolean };

export interface CaseRequest {
  marker: string;
  method: string;
  wire: Buffer;
  outcome: Outcome;
}

// ---------------------------------------------------------------------------------------------
// Pieces.
// ---------------------------------------------------------------------------------------------

const ok = (text: string, tags?: Tag[]): Piece => (tags ? { text, defects: [], tags } : { text, defects: [] });
const bad = (text: string, ...defects: number[]): Piece => ({ text, defects: defects.length > 0 ? defects : [400] });
const okOf = (...texts: string[]) => fc.constantFrom(...texts.map((t) => ok(t)));
const badOf = (...texts: string[]) => fc.constantFrom(...texts.map((t) => bad(t)));

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const tchar = fc.constantFrom(...TCHARS);
const range = (from: number, to: number) => fc.integer({ min: from, max: to }).map((c) => String.fromCharCode(c));
/** Visible ASCII and obs-text: what a field value may hold besides inner whitespace. */
const valueChar = fc.oneof({ weight: 8, arbitrary: range(0x21, 0x7e) }, { weight: 1, arbitrary: range(0x80, 0xff) }, { weight: 1, arbitrary: fc.constantFrom(' ', '\t') });
/** Control bytes a field value must not hold (CR and LF are their own defects). */
const ctl = fc.constantFrom('\x00', '\x01', '\x07', '\x08', '\x0b', '\x0c', '\x1b', '\x1f', '\x7f');

/** Names the oracle must control (framing, routing, connection handling): never random. */
const RESERVED = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'expect',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'proxy-connection',
  'x-fz',
]);

const tokenName = fc.string({ unit: tchar, minLength: 1, maxLength: 14 }).filter((n) => !RESERVED.has(n.toLowerCase()));
const fieldValue = fc
  .string({ unit: valueChar, maxLength: 40 })
  .map((v) => v.replace(/^[ \t]+|[ \t]+$/g, ''));
const ows = fc.constantFrom('', ' ', '  ', '\t', ' \t');

/** Each part of a request comes as a well-formed and a malformed generator. */
interface Variants<T> {
  good: fc.Arbitrary<T>;
  bad: fc.Arbitrary<T>;
}

export const method: Variants<Piece> = {
  good: fc.oneof(
    { weight: 8, arbitrary: okOf('GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD') },
    // Tokens, so the codec takes them; node's parser (the upstream) knows only its own list.
    { weight: 1, arbitrary: fc.constantFrom(...['FOO', 'get', 'X-CUSTOM', 'PURGE', 'M-SEARCH', 'B!T'].map((m) => ok(m, ['mayRefuse']))) },
  ),
  bad: badOf('', 'GE(T', 'G@T', 'GET/', 'G\x00T', 'G\xc9T', '[GET]', 'GET\x7f', 'GE"T'),
};

const sp: Variants<Piece> = { good: fc.constant(ok(' ')), bad: badOf('  ', '\t', '') };

const pathChars = fc.constantFrom(...'abcxyz0189-._~!$&\'()*+,;=:@/?%', '%20', '%zz', '%00', '..', '"', '<', '>', '{', '}', '|', '\\', '^', '`', '#');

export const target: Variants<Piece> = {
  good: fc.oneof(
    { weight: 10, arbitrary: fc.string({ unit: pathChars, maxLength: 6 }).map((s) => ok(`/fz/${MARK}/${s}`)) },
    { weight: 1, arbitrary: fc.constantFrom(ok(`http://test/fz/${MARK}`, ['routing']), ok(`http://test:80/fz/${MARK}?q=1`, ['routing']), ok('*', ['routing'])) },
    { weight: 1, arbitrary: fc.constantFrom(`/fz/${MARK}/\x80`, `/fz/${MARK}/\xe9t\xe9`, `/fz/${MARK}/\xff`).map((t) => ok(t, ['mayRefuse'])) },
  ),
  bad: fc.oneof(
    ctl.map((c) => bad(`/fz/${MARK}/${c}x`)),
    badOf('', `/fz/${MARK} x`, `/fz/${MARK}\t`),
  ),
};

export const version: Variants<Piece> = {
  good: okOf('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'),
  bad: fc.oneof(
    fc.constantFrom(...['HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'HTTP/3.0', 'HTTP/9.9'].map((v) => bad(v, 400, 505))),
    badOf('HTTP/1.1x', 'http/1.1', 'HTTP/1', 'HTTP/11', 'HTTP/1.10', 'HTTP 1.1', 'HTTP/1.1 ', '', 'HTTP/A.B', 'HTTP/1,1'),
  ),
};

const eol: Variants<Piece> = { good: fc.constant(ok('\r\n')), bad: badOf('\n', '\r') };

/** An ordinary field line that is fine. */
const goodField: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(tokenName, ows, fieldValue, ows).map(([n, a, v, b]) => ok(`${n}:${a}${v}${b}\r\n`)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      ok('Connection: close\r\n', ['close']),
      ok('Connection: keep-alive\r\n', ['keepAlive']),
      ok('Connection: x-drop, keep-alive\r\n', ['keepAlive']),
      ok('x-drop: 1\r\n'),
      ok('Upgrade: h2c\r\n'),
      ok('TE: trailers\r\n'),
      ok('Cookie: a=1\r\n'),
      ok('Cookie: b=2\r\n'),
      ok('x-forwarded-for: 10.0.0.1, , garbage\r\n'),
      ok('x-request-id: \r\n'),
      // A client can send the sidecars' own metadata headers; the inbound side decodes them.
      ok('x-envoy-peer-metadata: bm90IGpzb24=\r\n'),
      ok(`x-envoy-peer-metadata: ${Buffer.from('{"workload":"w","namespace":"n","labels":null}').toString('base64')}\r\n`),
      ok(`x-envoy-peer-metadata: ${Buffer.from('null').toString('base64')}\r\n`),
      ok(`x-envoy-peer-metadata: ${Buffer.from('{"workload":"w","namespace":"n","labels":{"app":5,"version":["x"]}}').toString('base64')}\r\n`),
      ok('x-lab-requested-server-name: outbound_.80_._.\xff\r\n'),
    ),
  },
);

/** Field lines the codec must refuse (400 unless noted). */
const badField: fc.Arbitrary<Piece> = fc.oneof(
  fc.tuple(tokenName, fieldValue).map(([n, v]) => bad(`${n}: ${v}\r\n ${v}\r\n`)), // obs-fold
  fc.tuple(tokenName, fieldValue).map(([n, v]) => bad(`${n}: ${v}\r\n\t${v}\r\n`)),
  fc.tuple(tokenName, fieldValue).map(([n, v]) => bad(`${n} : ${v}\r\n`)),
  fc.tuple(tokenName, fieldValue).map(([n, v]) => bad(`${n}\t: ${v}\r\n`)),
  fc.tuple(tokenName, fieldValue).map(([n, v]) => bad(`${n} ${v}x\r\n`)),
  fieldValue.map((v) => bad(`: ${v}\r\n`)),
  fc.tuple(tokenName, fc.constantFrom('(', '@', '"', ',', '/', '[', '\x00', '\xe9', ' x', '{'), fieldValue).map(([n, c, v]) => bad(`${n}${c}: ${v}\r\n`)),
  fc.tuple(tokenName, fieldValue, ctl, fieldValue).map(([n, a, c, b]) => bad(`${n}: ${a}${c}${b}\r\n`)),
  fc.tuple(tokenName, fieldValue, fieldValue).map(([n, a, b]) => bad(`${n}: ${a}\rx${b}\r\n`)), // bare CR
  fc.tuple(tokenName, fieldValue, fieldValue).map(([n, a, b]) => bad(`${n}: ${a}\nx${b}\r\n`)), // bare LF inside
  fc.tuple(tokenName, fieldValue).map(([n, v]) => bad(`${n}: ${v}\n`)), // bare LF line end
  fc.tuple(tokenName, fieldValue).map(([n, v]) => bad(`${n}: ${v}\r\r\n`)),
);

/** Over 64 KiB of head: 431 (Envoy answers 431 from 60 KiB). */
const hugeField: fc.Arbitrary<Piece> = fc.oneof(
  fc.integer({ min: 66_000, max: 80_000 }).map((n) => bad(`x-huge: ${'h'.repeat(n)}\r\n`, 431)),
  fc.integer({ min: 1100, max: 1400 }).map((n) => bad(Array.from({ length: n }, (_, i) => `x-many-${i}: ${'v'.repeat(50)}\r\n`).join(''), 431)),
);

const hostField: fc.Arbitrary<Piece[]> = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom<Piece[]>([ok('Host: test\r\n')], [ok('host:test\r\n')], [ok('HOST:  test \r\n')], [ok('Host: TEST\r\n')], [ok('Host: test:80\r\n')]) },
  // Answered by the proxy itself on some listeners: a local reply, then the connection goes on
  // (or closes, for HTTP/1.0 and Connection: close, when nothing after it may be read).
  { weight: 2, arbitrary: fc.constantFrom<Piece[]>([ok('', ['routing'])], [ok('Host: \r\n', ['routing'])], [ok('Host: other.example\r\n', ['routing'])]) },
  { weight: 2, arbitrary: fc.constant<Piece[]>([ok('Host: test\r\n'), ok('Host: test\r\n', ['dupHost'])]) },
);

const bytesArb = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => [...a]);
const latin1 = (b: number[]) => Buffer.from(b).toString('latin1');

const hex = (n: number, upper: boolean, zeros: number) => '0'.repeat(zeros) + (upper ? n.toString(16).toUpperCase() : n.toString(16));

/** One data chunk, well-formed or not. */
const chunk: fc.Arbitrary<{ piece: Piece; data: number[] }> = fc
  .tuple(
    bytesArb(200).filter((d) => d.length > 0),
    fc.boolean(),
    fc.integer({ min: 0, max: 3 }),
    fc.oneof(
      { weight: 6, arbitrary: fc.constant(ok('')) },
      { weight: 2, arbitrary: okOf(';a=b', ';a', ';a="q;x"', ';a=b;c=d') },
      // RFC 9112 allows whitespace before `;` (BWS); node's parser does not, nor non-token bytes.
      { weight: 1, arbitrary: fc.constantFrom(ok(' ;a=b', ['mayRefuse']), ok('\t;a', ['mayRefuse']), ok(';a b', ['mayRefuse']), ok(';\x80', ['mayRefuse'])) },
      { weight: 1, arbitrary: fc.oneof(ctl.map((c) => bad(`;a${c}`)), badOf(' ', ' x', ';a\rb', ';a\nb')) },
    ),
    fc.oneof(
      { weight: 12, arbitrary: fc.constant('') },
      { weight: 1, arbitrary: fc.constantFrom('size', 'sizeLF', 'dataEnd', 'dataLF', 'hugeSize', 'negative', 'prefix0x') },
    ),
  )
  .map(([data, upper, zeros, ext, defect]) => {
    let size = hex(data.length, upper, zeros);
    let after = '\r\n';
    let sizeEol = '\r\n';
    const defects = [...ext.defects];
    if (defect === 'size') (size = 'zz'), defects.push(400);
    else if (defect === 'sizeLF') (sizeEol = '\n'), defects.push(400);
    else if (defect === 'dataEnd') (after = 'X\r\n'), defects.push(400);
    else if (defect === 'dataLF') (after = '\n'), defects.push(400);
    else if (defect === 'hugeSize') (size = 'fffffffffffffff'), defects.push(400);
    else if (defect === 'negative') (size = '-1'), defects.push(400);
    else if (defect === 'prefix0x') (size = `0x${size}`), defects.push(400);
    return { piece: { text: size + ext.text + sizeEol + latin1(data) + after, defects, tags: ext.tags }, data };
  });

const lastChunk: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 8, arbitrary: okOf('0\r\n\r\n', '000\r\n\r\n', '0;end=1\r\n\r\n', '0\r\nx-trailer: 1\r\n\r\n', '0\r\nA: b\r\nC: \xe9\r\n\r\n') },
  { weight: 1, arbitrary: badOf('0\r\n x: folded\r\n\r\n', '0\r\nx(y: 1\r\n\r\n', '0\r\nx: a\x00b\r\n\r\n', '0\r\n\n', '0\n\r\n', '0\r\nx: 1\n\r\n', '0\r\n\r\r\n') },
);

const chunkedBody = fc.tuple(fc.array(chunk, { maxLength: 4 }), lastChunk).map(([chunks, last]) => {
  const pieces = [...chunks.map((c) => c.piece), last];
  return {
    chunks: pieces,
    payload: chunks.flatMap((c) => c.data),
    bad: pieces.some((p) => p.defects.length > 0),
    tags: pieces.flatMap((p) => p.tags ?? []),
  };
});

const cl = (n: number | string) => `Content-Length: ${n}\r\n`;

const goodFraming: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Framing>({ kind: 'none' }) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(bytesArb(300), fc.constantFrom('plain', 'plain', 'zeros', 'repeat', 'list', 'ows'))
      .map(([body, how]): Framing => {
        const n = body.length;
        const fields =
          how === 'zeros'
            ? [ok(cl(`00${n}`))]
            : how === 'repeat'
              ? [ok(cl(n)), ok(cl(n))]
              : how === 'list'
                ? [ok(cl(`${n}, ${n}`))]
                : how === 'ows'
                  ? [ok(`Content-Length:\t${n} \r\n`)]
                  : [ok(cl(n))];
        return { kind: 'length', fields, body };
      }),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom('Transfer-Encoding: chunked\r\n', 'transfer-encoding: Chunked\r\n', 'Transfer-Encoding:  CHUNKED\t\r\n'), chunkedBody)
      .map(([te, b]): Framing => ({ kind: 'chunked', fields: [ok(te)], ...b })),
  }
);

/** Ambiguous or unsupported framing: refused whatever follows. */
const badFraming: fc.Arbitrary<Framing> = fc
      .oneof(
        fc.constantFrom(
          [cl(5), 'Transfer-Encoding: chunked\r\n'],
          ['Transfer-Encoding: chunked\r\n', cl(0)],
          ['Transfer-Encoding: gzip\r\n', cl(5)],
        ).map((f) => f.map((t) => bad(t, 400, 501))),
        fc.constantFrom('gzip, chunked', 'chunked, gzip', 'xchunked', 'chunkedx', 'chunked;q=1', 'identity', 'gzip', ',chunked', 'chunked,', '').map((v) => [bad(`Transfer-Encoding: ${v}\r\n`, 400, 501)]),
        fc.constant<Piece[]>([bad('Transfer-Encoding: chunked\r\n', 400, 501), bad('Transfer-Encoding: chunked\r\n', 400, 501)]),
        fc.constant<Piece[]>([bad('Transfer-Encoding: gzip\r\n', 400, 501), bad('Transfer-Encoding: chunked\r\n', 400, 501)]),
        fc.constantFrom(cl(5) + cl(6), cl('5, 6'), cl('abc'), cl('-1'), cl('+5'), cl('0x5'), cl('5 5'), cl('1e3'), cl(''), cl('1234567890123456'), cl('5,'), cl('5.0')).map((t) => [bad(t)]),
      )
      .chain((fields) => chunkedBody.map((b): Framing => ({ kind: 'chunked', fields, ...b })));

/** Chunked framing with a malformed body (the head itself is fine). */
const badBody: fc.Arbitrary<Framing> = fc
  .tuple(goodFraming.filter((f) => f.kind === 'chunked'), chunkedBody.filter((b) => b.bad))
  .map(([f, b]) => ({ ...(f as Extract<Framing, { kind: 'chunked' }>), ...b }));


const expectField = fc.oneof({ weight: 8, arbitrary: fc.constant<Piece[]>([]) }, { weight: 1, arbitrary: fc.constant([ok('Expect: 100-continue\r\n')]) });

const fields = (bad: boolean) =>
  bad
    ? fc
        .tuple(fc.array(goodField, { maxLength: 3 }), fc.oneof({ weight: 12, arbitrary: badField }, { weight: 1, arbitrary: hugeField }), fc.array(goodField, { maxLength: 2 }))
        .map(([a, b, c]) => ({ before: [...a, b], after: c }))
    : fc.tuple(fc.array(goodField, { maxLength: 4 }), fc.array(goodField, { maxLength: 3 })).map(([before, after]) => ({ before, after }));

type Part = 'method' | 'sp1' | 'target' | 'sp2' | 'version' | 'eol' | 'field' | 'framing' | 'body';
const PARTS: Part[] = ['method', 'sp1', 'target', 'sp2', 'version', 'eol', 'field', 'field', 'field', 'framing', 'framing', 'body', 'body'];

/** Which parts are malformed: none (most), exactly one, or any (each with a fair chance). */
const defectPlan: fc.Arbitrary<Set<Part>> = fc.oneof(
  { weight: 10, arbitrary: fc.constant(new Set<Part>()) },
  { weight: 8, arbitrary: fc.constantFrom(...PARTS).map((p) => new Set([p])) },
  { weight: 2, arbitrary: fc.subarray(PARTS, { minLength: 2 }).map((ps) => new Set(ps)) },
);

export const request: fc.Arbitrary<RequestSpec> = defectPlan.chain((bad) => {
  const pick = <T>(part: Part, v: Variants<T>) => (bad.has(part) ? v.bad : v.good);
  return fc
    .record({
      method: pick('method', method),
      sp1: pick('sp1', sp),
      target: pick('target', target),
      sp2: pick('sp2', sp),
      version: pick('version', version),
      eol: pick('eol', eol),
      host: hostField,
      fields: fields(bad.has('field')),
      expect: expectField,
      framing: bad.has('framing') ? badFraming : bad.has('body') ? badBody : goodFraming,
    })
    .map((r) => ({
      method: r.method,
      sp1: r.sp1,
      target: r.target,
      sp2: r.sp2,
      version: r.version,
      eol: r.eol,
      fields: [ok(`x-fz: ${MARK}\r\n`), ...r.host, ...r.fields.before, ...r.expect, ...(r.framing.kind === 'none' ? [] : r.framing.fields), ...r.fields.after],
      framing: r.framing,
    }));
});

/** 1 to 4 requests on one connection, the wire split into up to 3 writes, sometimes cut short. */
export const caseSpec: fc.Arbitrary<CaseSpec> = fc.record({
  requests: fc.array(request, { minLength: 1, maxLength: 4 }),
  truncate: fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.record({ inBody: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }), at: fc.double({ min: 0, max: 0.95, noNaN: true }) }) },
  ),
  splits: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
});

// ---------------------------------------------------------------------------------------------
// The oracle.
// ---------------------------------------------------------------------------------------------

const union = (pieces: Piece[]): number[] => [...new Set(pieces.flatMap((p) => p.defects))].sort();
const tagsOf = (pieces: Piece[]): Set<Tag> => new Set(pieces.flatMap((p) => p.tags ?? []));

/** The request's bytes and what must happen to it (`marker` replaces MARK). */
export function renderRequest(spec: RequestSpec, marker: string): CaseRequest {
  const linePieces = [spec.method, spec.sp1, spec.target, spec.sp2, spec.version, spec.eol];
  const headPieces = [...linePieces, ...spec.fields];
  const fill = (s: string) => s.split(MARK).join(marker);
  const head = fill(headPieces.map((p) => p.text).join('') + '\r\n');
  const f = spec.framing;
  const bodyText = f.kind === 'length' ? latin1(f.body) : f.kind === 'chunked' ? f.chunks.map((p) => p.text).join('') : '';
  const wire = Buffer.from(head + bodyText, 'latin1');
  const method = spec.method.text;

  let defects = union(headPieces);
  // RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 request is faulty framing.
  if (f.kind === 'chunked' && spec.version.text === 'HTTP/1.0') defects = [...new Set([...defects, 400])];
  const headBytes = Buffer.byteLength(head, 'latin1');
  // Checked before anything else in the head (findHeadEnd), so it may mask every other defect.
  if (headBytes > 64 * 1024) defects = [...new Set([...defects, 431])];
  // A defect in a line end can leave the head without its CRLFCRLF: it then runs into whatever
  // follows, and is refused as a whole (400), as too large (431), or waited on until the timeout.
  if (!head.includes('\r\n\r\n') && defects.length > 0) defects = [...new Set([...defects, 400, 408, 431])];
  if (defects.length > 0) return { marker, method, wire, outcome: { kind: 'refuse', statuses: defects } };

  const tags = tagsOf([...headPieces, ...(f.kind === 'chunked' ? f.chunks : [])]);
  const minor = spec.version.text === 'HTTP/1.0' ? 0 : 1;
  const routing = tags.has('routing');
  const via: 'upstream' | 'local' | 'either' = tags.has('dupHost') ? 'local' : routing ? 'either' : 'upstream';
  if (f.kind === 'chunked' && f.bad) return { marker, method, wire, outcome: { kind: 'bodyError', via } };

  const mayRefuse = tags.has('mayRefuse');
  const statuses = tags.has('dupHost') ? [400] : [200, ...(routing ? [400, 404] : []), ...(mayRefuse ? [400, 502, 503] : [])];
  const keepAlive = tags.has('close') ? false : minor === 1 || tags.has('keepAlive');
  const payload = Buffer.from(f.kind === 'length' ? f.body : f.kind === 'chunked' ? f.payload : []);
  return {
    marker,
    method,
    wire,
    outcome: {
      kind: 'forward',
      statuses: [...new Set(statuses)],
      via,
      mayRefuse,
      head: method === 'HEAD',
      keepAlive,
      expectContinue: minor === 1 && f.kind !== 'none' && spec.fields.some((p) => p.text.startsWith('Expect:')) && (f.kind === 'chunked' || f.body.length > 0),
      payload,
    },
  };
}

export interface RenderedCase {
  requests: CaseRequest[];
  wire: Buffer;
  /** Offsets at which the wire is written in separate pieces. */
  cuts: number[];
}

/** The case's wire; a truncated last request becomes `incomplete` unless its kept part is already refused. */
export function renderCase(spec: CaseSpec, markerOf: (i: number) => string): RenderedCase {
  const requests = spec.requests.map((r, i) => renderRequest(r, markerOf(i)));
  if (spec.truncate !== undefined) {
    const last = requests[requests.length - 1]!;
    const headEnd = last.wire.indexOf('\r\n\r\n');
    const bodyStart = headEnd === -1 ? last.wire.length : headEnd + 4;
    const keep =
      spec.truncate.inBody && bodyStart < last.wire.length
        ? bodyStart + Math.floor((last.wire.length - bodyStart) * spec.truncate.at)
        : Math.max(1, Math.floor(bodyStart * spec.truncate.at));
    const inHead = headEnd === -1 || keep < headEnd + 4;
    const wire = last.wire.subarray(0, keep);
    if (last.outcome.kind === 'refuse') {
      // What is kept may still show its defect, or may now just be a head that never ends.
      last.outcome = { kind: 'refuse', statuses: [...new Set([...last.outcome.statuses, 400, 408, 431])] };
    } else if (inHead) {
      // A partial head waits for the rest: the request headers timeout answers it (408); a bare
      // LF cut from its CR is refused at once (400).
      last.outcome = { kind: 'refuse', statuses: [400, 408] };
    } else if (last.outcome.kind === 'forward' || last.outcome.kind === 'bodyError') {
      last.outcome = { kind: 'incomplete', inHead: false };
    }
    requests[requests.length - 1] = { ...last, wire };
  }
  const wire = Buffer.concat(requests.map((r) => r.wire));
  const cuts = [...new Set(spec.splits.map((s) => Math.floor(s * wire.length)).filter((c) => c > 0 && c < wire.length))].sort((a, b) => a - b);
  return { requests, wire, cuts };
}
