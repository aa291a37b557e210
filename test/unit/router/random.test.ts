import { describe, expect, it } from 'vitest';
import { createRandom } from '../../../src/router/random.js';
import { expectCountNear } from './stats.js';

const take = (seed: number | undefined, n: number) => {
  const rng = createRandom(seed);
  return Array.from({ length: n }, () => rng.nextUint32());
};

describe('createRandom', () => {
  it('repeats a seeded stream exactly', () => {
    expect(take(123, 100)).toEqual(take(123, 100));
  });

  it('gives different streams for different or nearby seeds', () => {
    expect(take(1, 10)).not.toEqual(take(2, 10));
    expect(take(0, 10)).not.toEqual(take(2 ** 32, 10));
    expect(take(5, 10)).not.toEqual(take(-5, 10));
  });

  it('seeds from crypto without a seed', () => {
    expect(take(undefined, 4)).not.toEqual(take(undefined, 4));
  });

  it('next() is in [0, 1) and nextUint32() a 32-bit unsigned integer', () => {
    const rng = createRandom(9);
    for (let i = 0; i < 10_000; i++) {
      const x = rng.next();
      expect(x >= 0 && x < 1).toBe(true);
      const u = rng.nextUint32();
      expect(Number.isInteger(u) && u >= 0 && u < 2 ** 32).toBe(true);
    }
  });

  it('is roughly uniform', () => {
    const rng = createRandom(77);
    const n = 100_000;
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i++) buckets[Math.floor(rng.next() * 10)]!++;
    for (const count of buckets) expectCountNear(count, n, 0.1);
  });

  it('rejects a non-finite seed', () => {
    expect(() => createRandom(Number.NaN)).toThrow(RangeError);
  });
});
