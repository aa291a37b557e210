/**
 * The codec against the generated corpus (http1-fuzz-corpus.ts), without sockets: every generated
 * request is parsed and its body read in generated splits, and the result must be what the
 * corpus's oracle says (refused with one of its statuses, or parsed with the right framing and
 * exactly its payload). Plus arbitrary bytes: the codec only ever throws HttpParseError.
 * Seeded and bounded, so every run checks the same cases.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BodyReader, findHeadEnd, HttpParseError, parseRequestHead, parseResponseHead } from '../../../src/proxy/http1/parse.js';
import { request, renderRequest } from './http1-fuzz-corpus.js';

const SEED = 0x15_0003;

/** Feeds `buf[from..]` to the reader in pieces cut at `cuts` (fractions), as separate buffers. */
function feed(reader: BodyReader, buf: Buffer, from: number, cuts: number[]): { consumed: number; out: Buffer } {
  const body = buf.subarray(from);
  const offsets = [...new Set(cuts.map((c) => Math.floor(c * body.length)))].filter((o) => o > 0 && o < body.length).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  let consumed = 0;
  for (const end of [...offsets, body.length]) {
    // A copy, so nothing can rely on the pieces being one buffer.
    const piece = Buffer.from(body.subarray(prev, end));
    const used = reader.read(piece, 0, (c) => out.push(Buffer.from(c)));
    consumed += used;
    if (reader.done) break;
    expect(used).toBe(piece.length);
    prev = end;
  }
  return { consumed, out: Buffer.concat(out) };
}

describe('codec against the generated corpus', () => {
  it('refuses what the oracle refuses (with one of its statuses), and parses and frames the rest exactly', () => {
    let n = 0;
    fc.assert(
      fc.property(request, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }), fc.boolean(), (spec, cuts, decoded) => {
        const r = renderRequest(spec, `fz${n++}z`);
        const o = r.outcome;
        let end: number;
        try {
          end = findHeadEnd(r.wire, 0);
          if (end < 0) {
            // The head runs on (a damaged line end): the server waits for more, or refuses a bare LF.
            expect(o.kind).toBe('refuse');
            if (o.kind === 'refuse') expect(o.statuses.some((s) => s === 408 || s === 400)).toBe(true);
            return;
          }
          const head = parseRequestHead(r.wire, 0, end);
          expect(o.kind).not.toBe('refuse');
          expect(head.headers['x-fz']).toBe(r.marker);
          expect(head.method).toBe(r.method);
          // What is forwarded as Content-Length is one plain number.
          if (head.headers['content-length'] !== undefined) expect(head.headers['content-length']).toMatch(/^\d+$/);
          const reader = new BodyReader(head.framing, decoded ? 'decoded' : 'raw');
          const { consumed, out } = feed(reader, r.wire, end, cuts);
          if (o.kind === 'bodyError') throw new Error(`body accepted: ${JSON.stringify(r.wire.subarray(end).toString('latin1'))}`);
          if (o.kind !== 'forward') throw new Error(`unexpected outcome ${o.kind}`);
          expect(reader.done).toBe(true);
          expect(end + consumed).toBe(r.wire.length);
          expect(reader.payloadBytes).toBe(o.payload.length);
          expect(out.equals(decoded || head.framing.kind !== 'chunked' ? o.payload : r.wire.subarray(end))).toBe(true);
        } catch (err) {
          if (!(err instanceof HttpParseError)) throw err;
          if (o.kind === 'refuse') expect(o.statuses).toContain(err.status);
          else if (o.kind === 'bodyError') expect(err.status).toBe(400);
          else throw new Error(`refused ${err.status} ${err.details} (${err.message}): ${JSON.stringify(r.wire.toString('latin1').slice(0, 400))}`);
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
  }, 30_000);

  it('throws nothing but HttpParseError on arbitrary bytes, as a request or a response head, and bodies', () => {
    const junk = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      // Mostly-plausible heads with random bytes spliced in.
      fc
        .tuple(fc.constantFrom('GET / HTTP/1.1\r\nHost: a\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n', 'POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n'), fc.uint8Array({ maxLength: 40 }))
        .map(([a, b]) => new Uint8Array([...Buffer.from(a, 'latin1'), ...b])),
    );
    fc.assert(
      fc.property(junk, fc.constantFrom('GET', 'HEAD'), (bytes, method) => {
        const buf = Buffer.concat([Buffer.from(bytes), Buffer.from('\r\n\r\n')]);
        for (const parse of [() => parseRequestHead(buf, 0, findHeadEnd(buf, 0)), () => parseResponseHead(buf, 0, findHeadEnd(buf, 0), method)]) {
          try {
            parse();
          } catch (err) {
            if (!(err instanceof HttpParseError)) throw err;
            expect([400, 431, 501, 505]).toContain(err.status);
          }
        }
        for (const framing of [{ kind: 'chunked' } as const, { kind: 'length', length: 7 } as const]) {
          try {
            new BodyReader(framing, 'decoded').read(Buffer.from(bytes), 0, () => undefined);
          } catch (err) {
            if (!(err instanceof HttpParseError)) throw err;
          }
        }
      }),
      { seed: SEED, numRuns: 2000 },
    );
  }, 30_000);
});
