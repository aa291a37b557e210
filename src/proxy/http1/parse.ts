/**
 * The parsing core of the sidecar's HTTP/1.1 engine: message heads and body framing.
 *
 * Strict on purpose, in the spirit of Envoy's codec: a proxy that is more lenient than the hop on
 * either side of it is how request smuggling happens (bare LF line ends, obs-fold, CL+TE, sloppy
 * chunk sizes), so anything ambiguous is refused rather than guessed at.
 *
 * It runs once per message on the hot path: a head is validated by walking its bytes against lookup
 * tables, decoded once into a latin1 string (one native call, one byte per char, no UTF-8 work) and
 * names/values are sliced out of that; bodies are handed out as subarrays of the input, never
 * copied or concatenated.
 */

export const MAX_HEAD_BYTES = 64 * 1024;
export const MAX_CHUNK_LINE_BYTES = 4096;
/** Envoy's default `max_headers_count` (HttpProtocolOptions): field lines in one request head. */
export const MAX_REQUEST_HEADERS = 100;

export type HttpErrorStatus = 400 | 431 | 501 | 505;

/** A message the codec refuses. `details` is an Envoy-style snake_case reason (e.g. 'http1.codec_error'). */
export class HttpParseError extends Error {
  constructor(
    readonly status: HttpErrorStatus,
    readonly details: string,
    message?: string,
  ) {
    super(message ?? details);
    this.name = 'HttpParseError';
  }
}

export type BodyFraming =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  | { kind: 'close' };

export interface RequestHead {
  method: string;
  target: string;
  minor: 0 | 1;
  /** Lowercased names. A repeated header's values are joined with ', ' in arrival order (cookie: joined with '; '). */
  headers: Record<string, string>;
  /** How many Host header fields appeared (a proxy must reject >1). */
  hostCount: number;
  framing: BodyFraming;
  /** HTTP/1.1 unless Connection has 'close'; HTTP/1.0 only if Connection has 'keep-alive'. */
  keepAlive: boolean;
  /** HTTP/1.1 and Expect is 100-continue (case-insensitive). */
  expectContinue: boolean;
  /** Connection lists 'upgrade' and an Upgrade header is present. */
  upgrade: boolean;
}

