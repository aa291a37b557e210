/** AsyncFdWriter on a real file: batches in order, nothing lost, drain() waits for all of it. */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AsyncFdWriter } from '../../../src/proxy/log-writer.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('AsyncFdWriter', () => {
  it('writes every chunk, in order, while earlier writes are still in flight', async () => {
    dir = mkdtempSync(join(tmpdir(), 'log-writer-'));
    const file = join(dir, 'access.log');
    const fd = openSync(file, 'w');
    const w = new AsyncFdWriter(fd);
    const expected: string[] = [];
    for (let i = 0; i < 500; i++) {
      const line = `line ${i} ${'x'.repeat(i % 50)}\n`;
      expected.push(line);
      w.write(Buffer.from(line));
    }
    await w.drain();
    closeSync(fd);
    expect(readFileSync(file, 'utf8')).toBe(expected.join(''));
    expect(w.dropped).toBe(0);
  });

  it('drain() resolves at once when nothing is pending', async () => {
    const w = new AsyncFdWriter(-1);
    await expect(w.drain()).resolves.toBeUndefined();
  });
});
