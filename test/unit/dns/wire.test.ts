/** The DNS wire format: queries decoded (or refused with the right code), responses encoded. */
import { describe, expect, it } from 'vitest';
import {
  CLASS_IN,
  decodeQuery,
  decodeResponse,
  encodeQuery,
  encodeResponse,
  RCODE_BADVERS,
  RCODE_FORMERR,
  RCODE_NOERROR,
  RCODE_NOTIMP,
  RCODE_NXDOMAIN,
  TYPE_A,
  TYPE_AAAA,
  TYPE_OPT,
} from '../../../src/dns/wire.js';

/** A header: id 0x1234, RD, the given counts. */
function header(qd: number, an = 0, ns = 0, ar = 0, flags = 0x0100): number[] {
  return [0x12, 0x34, flags >> 8, flags & 0xff, 0, qd, 0, an, 0, ns, 0, ar];
}
const label = (s: string) => [s.length, ...[...s].map((c) => c.charCodeAt(0))];
const name = (...labels: string[]) => [...labels.flatMap(label), 0];
const typeClass = (t: number, c = CLASS_IN) => [t >> 8, t & 0xff, c >> 8, c & 0xff];
const bytes = (...parts: number[][]) => Uint8Array.from(parts.flat());

describe('decodeQuery: well-formed queries', () => {
  const cases: Array<{ what: string; packet: Uint8Array; name: string; labels: string[]; type: number; edns?: object }> = [
    { what: 'A for an FQDN', packet: encodeQuery({ id: 7, name: 'catalog.istioinaction.svc.cluster.local', type: TYPE_A }), name: 'catalog.istioinaction.svc.cluster.local', labels: ['catalog', 'istioinaction', 'svc', 'cluster', 'local'], type: TYPE_A },
    { what: 'mixed case (0x20) is lowercased in name, kept in labels', packet: encodeQuery({ id: 7, name: 'CaTaLoG.IstioInAction', type: TYPE_A }), name: 'catalog.istioinaction', labels: ['CaTaLoG', 'IstioInAction'], type: TYPE_A },
    { what: 'trailing dot', packet: encodeQuery({ id: 7, name: 'catalog.', type: TYPE_AAAA }), name: 'catalog', labels: ['catalog'], type: TYPE_AAAA },
    { what: 'the root', packet: encodeQuery({ id: 7, name: '.', type: 2 }), name: '', labels: [], type: 2 },
    { what: 'EDNS OPT in additional', packet: encodeQuery({ id: 7, name: 'a.b', type: TYPE_A, edns: { udpSize: 4096 } }), name: 'a.b', labels: ['a', 'b'], type: TYPE_A, edns: { udpSize: 4096, version: 0, dnssecOk: false } },
    { what: 'EDNS payload under 512 counts as 512', packet: encodeQuery({ id: 7, name: 'a', type: TYPE_A, edns: { udpSize: 100 } }), name: 'a', labels: ['a'], type: TYPE_A, edns: { udpSize: 512 } },
    { what: 'a 63-octet label', packet: bytes(header(1), name('x'.repeat(63), 'local'), typeClass(TYPE_A)), name: `${'x'.repeat(63)}.local`, labels: ['x'.repeat(63), 'local'], type: TYPE_A },
    { what: 'trailing junk after the counted records is tolerated', packet: bytes(header(1), name('a'), typeClass(TYPE_A), [0, 0, 0]), name: 'a', labels: ['a'], type: TYPE_A },
    {
      what: 'a non-OPT additional record is skipped',
      packet: bytes(header(1, 0, 0, 1), name('a'), typeClass(TYPE_A), [0xc0, 12], typeClass(TYPE_A), [0, 0, 0, 5, 0, 4, 1, 2, 3, 4]),
      name: 'a',
      labels: ['a'],
      type: TYPE_A,
    },
  ];
  it.each(cases)('$what', ({ packet, name: n, labels, type, edns }) => {
    const r = decodeQuery(packet);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.query.question).toEqual({ labels, name: n, type, class: CLASS_IN });
    if (edns) expect(r.query.edns).toMatchObject(edns);
    else expect(r.query.edns).toBeUndefined();
  });
});