export interface ResponseHead {
  status: number;
  reason: string;
  minor: 0 | 1;
  /** Lowercased names, arrival order, duplicates kept as separate entries (set-cookie!). Values OWS-trimmed. */
  headers: Array<[string, string]>;
  framing: BodyFraming;
  keepAlive: boolean;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const SEMI = 0x3b;
const COMMA = 0x2c;
const DEL = 0x7f;

// Framing results carry no per-message state, so every message can share the same frozen objects.
const NONE: BodyFraming = Object.freeze({ kind: 'none' });
const CHUNKED: BodyFraming = Object.freeze({ kind: 'chunked' });
const CLOSE: BodyFraming = Object.freeze({ kind: 'close' });

/** RFC 9110 tchar -> 1, with bit 2 also set for 'A'..'Z' so one lookup both validates and says "needs lowercasing". */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 3;

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX[0x41 + i] = HEX[0x61 + i] = 10 + i;

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

// latin1Slice is what buf.toString('latin1', s, e) calls after its encoding lookup and argument
// checks; going direct saves those few ns per head. It is not in @types/node, hence the probe and
// the fallback.
type Latin1Slicer = { latin1Slice(start: number, end: number): string };
const latin1: (buf: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as unknown as Partial<Latin1Slicer>).latin1Slice === 'function'
    ? (buf, start, end) => (buf as unknown as Latin1Slicer).latin1Slice(start, end)
    : (buf, start, end) => buf.toString('latin1', start, end);

function codecError(message: string): HttpParseError {
  return new HttpParseError(400, 'http1.codec_error', message);
}

/** CR/LF out of place is a framing problem (smuggling vector); any other control is merely an illegal character. */
function badChar(c: number, where: string): HttpParseError {
  return c === CR || c === LF
    ? codecError(`bare ${c === CR ? 'CR' : 'LF'} in ${where}`)
    : new HttpParseError(
        400,
        'http1.invalid_characters',
        `invalid character 0x${c.toString(16).padStart(2, '0')} in ${where}`,
      );
}

/**
 * Offset just past the CRLFCRLF ending a head that begins at `start`, or -1 if not complete yet.
 * Throws HttpParseError(431,'http1.headers_too_large') when no end is found within MAX_HEAD_BYTES of start.
 * Leading empty lines (CRLF) before a request line are NOT skipped by this function.
 */
export function findHeadEnd(buf: Buffer, start: number): number {
  const limit = start + MAX_HEAD_BYTES;
  if (buf.length <= limit) {
    const i = buf.indexOf(CRLFCRLF, start);
    if (i !== -1) return i + 4;
    // With fewer than MAX bytes buffered, the terminator can still arrive and fit.
    if (buf.length - start < MAX_HEAD_BYTES) return -1;
  } else {
    // Bound the search so a huge buffer without a terminator costs 64 KiB of scanning, not its size.
    const i = buf.subarray(start, limit).indexOf(CRLFCRLF);
    if (i !== -1) return start + i + 4;
  }
  throw new HttpParseError(431, 'http1.headers_too_large', `message head exceeds ${MAX_HEAD_BYTES} bytes`);
}

/** Validates the caller's range and decodes the whole head once; every name and value is sliced from this string. */
function headString(buf: Buffer, start: number, end: number): string {
  if (
    start < 0 ||
    end > buf.length ||
    end - start < 4 ||
    buf[end - 4] !== CR ||
    buf[end - 3] !== LF ||
    buf[end - 2] !== CR ||
    buf[end - 1] !== LF
  ) {
    throw new RangeError('end must be an offset returned by findHeadEnd(buf, start)');
  }
  if (end - start > MAX_HEAD_BYTES) {
    throw new HttpParseError(431, 'http1.headers_too_large', `message head exceeds ${MAX_HEAD_BYTES} bytes`);
  }
  return latin1(buf, start, end);
}

// Validation walks the Buffer's bytes rather than the decoded string: in V8 an indexed typed-array
// load is a few times cheaper than String.prototype.charCodeAt, which must re-dispatch on the
// string's representation. Every scanning loop below relies on the head ending in CRLFCRLF
// (checked by headString): CR stops each of them, so none needs a bounds test; and a fixed-offset
// read that lands past the end of a too-short start line only ever turns into a validation failure,
// because that line's own CR sits among the bytes being checked.

/** 'HTTP/1.0' | 'HTTP/1.1' at buf[i..i+8). */
function parseVersion(buf: Buffer, i: number): 0 | 1 {
  const major = buf[i + 5];
  const minor = buf[i + 7];
  if (
    buf[i] === 0x48 && // H
    buf[i + 1] === 0x54 && // T
    buf[i + 2] === 0x54 && // T
    buf[i + 3] === 0x50 && // P
    buf[i + 4] === 0x2f && // /
    buf[i + 6] === 0x2e && // .
    major >= 0x30 &&
    major <= 0x39 &&
    minor >= 0x30 &&
    minor <= 0x39
  ) {
    if (major === 0x31 && (minor === 0x30 || minor === 0x31)) return minor === 0x31 ? 1 : 0;
    throw new HttpParseError(505, 'http1.version_not_supported', `unsupported version HTTP/${major - 0x30}.${minor - 0x30}`);
  }
  throw codecError('malformed HTTP version');
}

/** Why a start-line scan stopped at buf[i]: a stray CR/LF is worth naming, anything else gets `message`. */
function startLineError(buf: Buffer, i: number, message: string): HttpParseError {
  const c = buf[i];
  if (c === LF || (c === CR && buf[i + 1] !== LF)) return badChar(c, 'start line');
  return codecError(message);
}

interface KnownName {
  name: string;
  bytes: Uint8Array;
}

// Common field names by length, matched case-insensitively straight from the bytes: a hit costs no
// slice and no toLowerCase, and yields an internalized string, which the header-object store and
// the later `name === 'content-length'` style comparisons are faster with.
const KNOWN_NAMES: Array<KnownName[] | undefined> = [];
for (const name of [
  'accept',
  'accept-encoding',
  'accept-language',
  'accept-ranges',
  'age',
  'authorization',
  'b3',
  'baggage',
  'cache-control',
  'connection',
  'content-encoding',
  'content-length',
  'content-type',
  'cookie',
  'date',
  'etag',
  'expect',
  'forwarded',
  'host',
  'if-modified-since',
  'if-none-match',
  'keep-alive',
  'last-modified',
  'location',
  'origin',
  'pragma',
  'proxy-connection',
  'referer',
  'server',
  'set-cookie',
  'te',
  'trailer',
  'traceparent',
  'tracestate',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'vary',
  'via',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-spanid',
  'x-b3-traceid',
  'x-envoy-attempt-count',
  'x-envoy-upstream-service-time',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-request-id',
]) {
  (KNOWN_NAMES[name.length] ??= []).push({ name, bytes: Buffer.from(name, 'latin1') });
}

function knownName(buf: Buffer, from: number, len: number): string | undefined {
  const candidates = KNOWN_NAMES[len];
  if (candidates === undefined) return undefined;
  next: for (let k = 0; k < candidates.length; k++) {
    const lit = candidates[k].bytes;
    // `| 0x20` folds exactly A-Z onto a-z here: the bytes are already known tchars and the
    // literals are [a-z0-9-], and no other tchar lands on one of those.
    for (let j = 0; j < len; j++) if ((buf[from + j] | 0x20) !== lit[j]) continue next;
    return candidates[k].name;
  }
  return undefined;
}

const KNOWN_METHODS: KnownName[] = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'].map(
  (name) => ({ name, bytes: Buffer.from(name, 'latin1') }),
);

