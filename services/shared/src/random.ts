/** A small seedable PRNG (mulberry32) so failure injection can be reproduced in tests. */

export type Random = () => number;

/** 32-bit seed from a number or any string (FNV-1a for strings). */
export function seedFrom(seed: number | string): number {
  if (typeof seed === 'number' && Number.isFinite(seed)) return seed >>> 0;
  const s = String(seed);
  if (/^-?\d+$/.test(s.trim())) return Number(s.trim()) >>> 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Uniform in [0, 1). */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded generator, or `Math.random` when no seed is given. */
export function createRandom(seed?: number | string): Random {
  return seed === undefined || seed === '' ? Math.random : mulberry32(seedFrom(seed));
}