describe('decodeQuery: malformed or unsupported packets never throw', () => {
  const q = (n: number[]) => bytes(header(1), n, typeClass(TYPE_A));
  const cases: Array<{ what: string; packet: Uint8Array; rcode?: number; error: RegExp }> = [
    { what: 'empty', packet: bytes([]), error: /shorter than a DNS header/ },
    { what: '11 bytes', packet: bytes(header(1).slice(0, 11)), error: /shorter than a DNS header/ },
    { what: 'a response (QR set)', packet: bytes(header(1, 0, 0, 0, 0x8100), name('a'), typeClass(TYPE_A)), error: /response/ },
    { what: 'no question', packet: bytes(header(0)), rcode: RCODE_FORMERR, error: /0 questions/ },
    { what: 'two questions', packet: bytes(header(2), name('a'), typeClass(TYPE_A), name('b'), typeClass(TYPE_A)), rcode: RCODE_FORMERR, error: /2 questions/ },
    { what: 'header only, question missing', packet: bytes(header(1)), rcode: RCODE_FORMERR, error: /truncated/ },
    { what: 'name cut inside a label', packet: bytes(header(1), [7, 99, 97, 116]), rcode: RCODE_FORMERR, error: /truncated label/ },
    { what: 'name without its root', packet: bytes(header(1), label('abc')), rcode: RCODE_FORMERR, error: /truncated name/ },
    { what: 'type and class missing', packet: bytes(header(1), name('a')), rcode: RCODE_FORMERR, error: /truncated/ },
    { what: 'class cut in half', packet: bytes(header(1), name('a'), [0, 1, 0]), rcode: RCODE_FORMERR, error: /truncated/ },
    { what: 'label length 64 (0x40: extended label type)', packet: q([64, ...Array(64).fill(97), 0]), rcode: RCODE_FORMERR, error: /label/ },
    { what: 'label length 0x80 (reserved type)', packet: q([0x80, 0]), rcode: RCODE_FORMERR, error: /label/ },
    { what: 'name over 255 octets', packet: q([...Array(5).fill(label('x'.repeat(60))).flat(), 0]), rcode: RCODE_FORMERR, error: /255/ },
    { what: 'pointer to itself', packet: q([0xc0, 12]), rcode: RCODE_FORMERR, error: /loop/ },
    { what: 'pointer forward', packet: bytes(header(1), [0xc0, 14, 1, 97, 0], typeClass(TYPE_A)), rcode: RCODE_FORMERR, error: /loop/ },
    { what: 'two pointers to each other', packet: bytes(header(1), [1, 97, 0xc0, 16, 1, 98, 0xc0, 12], typeClass(TYPE_A)), rcode: RCODE_FORMERR, error: /loop/ },
    { what: 'pointer past the end', packet: q([0xff, 0xff]), rcode: RCODE_FORMERR, error: /loop/ },
    { what: 'pointer cut in half', packet: bytes(header(1), [1, 97, 0xc0]), rcode: RCODE_FORMERR, error: /truncated/ },
    { what: 'additional record announced but missing', packet: bytes(header(1, 0, 0, 1), name('a'), typeClass(TYPE_A)), rcode: RCODE_FORMERR, error: /truncated/ },
    { what: 'additional record with rdata past the end', packet: bytes(header(1, 0, 0, 1), name('a'), typeClass(TYPE_A), [0], typeClass(TYPE_OPT, 512), [0, 0, 0, 0, 0, 9, 1]), rcode: RCODE_FORMERR, error: /record data/ },
    {
      what: 'two OPT records',
      packet: bytes(header(1, 0, 0, 2), name('a'), typeClass(TYPE_A), [0], typeClass(TYPE_OPT, 512), [0, 0, 0, 0, 0, 0], [0], typeClass(TYPE_OPT, 512), [0, 0, 0, 0, 0, 0]),
      rcode: RCODE_FORMERR,
      error: /more than one OPT/,
    },
    { what: 'OPT not owned by the root', packet: bytes(header(1, 0, 0, 1), name('a'), typeClass(TYPE_A), name('x'), typeClass(TYPE_OPT, 512), [0, 0, 0, 0, 0, 0]), rcode: RCODE_FORMERR, error: /root/ },
    { what: 'opcode STATUS', packet: bytes(header(1, 0, 0, 0, 0x1100), name('a'), typeClass(TYPE_A)), rcode: RCODE_NOTIMP, error: /opcode 2/ },
    { what: 'class CHAOS', packet: encodeQuery({ id: 1, name: 'version.bind', type: 16, class: 3 }), rcode: RCODE_NOTIMP, error: /class 3/ },
    { what: 'EDNS version 1', packet: encodeQuery({ id: 1, name: 'a', type: TYPE_A, edns: { version: 1 } }), rcode: RCODE_BADVERS, error: /EDNS version 1/ },
  ];
  it.each(cases)('$what', ({ packet, rcode, error }) => {
    const r = decodeQuery(packet);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatch(error);
    if (rcode === undefined) {
      expect(r.reply).toBeUndefined();
      return;
    }
    expect(r.reply?.rcode).toBe(rcode);
    // The reply can be encoded and carries the query's id.
    const resp = decodeResponse(encodeResponse(r.reply!));
    expect(resp.header.id).toBe(packet[0]! * 256 + packet[1]!);
    expect(resp.header.qr).toBe(true);
    expect(resp.rcode).toBe(rcode);
  });

  it('random bytes: no throw, for many seeds', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 8) & 0xff;
    for (let i = 0; i < 5000; i++) {
      const len = rnd() % 80;
      const buf = Uint8Array.from({ length: len }, rnd);
      if (len > 5) buf[2] = buf[2]! & 0x7f; // mostly queries
      if (len > 5) buf[5] = 1;
      expect(() => decodeQuery(buf)).not.toThrow();
    }
  });
});