/** Methods are case-sensitive, so this is an exact match: it saves a slice per request and yields an internalized string. */
function knownMethod(buf: Buffer, from: number, len: number): string | undefined {
  next: for (let k = 0; k < KNOWN_METHODS.length; k++) {
    const lit = KNOWN_METHODS[k].bytes;
    if (lit.length !== len) continue;
    for (let j = 0; j < len; j++) if (buf[from + j] !== lit[j]) continue next;
    return KNOWN_METHODS[k].name;
  }
  return undefined;
}

// parseFieldLine's results. Module-level scratch instead of a returned tuple keeps the per-header
// cost to the two strings themselves; safe because parsing is synchronous and never re-entered.
let fieldName = '';
let fieldValue = '';

/**
 * Parses the field line at `pos` into fieldName/fieldValue and returns the next line's offset, or
 * -1 at the empty line ending the head. `s` is the decoded head, which starts at buf[base].
 */
function parseFieldLine(buf: Buffer, s: string, base: number, pos: number, end: number): number {
  let c = buf[pos];
  if (c === CR) {
    if (pos + 2 === end) return -1;
    if (buf[pos + 1] !== LF) throw badChar(CR, 'header name');
    throw new RangeError('end must be an offset returned by findHeadEnd(buf, start)');
  }
  if (c === SP || c === HTAB) throw codecError('obsolete line folding is not allowed');
  let i = pos;
  let seen = 0;
  for (let t: number; (t = TCHAR[buf[i]]) !== 0; i++) seen |= t;
  c = buf[i];
  if (i === pos || c !== COLON) {
    if (c === SP || c === HTAB) throw codecError('whitespace between header name and colon');
    if (c === LF || (c === CR && buf[i + 1] !== LF)) throw badChar(c, 'header name');
    throw codecError(c === CR ? 'header line without colon' : 'invalid header name');
  }
  let name = knownName(buf, pos, i - pos);
  if (name === undefined) {
    name = s.slice(pos - base, i - base);
    if (seen & 2) name = name.toLowerCase();
  }
  fieldName = name;
  i++;
  while ((c = buf[i]) === SP || c === HTAB) i++;
  const vs = i;
  let ve = i;
  for (; ; i++) {
    c = buf[i];
    if (c > SP) {
      if (c === DEL) throw badChar(c, 'header value');
      ve = i + 1;
    } else if (c !== SP && c !== HTAB) {
      break;
    }
  }
  if (c !== CR || buf[i + 1] !== LF) throw badChar(c, 'header value');
  fieldValue = s.slice(vs - base, ve - base);
  return i + 2;
}

/** Case-insensitive ASCII compare of s[from..to) with a lowercase literal, without allocating. */
function equalsLower(s: string, from: number, to: number, lit: string): boolean {
  if (to - from !== lit.length) return false;
  for (let k = 0; k < lit.length; k++) {
    let c = s.charCodeAt(from + k);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lit.charCodeAt(k)) return false;
  }
  return true;
}

