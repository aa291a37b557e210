/**
 * The DNS wire format (RFC 1035 section 4, EDNS from RFC 6891), as much of it as the lab's DNS
 * server needs: decode a query (header, exactly one question, any EDNS OPT record tolerated) and
 * encode a response (IPv4 A answers, or just a response code). Pure and total: `decodeQuery` never
 * throws, whatever the bytes; a packet it cannot use comes back as an error saying whether (and
 * with which code) to answer it.
 */

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const TYPE_OPT = 41;
export const TYPE_ANY = 255;
export const CLASS_IN = 1;
export const CLASS_ANY = 255;

export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;
/** Extended (EDNS) code: the OPT record's version is one we do not speak. */
export const RCODE_BADVERS = 16;

const OPCODE_QUERY = 0;
const HEADER_LEN = 12;
const MAX_LABEL = 63;
/** Wire length of a name, length octets and the root's zero included (RFC 1035 2.3.4). */
const MAX_NAME_WIRE = 255;
/** The UDP payload size this server offers in its own OPT record (the DNS flag day 2020 value). */
export const EDNS_UDP_SIZE = 1232;

export interface DnsHeader {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

export interface DnsQuestion {
  /** The labels as sent (case preserved, one character per octet), for echoing the question back. */
  labels: string[];
  /** Lowercase (ASCII only, as DNS compares), labels joined with dots, no trailing dot; '' for the root. */
  name: string;
  type: number;
  class: number;
}

export interface EdnsInfo {
  /** The requester's UDP payload size (values under 512 count as 512). */
  udpSize: number;
  version: number;
  dnssecOk: boolean;
}

export interface DnsQuery {
  header: DnsHeader;
  question: DnsQuestion;
  edns?: EdnsInfo;
}

/**
 * Why a packet cannot be answered normally. `reply` is what to send back (with the query's id and
 * opcode and, when it was readable, its question); absent when nothing should be sent (too short
 * to carry an id, or not a query at all: answering a response invites loops).
 */
export interface DnsDecodeError {
  error: string;
  reply?: ResponseParts;
}

export type DecodeResult = { ok: true; query: DnsQuery } | ({ ok: false } & DnsDecodeError);

/** Everything `encodeResponse` needs. */
export interface ResponseParts {
  id: number;
  opcode: number;
  rd: boolean;
  /** 0-4095; the upper 8 bits go into the OPT record, so codes > 15 need `edns`. */
  rcode: number;
  question?: DnsQuestion;
  /** IPv4 addresses answered for the question's name (class IN, type A). */
  answers?: Array<{ address: string; ttl: number }>;
  /** Include an OPT record (when the query had one, RFC 6891 6.1.1). */
  edns?: boolean;
  /** Set TC: the full answer did not fit. */
  truncated?: boolean;
}

class Malformed extends Error {}

function u16(buf: Uint8Array, off: number): number {
  if (off + 2 > buf.length) throw new Malformed('truncated');
  return (buf[off]! << 8) | buf[off + 1]!;
}

function u32(buf: Uint8Array, off: number): number {
  if (off + 4 > buf.length) throw new Malformed('truncated');
  return ((buf[off]! << 24) >>> 0) + ((buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!);
}

export function decodeHeader(buf: Uint8Array): DnsHeader | undefined {
  if (buf.length < HEADER_LEN) return undefined;
  const flags = u16(buf, 2);
  return {
    id: u16(buf, 0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    qdcount: u16(buf, 4),
    ancount: u16(buf, 6),
    nscount: u16(buf, 8),
    arcount: u16(buf, 10),
  };
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/**
 * Reads a (possibly compressed) name at `off`. Returns its labels and the offset just past it in
 * the original position. A pointer must point strictly before the label it replaces, so every
 * hop goes backwards and loops are impossible; the 255-octet limit bounds the rest.
 */
function readName(buf: Uint8Array, off: number): { labels: string[]; end: number } {
  const labels: string[] = [];
  let wireLen = 1; // the root's zero octet
  let pos = off;
  let end = -1;
  let limit = off; // pointers must go below the start of the current run of labels
  for (;;) {
    if (pos >= buf.length) throw new Malformed('truncated name');
    const len = buf[pos]!;
    const tag = len & 0xc0;
    if (tag === 0xc0) {
      if (pos + 2 > buf.length) throw new Malformed('truncated compression pointer');
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
      if (end < 0) end = pos + 2;
      if (target >= limit) throw new Malformed('compression pointer does not point backwards (loop)');
      pos = target;
      limit = target;
      continue;
    }
    if (tag !== 0) throw new Malformed(`label type 0x${tag.toString(16)} is not supported (label longer than ${MAX_LABEL})`);
    if (len === 0) {
      if (end < 0) end = pos + 1;
      return { labels, end };
    }
    if (pos + 1 + len > buf.length) throw new Malformed('truncated label');
    wireLen += len + 1;
    if (wireLen > MAX_NAME_WIRE) throw new Malformed(`name longer than ${MAX_NAME_WIRE} octets`);
    let label = '';
    for (let i = 0; i < len; i++) label += String.fromCharCode(buf[pos + 1 + i]!);
    labels.push(label);
    pos += 1 + len;
  }
}

/** Reads one resource record: owner, type, class, ttl, where its data starts and the offset after it. */
function readRecord(buf: Uint8Array, off: number): { labels: string[]; type: number; klass: number; ttl: number; rdata: number; end: number } {
  const { labels, end: nameEnd } = readName(buf, off);
  const type = u16(buf, nameEnd);
  const klass = u16(buf, nameEnd + 2);
  const ttl = u32(buf, nameEnd + 4);
  const rdlen = u16(buf, nameEnd + 8);
  const end = nameEnd + 10 + rdlen;
  if (end > buf.length) throw new Malformed('truncated record data');
  return { labels, type, klass, ttl, rdata: nameEnd + 10, end };
}

/**
 * Decodes a query. Errors: no reply for packets shorter than a header or with QR set; FORMERR for
 * anything unreadable or without exactly one question; NOTIMP for opcodes other than QUERY and
 * classes other than IN; BADVERS for EDNS versions above 0.
 */
export function decodeQuery(buf: Uint8Array): DecodeResult {
  const header = decodeHeader(buf);
  if (!header) return { ok: false, error: `packet of ${buf.length} bytes is shorter than a DNS header` };
  if (header.qr) return { ok: false, error: 'packet is a response, not a query' };
  const base = { id: header.id, opcode: header.opcode, rd: header.rd };
  if (header.opcode !== OPCODE_QUERY) return { ok: false, error: `opcode ${header.opcode} is not supported`, reply: { ...base, rcode: RCODE_NOTIMP } };
  if (header.qdcount !== 1) return { ok: false, error: `${header.qdcount} questions (want exactly 1)`, reply: { ...base, rcode: RCODE_FORMERR } };
  let question: DnsQuestion;
  let edns: EdnsInfo | undefined;
  try {
    const q = readName(buf, HEADER_LEN);
    const type = u16(buf, q.end);
    const klass = u16(buf, q.end + 2);
    question = { labels: q.labels, name: asciiLower(q.labels.join('.')), type, class: klass };
    let off = q.end + 4;
    // Queries carry no answer or authority records; skip any so the OPT record can be found.
    for (let i = 0; i < header.ancount + header.nscount; i++) off = readRecord(buf, off).end;
    for (let i = 0; i < header.arcount; i++) {
      const rr = readRecord(buf, off);
      off = rr.end;
      if (rr.type !== TYPE_OPT) continue;
      if (edns) throw new Malformed('more than one OPT record');
      if (rr.labels.length !== 0) throw new Malformed('OPT record not owned by the root');
      edns = { udpSize: Math.max(512, rr.klass), version: (rr.ttl >>> 16) & 0xff, dnssecOk: (rr.ttl & 0x8000) !== 0 };
    }
    // Trailing octets after the counted records are tolerated (some clients pad).
  } catch (err) {
    if (!(err instanceof Malformed)) throw err;
    return { ok: false, error: err.message, reply: { ...base, rcode: RCODE_FORMERR } };
  }
  if (edns && edns.version !== 0) {
    return { ok: false, error: `EDNS version ${edns.version} is not supported`, reply: { ...base, rcode: RCODE_BADVERS, question, edns: true } };
  }
  if (question.class !== CLASS_IN && question.class !== CLASS_ANY) {
    return { ok: false, error: `class ${question.class} is not supported`, reply: { ...base, rcode: RCODE_NOTIMP, question, edns: edns !== undefined } };
  }
  return { ok: true, query: { header, question, ...(edns ? { edns } : {}) } };
}

function ipv4Bytes(address: string): number[] {
  const parts = address.split('.');
  const bytes = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  if (bytes.length !== 4 || bytes.some((b) => !(b >= 0 && b <= 255))) throw new Error(`not an IPv4 address: ${address}`);
  return bytes;
}

/**
 * Encodes a response: the question echoed as sent (case included, which resolvers using 0x20
 * randomization check), A answers whose owner is a compression pointer to that question, and an
 * OPT record when asked. AA and RA are set: the server answers every name itself.
 */
export function encodeResponse(p: ResponseParts): Uint8Array {
  const answers = p.truncated ? [] : (p.answers ?? []);
  const out: number[] = [];
  const push16 = (v: number) => out.push((v >> 8) & 0xff, v & 0xff);
  const push32 = (v: number) => out.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  push16(p.id);
  const flags = 0x8000 | ((p.opcode & 0xf) << 11) | 0x0400 | (p.truncated ? 0x0200 : 0) | (p.rd ? 0x0100 : 0) | 0x0080 | (p.rcode & 0xf);
  push16(flags);
  push16(p.question ? 1 : 0);
  push16(p.question ? answers.length : 0);
  push16(0);
  push16(p.edns ? 1 : 0);
  if (p.question) {
    for (const label of p.question.labels) {
      out.push(label.length);
      for (let i = 0; i < label.length; i++) out.push(label.charCodeAt(i) & 0xff);
    }
    out.push(0);
    push16(p.question.type);
    push16(p.question.class);
    for (const a of answers) {
      push16(0xc000 | HEADER_LEN); // the question's name
      push16(TYPE_A);
      push16(CLASS_IN);
      push32(a.ttl >>> 0);
      push16(4);
      out.push(...ipv4Bytes(a.address));
    }
  }
  if (p.edns) {
    out.push(0); // root
    push16(TYPE_OPT);
    push16(EDNS_UDP_SIZE);
    push32(((p.rcode >> 4) & 0xff) << 24); // extended rcode, version 0, no flags
    push16(0);
  }
  return Uint8Array.from(out);
}

/** A name as labels, for building queries (tests, clients). Throws on labels over 63 octets. */
export function nameToLabels(name: string): string[] {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '') return [];
  const labels = trimmed.split('.');
  for (const l of labels) if (l.length === 0 || l.length > MAX_LABEL) throw new Error(`bad label in ${name}`);
  return labels;
}

/** Encodes a standard query (RD set), optionally with an OPT record. For tests and probes. */
export function encodeQuery(q: { id: number; name: string; type: number; class?: number; edns?: { udpSize?: number; version?: number } }): Uint8Array {
  const out: number[] = [];
  const push16 = (v: number) => out.push((v >> 8) & 0xff, v & 0xff);
  push16(q.id);
  push16(0x0100);
  push16(1);
  push16(0);
  push16(0);
  push16(q.edns ? 1 : 0);
  for (const label of nameToLabels(q.name)) {
    out.push(label.length);
    for (let i = 0; i < label.length; i++) out.push(label.charCodeAt(i) & 0xff);
  }
  out.push(0);
  push16(q.type);
  push16(q.class ?? CLASS_IN);
  if (q.edns) {
    out.push(0);
    push16(TYPE_OPT);
    push16(q.edns.udpSize ?? 1232);
    push16((q.edns.version ?? 0) & 0xff);
    push16(0);
    push16(0);
  }
  return Uint8Array.from(out);
}

export interface DecodedResponse {
  header: DnsHeader;
  question?: DnsQuestion;
  answers: Array<{ name: string; type: number; ttl: number; data: Uint8Array }>;
  /** The full response code, OPT's extended bits included. */
  rcode: number;
  hasOpt: boolean;
}

/** Decodes a response (tests, probes). Throws on malformed input, unlike `decodeQuery`. */
export function decodeResponse(buf: Uint8Array): DecodedResponse {
  const header = decodeHeader(buf);
  if (!header) throw new Error('short packet');
  let off = HEADER_LEN;
  let question: DnsQuestion | undefined;
  for (let i = 0; i < header.qdcount; i++) {
    const q = readName(buf, off);
    question = { labels: q.labels, name: asciiLower(q.labels.join('.')), type: u16(buf, q.end), class: u16(buf, q.end + 2) };
    off = q.end + 4;
  }
  const answers: DecodedResponse['answers'] = [];
  for (let i = 0; i < header.ancount; i++) {
    const rr = readRecord(buf, off);
    answers.push({ name: asciiLower(rr.labels.join('.')), type: rr.type, ttl: rr.ttl, data: buf.slice(rr.rdata, rr.end) });
    off = rr.end;
  }
  let rcode = header.rcode;
  let hasOpt = false;
  for (let i = 0; i < header.nscount; i++) off = readRecord(buf, off).end;
  for (let i = 0; i < header.arcount; i++) {
    const rr = readRecord(buf, off);
    off = rr.end;
    if (rr.type === TYPE_OPT) {
      hasOpt = true;
      rcode |= ((rr.ttl >>> 24) & 0xff) << 4;
    }
  }
  return { header, ...(question ? { question } : {}), answers, rcode, hasOpt };
}
