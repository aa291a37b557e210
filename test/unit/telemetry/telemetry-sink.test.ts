/**
 * The sink's access log batching: whole lines, in order, encoded as they come; a batch goes out when
 * the next line does not fit or at flush(); a line larger than a batch goes out on its own.
 */
import { describe, expect, it } from 'vitest';
import { LOG_BATCH_BYTES, TelemetrySink } from '../../../src/proxy/telemetry-sink.js';
import { unwritten } from '../../../src/proxy/log-writer.js';

function sink(): { s: TelemetrySink; chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  // Copies, so a test would notice a batch buffer reused after it was handed over.
  const s = new TelemetrySink((c) => chunks.push(Buffer.from(c)), true, false);
  return { s, chunks };
}

const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8');

describe('TelemetrySink access log batches', () => {
  it('holds lines until flush, then writes them as one chunk of whole lines', () => {
    const { s, chunks } = sink();
    s.log('first');
    s.log('second');
    expect(chunks).toHaveLength(0);
    s.flush();
    expect(chunks).toHaveLength(1);
    expect(text(chunks)).toBe('first\nsecond\n');
    s.flush();
    expect(chunks).toHaveLength(1);
  });

  it('writes a batch when the next line would not fit, keeping order and every byte', () => {
    const { s, chunks } = sink();
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ` + 'x'.repeat(200));
    for (const l of lines) s.log(l);
    s.flush();
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(LOG_BATCH_BYTES);
      expect(c[c.length - 1]).toBe(0x0a);
    }
    expect(text(chunks)).toBe(lines.join('\n') + '\n');
  });

  it('encodes non-ASCII text as UTF-8 without cutting characters', () => {
    const { s, chunks } = sink();
    const lines = Array.from({ length: 100 }, (_, i) => `"GET /카탈로그/${i} HTTP/1.1" ü € 😀 ` + '한'.repeat(100));
    for (const l of lines) s.log(l);
    s.flush();
    expect(text(chunks)).toBe(lines.join('\n') + '\n');
  });

  it('writes a line longer than a batch on its own, after what came before it', () => {
    const { s, chunks } = sink();
    const long = 'p'.repeat(LOG_BATCH_BYTES);
    s.log('before');
    s.log(long);
    s.log('after');
    s.flush();
    expect(text(chunks)).toBe(`before\n${long}\nafter\n`);
  });

  it('flushes on its own after the interval', async () => {
    const { s, chunks } = sink();
    s.log('later');
    await expect.poll(() => chunks.length, { timeout: 2000, interval: 10 }).toBe(1);
    expect(text(chunks)).toBe('later\n');
  });
});

describe('unwritten (partial writev)', () => {
  const b = (s: string) => Buffer.from(s);
  it.each([
    [0, ['abc', 'de']],
    [2, ['c', 'de']],
    [3, ['de']],
    [4, ['e']],
    [5, []],
  ])('after %i bytes', (n, rest) => {
    expect(unwritten([b('abc'), b('de')], n).map(String)).toEqual(rest);
  });
});