const isOWS = (c: number): boolean => c === SP || c === HTAB;

/**
 * Content-Length value (already OWS-trimmed, possibly a list) merged with what earlier fields said
 * (-1 = none yet). Repeats are tolerated only when they agree, as RFC 9112 6.3 allows.
 */
function mergeContentLength(v: string, prev: number): number {
  const n = v.length;
  let result = prev;
  let i = 0;
  for (;;) {
    const st = i;
    let x = 0;
    for (let c: number; i < n && (c = v.charCodeAt(i)) >= 0x30 && c <= 0x39; i++) x = x * 10 + (c - 0x30);
    // 15 digits stay below 2^53, so x is exact.
    if (i === st || i - st > 15 || (result !== -1 && result !== x)) {
      throw new HttpParseError(400, 'http1.invalid_content_length', `invalid Content-Length: ${JSON.stringify(v)}`);
    }
    result = x;
    while (i < n && isOWS(v.charCodeAt(i))) i++;
    if (i === n) return result;
    if (v.charCodeAt(i) !== COMMA) {
      throw new HttpParseError(400, 'http1.invalid_content_length', `invalid Content-Length: ${JSON.stringify(v)}`);
    }
    i++;
    while (i < n && isOWS(v.charCodeAt(i))) i++;
  }
}

function invalidTransferEncoding(te: string, status: HttpErrorStatus = 400): HttpParseError {
  return new HttpParseError(status, 'http1.invalid_transfer_encoding', `invalid Transfer-Encoding: ${JSON.stringify(te)}`);
}

/**
 * Transfer-Encoding is accepted only as exactly `chunked` (case-insensitive; repeated fields arrive
 * joined, so `chunked` twice is refused too), as Envoy's codec does. Any other coding is one the
 * proxy would have to decode or pass on: it re-frames bodies as plain chunked and Transfer-Encoding
 * is hop-by-hop, so `gzip, chunked` would reach the other side as compressed bytes labelled as
 * none. Requests get Envoy's 501; responses are a protocol error (502 to the client).
 */
const isChunkedOnly = (te: string): boolean => equalsLower(te, 0, te.length, 'chunked');

const CONN_CLOSE = 1;
const CONN_KEEP_ALIVE = 2;
const CONN_UPGRADE = 4;

function connectionFlags(v: string | undefined): number {
  if (v === undefined) return 0;
  let flags = 0;
  const n = v.length;
  let i = 0;
  while (i < n) {
    while (i < n && (isOWS(v.charCodeAt(i)) || v.charCodeAt(i) === COMMA)) i++;
    const st = i;
    while (i < n && v.charCodeAt(i) !== COMMA) i++;
    let e = i;
    while (e > st && isOWS(v.charCodeAt(e - 1))) e--;
    if (equalsLower(v, st, e, 'close')) flags |= CONN_CLOSE;
    else if (equalsLower(v, st, e, 'keep-alive')) flags |= CONN_KEEP_ALIVE;
    else if (equalsLower(v, st, e, 'upgrade')) flags |= CONN_UPGRADE;
  }
  return flags;
}

function keepAliveFor(minor: 0 | 1, flags: number): boolean {
  if (flags & CONN_CLOSE) return false;
  return minor === 1 || (flags & CONN_KEEP_ALIVE) !== 0;
}