describe('encodeResponse', () => {
  const query = (() => {
    const r = decodeQuery(encodeQuery({ id: 0xbeef, name: 'Catalog.IstioInAction.svc.cluster.local', type: TYPE_A, edns: {} }));
    if (!r.ok) throw new Error('bad fixture');
    return r.query;
  })();

  it('A answers: flags, the question echoed as sent, the owner compressed to the question', () => {
    const wire = encodeResponse({ id: 0xbeef, opcode: 0, rd: true, rcode: RCODE_NOERROR, question: query.question, answers: [{ address: '172.28.130.7', ttl: 5 }], edns: true });
    const r = decodeResponse(wire);
    expect(r.header).toMatchObject({ id: 0xbeef, qr: true, aa: true, rd: true, ra: true, tc: false, qdcount: 1, ancount: 1, arcount: 1 });
    expect(r.question?.labels).toEqual(['Catalog', 'IstioInAction', 'svc', 'cluster', 'local']);
    expect(r.answers).toEqual([{ name: 'catalog.istioinaction.svc.cluster.local', type: TYPE_A, ttl: 5, data: Uint8Array.from([172, 28, 130, 7]) }]);
    expect(r.hasOpt).toBe(true);
    expect(r.rcode).toBe(RCODE_NOERROR);
    // The answer's owner is a 2-byte pointer to offset 12.
    const qEnd = 12 + 'Catalog.IstioInAction.svc.cluster.local'.length + 2 + 4;
    expect([...wire.slice(qEnd, qEnd + 2)]).toEqual([0xc0, 12]);
  });

  it('NXDOMAIN without OPT; several answers; TC drops the answers', () => {
    const nx = decodeResponse(encodeResponse({ id: 1, opcode: 0, rd: false, rcode: RCODE_NXDOMAIN, question: query.question }));
    expect(nx.header).toMatchObject({ rd: false, ancount: 0, arcount: 0, rcode: RCODE_NXDOMAIN });
    const two = decodeResponse(encodeResponse({ id: 1, opcode: 0, rd: true, rcode: 0, question: query.question, answers: [{ address: '10.0.0.1', ttl: 1 }, { address: '10.0.0.2', ttl: 1 }] }));
    expect(two.answers.map((a) => [...a.data].join('.'))).toEqual(['10.0.0.1', '10.0.0.2']);
    const tc = decodeResponse(encodeResponse({ id: 1, opcode: 0, rd: true, rcode: 0, question: query.question, answers: [{ address: '10.0.0.1', ttl: 1 }], truncated: true }));
    expect(tc.header).toMatchObject({ tc: true, ancount: 0 });
  });

  it('BADVERS (16) splits into the header (0) and the OPT extended rcode (1)', () => {
    const wire = encodeResponse({ id: 1, opcode: 0, rd: true, rcode: RCODE_BADVERS, question: query.question, edns: true });
    const r = decodeResponse(wire);
    expect(r.header.rcode).toBe(0);
    expect(r.rcode).toBe(RCODE_BADVERS);
  });

  it('refuses to encode something that is not an IPv4 address', () => {
    expect(() => encodeResponse({ id: 1, opcode: 0, rd: true, rcode: 0, question: query.question, answers: [{ address: '::1', ttl: 1 }] })).toThrow(/IPv4/);
  });
});
