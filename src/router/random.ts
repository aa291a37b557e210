/**
 * A small, fast, seedable PRNG for routing decisions (weights, mirror percentages, load balancing).
 * Not for secrets. Seeded runs are reproducible, which keeps the statistical tests deterministic.
 *
 * Algorithm: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state, passes
 * PractRand), its state filled from the seed with splitmix32 so that nearby seeds give unrelated
 * streams.
 */
import { randomFillSync } from 'node:crypto';

export interface Random {
  /** A float in [0, 1) with 32 bits of randomness. */
  next(): number;
  /** An integer in [0, 2^32). */
  nextUint32(): number;
}

const TWO_POW_32 = 0x1_0000_0000;

class Sfc32 implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(a: number, b: number, c: number, d: number) {
    this.a = a | 0;
    this.b = b | 0;
    this.c = c | 0;
    this.d = d | 0;
    // Discard the first outputs: they are still correlated with the seed words.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }
}

/** splitmix32: spreads one seed word into well-mixed state words. */
function splitmix32(state: number): () => number {
  let s = state | 0;
  return () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A generator seeded with `seed` (any finite number; the integer part up to 2^53 is used), or,
 * without a seed, from the OS's cryptographic source so that proxies do not share a stream.
 */
export function createRandom(seed?: number): Random {
  if (seed === undefined) {
    const words = randomFillSync(new Uint32Array(4));
    return new Sfc32(words[0]!, words[1]!, words[2]!, words[3]!);
  }
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const n = Math.trunc(Math.abs(seed));
  const low = n % TWO_POW_32;
  const high = Math.floor(n / TWO_POW_32) ^ (seed < 0 ? 0x8000_0000 : 0);
  const mix = splitmix32(low ^ Math.imul(high, 0x27d4eb2d));
  return new Sfc32(mix(), mix(), mix(), mix() ^ high);
}