/** `end` is the value findHeadEnd returned. Throws HttpParseError. */
export function parseRequestHead(buf: Buffer, start: number, end: number): RequestHead {
  const s = headString(buf, start, end);

  let i = start;
  while (TCHAR[buf[i]] !== 0) i++;
  if (i === start || buf[i] !== SP) throw startLineError(buf, i, 'invalid method');
  const method = knownMethod(buf, start, i - start) ?? s.slice(0, i - start);
  const ts = ++i;
  for (let c: number; (c = buf[i]) > SP && c !== DEL; i++);
  if (i === ts || buf[i] !== SP) throw startLineError(buf, i, 'invalid request-target');
  const target = s.slice(ts - start, i - start);
  i++;
  // The CRLF check comes first so 'HTTP/2.0x' is malformed (400), not an unsupported version (505).
  if (buf[i + 8] !== CR || buf[i + 9] !== LF) throw startLineError(buf, i + 8, 'malformed HTTP version');
  const minor = parseVersion(buf, i);

  const headers = Object.create(null) as Record<string, string>;
  let hostCount = 0;
  let contentLength = -1;
  let count = 0;
  for (let pos = i + 10; (pos = parseFieldLine(buf, s, start, pos, end)) !== -1; ) {
    // Counted per field line, as Envoy's codec does, so repeats of one name count too.
    if (++count > MAX_REQUEST_HEADERS) {
      throw new HttpParseError(431, 'http1.too_many_headers', `more than ${MAX_REQUEST_HEADERS} header fields`);
    }
    const name = fieldName;
    const value = fieldValue;
    const prev = headers[name];
    headers[name] = prev === undefined ? value : prev + (name === 'cookie' ? '; ' : ', ') + value;
    if (name === 'host') hostCount++;
    else if (name === 'content-length') contentLength = mergeContentLength(value, contentLength);
  }

  let framing: BodyFraming;
  const te = headers['transfer-encoding'];
  if (te !== undefined) {
    if (contentLength !== -1) {
      throw new HttpParseError(400, 'http1.content_length_and_chunked_not_allowed', 'both Content-Length and Transfer-Encoding');
    }
    // RFC 9112 6.1: TE in an HTTP/1.0 message means the framing is faulty.
    if (minor === 0) throw invalidTransferEncoding(te);
    if (!isChunkedOnly(te)) throw invalidTransferEncoding(te, 501);
    framing = CHUNKED;
  } else {
    framing = contentLength > 0 ? { kind: 'length', length: contentLength } : NONE;
    // Repeated (agreeing) values arrive joined as `5, 5`: forwarded like that, the next hop may
    // read the list as invalid or differently, so it gets the one number instead.
    if (contentLength !== -1 && headers['content-length']!.indexOf(',') !== -1) headers['content-length'] = String(contentLength);
  }

  const flags = connectionFlags(headers['connection']);
  const expect = headers['expect'];
  return {
    method,
    target,
    minor,
    headers,
    hostCount,
    framing,
    keepAlive: keepAliveFor(minor, flags),
    expectContinue: minor === 1 && expect !== undefined && equalsLower(expect, 0, expect.length, '100-continue'),
    upgrade: (flags & CONN_UPGRADE) !== 0 && headers['upgrade'] !== undefined,
  };
}

export function parseResponseHead(buf: Buffer, start: number, end: number, requestMethod: string): ResponseHead {
  const s = headString(buf, start, end);

  if (buf[start + 8] !== SP) throw startLineError(buf, start + 8, 'malformed status line');
  const minor = parseVersion(buf, start);
  const d0 = buf[start + 9] - 0x30;
  const d1 = buf[start + 10] - 0x30;
  const d2 = buf[start + 11] - 0x30;
  if (!(d0 >= 1 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9)) throw codecError('malformed status code');
  const status = d0 * 100 + d1 * 10 + d2;
  let i = start + 12;
  let reason = '';
  if (buf[i] === SP) {
    const rs = ++i;
    for (let c: number; ((c = buf[i]) >= SP || c === HTAB) && c !== DEL; i++);
    if (buf[i] !== CR || buf[i + 1] !== LF) throw badChar(buf[i], 'reason phrase');
    reason = s.slice(rs - start, i - start);
  } else if (buf[i] !== CR || buf[i + 1] !== LF) {
    throw startLineError(buf, i, 'malformed status line');
  }

  let headers: Array<[string, string]> = [];
  let contentLength = -1;
  let contentLengthFields = 0;
  let te: string | undefined;
  let connection: string | undefined;
  for (let pos = i + 2; (pos = parseFieldLine(buf, s, start, pos, end)) !== -1; ) {
    const name = fieldName;
    const value = fieldValue;
    headers.push([name, value]);
    if (name === 'content-length') {
      contentLength = mergeContentLength(value, contentLength);
      // A list (`5, 5`) counts as a repeat.
      contentLengthFields += value.indexOf(',') === -1 ? 1 : 2;
    } else if (name === 'transfer-encoding') te = te === undefined ? value : `${te}, ${value}`;
    else if (name === 'connection') connection = connection === undefined ? value : `${connection}, ${value}`;
  }

  let framing: BodyFraming;
  if (requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304) {
    framing = NONE;
  } else if (te !== undefined) {
    if (!isChunkedOnly(te)) throw invalidTransferEncoding(te);
    // TE overrides CL (RFC 9112 6.3). TE from an HTTP/1.0 server (faulty framing per 6.1) leaves
    // the connection close as the only trustworthy delimiter.
    framing = minor === 1 ? CHUNKED : CLOSE;
  } else if (contentLength !== -1) {
    framing = contentLength > 0 ? { kind: 'length', length: contentLength } : NONE;
  } else {
    framing = CLOSE;
  }

  // Agreeing repeats are passed on as one field, for the same reason as in requests; next to
  // Transfer-Encoding, Content-Length is not passed on at all (RFC 9112 6.3: a sender MUST remove
  // it), since the proxy re-frames such a body as chunked or close-delimited.
  if (contentLengthFields > 1 || (contentLengthFields > 0 && te !== undefined)) {
    headers = headers.filter(([n]) => n !== 'content-length');
    if (te === undefined) headers.push(['content-length', String(contentLength)]);
  }

  return {
    status,
    reason,
    minor,
    headers,
    framing,
    keepAlive: framing !== CLOSE && keepAliveFor(minor, connectionFlags(connection)),
  };
}

