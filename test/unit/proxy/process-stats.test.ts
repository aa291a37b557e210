/**
 * The proxy's memory and fd figures on its admin `/stats` (what the soak test samples on both
 * runtimes): present, plausible, and the fd count follows descriptors opened and closed.
 */
import { closeSync, openSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processStats } from '../../../src/proxy/process-stats.js';
import { Proxy } from '../../../src/proxy/proxy.js';

describe('processStats', () => {
  it('reports resident memory and heap in bytes', () => {
    const s = processStats();
    expect(s.process_resident_memory_bytes).toBeGreaterThan(s.process_heap_used_bytes);
    expect(s.process_heap_total_bytes).toBeGreaterThanOrEqual(s.process_heap_used_bytes);
    expect(s.process_heap_used_bytes).toBeGreaterThan(1 << 20);
  });

  it.runIf(process.platform === 'linux')('counts descriptors the process opens and closes, not the one the listing holds', () => {
    const before = processStats().process_open_fds!;
    const fds = [openSync('/dev/null', 'r'), openSync('/dev/null', 'r'), openSync('/dev/null', 'r')];
    try {
      expect(processStats().process_open_fds).toBe(before + 3);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
    expect(processStats().process_open_fds).toBe(before);
  });
});

describe("the admin endpoint's /stats", () => {
  let proxy: Proxy;
  beforeAll(async () => {
    proxy = new Proxy({ adminHost: '127.0.0.1', adminPort: 0, write: () => undefined });
    await proxy.start();
  });
  afterAll(() => proxy.stop());

  it('carries the process figures beside the counters', async () => {
    const res = await fetch(`http://127.0.0.1:${proxy.adminPort}/stats`);
    const stats = (await res.json()) as Record<string, number>;
    expect(stats.mirror_sent).toBe(0);
    expect(stats.process_resident_memory_bytes).toBeGreaterThan(10 << 20);
    if (process.platform === 'linux') expect(stats.process_open_fds).toBeGreaterThan(3);
  });
});
