/** The benchmark's CPU accounting: per-thread nanoseconds from /proc, ticks as the fallback. */
import { describe, expect, it } from 'vitest';
import { cpuBetween, cpuSample, type CpuSample } from '../../../bench/lib/proc.js';

const sample = (threads: Record<string, number>, ticks: number): CpuSample => ({ threads: new Map(Object.entries(threads)), ticks });

describe('cpuBetween', () => {
  it.each([
    ['sums per-thread nanoseconds', sample({ '1/1': 1e9, '1/2': 5e8 }, 10), sample({ '1/1': 1.25e9, '1/2': 6e8 }, 10.3), 0.35],
    ['counts a thread that started in between from zero', sample({ '1/1': 1e9 }, 10), sample({ '1/1': 1.1e9, '1/3': 2e8 }, 10.3), 0.3],
    ['falls back to ticks when a thread exited in between', sample({ '1/1': 1e9, '1/2': 5e8 }, 10), sample({ '1/1': 1.1e9 }, 10.5), 0.5],
    ['falls back to ticks without schedstat', sample({}, 3), sample({}, 3.2), 0.2],
  ])('%s', (_what, a, b, seconds) => {
    expect(cpuBetween(a, b)).toBeCloseTo(seconds, 9);
  });
});

describe('cpuSample (Linux /proc)', () => {
  it.runIf(process.platform === 'linux')('agrees with getrusage for this process', () => {
    const a = cpuSample([process.pid]);
    const u0 = process.cpuUsage();
    // Burn about 150 ms of CPU on this thread.
    let x = 0;
    while (process.cpuUsage(u0).user < 150_000) x += Math.sqrt(x + 1);
    const used = process.cpuUsage(u0);
    const b = cpuSample([process.pid]);
    expect(x).toBeGreaterThan(0);
    expect(a.threads.size).toBeGreaterThan(1);
    const seconds = cpuBetween(a, b);
    const rusage = (used.user + used.system) / 1e6;
    // Other threads of the test worker may run between the readings; a few ms, not 10s of ms.
    expect(seconds).toBeGreaterThanOrEqual(rusage * 0.9);
    expect(seconds).toBeLessThan(rusage + 0.05);
  });
});