// BodyReader chunked states. Plain numbers rather than an enum: they only live in this file.
const C_SIZE = 0; // chunk-size digits
const C_EXT_BWS = 1; // whitespace after the size, only legal before ';'
const C_EXT = 2; // chunk extensions, ignored
const C_SIZE_LF = 3;
const C_DATA = 4;
const C_DATA_CR = 5;
const C_DATA_LF = 6;
const C_TRAILER_START = 7; // start of a trailer field line, or the CR of the final empty line
const C_TRAILER_NAME = 8;
const C_TRAILER_VALUE = 9;
const C_TRAILER_LF = 10;
const C_END_LF = 11;

const K_NONE = 0;
const K_LENGTH = 1;
const K_CHUNKED = 2;
const K_CLOSE = 3;

function chunkSizeError(message: string): HttpParseError {
  return new HttpParseError(400, 'http1.invalid_chunk_size', message);
}

/**
 * Incremental body framing reader. Feed it bytes as they arrive.
 * - mode 'raw': onData receives the wire bytes of the body as-is (for chunked: including chunk-size
 *   lines, CRLFs, last-chunk and trailers), as subarrays of the input (no copies).
 * - mode 'decoded': onData receives only payload bytes (chunk data), for re-framing.
 * `payloadBytes` counts decoded payload bytes either way. `done` becomes true once the message body
 * is complete (immediately for 'none'; never for 'close').
 */
export class BodyReader {
  private readonly kind: number;
  private readonly raw: boolean;
  private _done: boolean;
  private _payloadBytes = 0;
  /** 'length': bytes still to come. chunked: data bytes left in the current chunk. */
  private remaining: number;
  private state = C_SIZE;
  private size = 0;
  private digits = 0;
  private lineBytes = 0;
  private trailerBytes = 0;

  constructor(framing: BodyFraming, mode: 'raw' | 'decoded' = 'raw') {
    this.raw = mode === 'raw';
    this.remaining = framing.kind === 'length' ? framing.length : 0;
    this.kind =
      framing.kind === 'length' ? K_LENGTH : framing.kind === 'chunked' ? K_CHUNKED : framing.kind === 'close' ? K_CLOSE : K_NONE;
    this._done = this.kind === K_NONE || (this.kind === K_LENGTH && this.remaining <= 0);
  }

  get done(): boolean {
    return this._done;
  }

  get payloadBytes(): number {
    return this._payloadBytes;
  }

  /** Consumes bytes from buf[start..]; returns the offset just past the last byte consumed. */
  read(buf: Buffer, start: number, onData: (chunk: Buffer) => void): number {
    if (this._done || start >= buf.length) return start;
    if (this.kind === K_LENGTH) {
      const n = Math.min(this.remaining, buf.length - start);
      this.remaining -= n;
      this._payloadBytes += n;
      if (this.remaining === 0) this._done = true;
      onData(buf.subarray(start, start + n));
      return start + n;
    }
    if (this.kind === K_CLOSE) {
      this._payloadBytes += buf.length - start;
      onData(buf.subarray(start));
      return buf.length;
    }
    const end = this.readChunked(buf, start, onData);
    if (this.raw && end > start) onData(buf.subarray(start, end));
    return end;
  }

  private readChunked(buf: Buffer, start: number, onData: (chunk: Buffer) => void): number {
    const len = buf.length;
    let i = start;
    while (i < len) {
      const state = this.state;
      if (state === C_DATA) {
        // The only state that can cover many bytes, so it is skipped in bulk.
        const n = Math.min(this.remaining, len - i);
        if (!this.raw) onData(buf.subarray(i, i + n));
        this._payloadBytes += n;
        this.remaining -= n;
        i += n;
        if (this.remaining === 0) this.state = C_DATA_CR;
        continue;
      }
      const c = buf[i++];
      if (state <= C_SIZE_LF) {
        if (++this.lineBytes > MAX_CHUNK_LINE_BYTES) throw chunkSizeError(`chunk-size line exceeds ${MAX_CHUNK_LINE_BYTES} bytes`);
      } else if (state >= C_TRAILER_START) {
        if (++this.trailerBytes > MAX_HEAD_BYTES) {
          throw new HttpParseError(431, 'http1.headers_too_large', `trailers exceed ${MAX_HEAD_BYTES} bytes`);
        }
      }
      switch (state) {
        case C_SIZE: {
          const d = HEX[c];
          if (d >= 0) {
            // 13 hex digits (2^52) keeps the size an exact integer.
            if (++this.digits > 13) throw chunkSizeError('chunk size has more than 13 hex digits');
            this.size = this.size * 16 + d;
          } else if (this.digits === 0) {
            throw chunkSizeError('chunk size is not a hex number');
          } else if (c === CR) {
            this.state = C_SIZE_LF;
          } else if (c === SEMI) {
            this.state = C_EXT;
          } else if (c === SP || c === HTAB) {
            this.state = C_EXT_BWS;
          } else {
            throw chunkSizeError('invalid character after chunk size');
          }
          break;
        }
        case C_EXT_BWS:
          if (c === SEMI) this.state = C_EXT;
          else if (c !== SP && c !== HTAB) throw chunkSizeError('whitespace after chunk size not followed by an extension');
          break;
        case C_EXT:
          if (c === CR) this.state = C_SIZE_LF;
          else if ((c < SP && c !== HTAB) || c === DEL) throw chunkSizeError('invalid character in chunk extension');
          break;
        case C_SIZE_LF:
          if (c !== LF) throw chunkSizeError('chunk-size line not terminated by CRLF');
          this.remaining = this.size;
          this.state = this.size === 0 ? C_TRAILER_START : C_DATA;
          this.size = 0;
          this.digits = 0;
          this.lineBytes = 0;
          break;
        case C_DATA_CR:
          if (c !== CR) throw codecError('chunk data not followed by CRLF');
          this.state = C_DATA_LF;
          break;
        case C_DATA_LF:
          if (c !== LF) throw codecError('chunk data not followed by CRLF');
          this.state = C_SIZE;
          break;
        case C_TRAILER_START:
          if (c === CR) this.state = C_END_LF;
          else if (TCHAR[c] !== 0) this.state = C_TRAILER_NAME;
          else if (c === SP || c === HTAB) throw codecError('obsolete line folding is not allowed in trailers');
          else throw codecError('invalid trailer field name');
          break;
        case C_TRAILER_NAME:
          if (c === COLON) this.state = C_TRAILER_VALUE;
          else if (TCHAR[c] === 0) throw codecError('invalid trailer field name');
          break;
        case C_TRAILER_VALUE:
          if (c === CR) this.state = C_TRAILER_LF;
          else if ((c < SP && c !== HTAB) || c === DEL) throw badChar(c, 'trailer value');
          break;
        case C_TRAILER_LF:
          if (c !== LF) throw codecError('bare CR in trailers');
          this.state = C_TRAILER_START;
          break;
        case C_END_LF:
          if (c !== LF) throw codecError('bare CR at end of chunked body');
          this._done = true;
          return i;
      }
    }
    return i;
  }
}
