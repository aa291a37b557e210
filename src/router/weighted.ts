/**
 * Weighted destination picking and mirror sampling, built once per route so that a request only
 * draws random numbers and reads typed arrays (no allocation).
 *
 * Weights follow Istio >= 1.15 (istio/istio PR 39544): relative, a destination gets weight / sum,
 * weight 0 is never picked, and a lone destination gets everything whatever its weight (0 included).
 */
import { RouteCompileError } from './errors.js';
import type { Random } from './random.js';

export interface WeightedPicker {
  /** Index into the weights the picker was built from. */
  pick(rng: Random): number;
}

/** A single candidate consumes no randomness, so adding a lone route does not shift a seeded stream. */
const ALWAYS_FIRST: WeightedPicker = Object.freeze({ pick: () => 0 });

export function createWeightedPicker(weights: readonly number[], where: string): WeightedPicker {
  if (weights.length === 0) throw new RouteCompileError(where, 'a route needs at least one destination');
  weights.forEach((w, i) => {
    if (!Number.isFinite(w) || w < 0) {
      throw new RouteCompileError(where, `destination ${i}: weight must be a finite number >= 0, got ${w}`);
    }
  });
  if (weights.length === 1) return ALWAYS_FIRST;

  // Keep only the destinations that can be picked; zero weights simply drop out.
  const indices: number[] = [];
  const cumulative: number[] = [];
  let total = 0;
  weights.forEach((w, i) => {
    if (w === 0) return;
    total += w;
    indices.push(i);
    cumulative.push(total);
  });
  if (indices.length === 0) {
    throw new RouteCompileError(where, 'the weights of two or more destinations sum to 0');
  }
  if (indices.length === 1) {
    const only = indices[0]!;
    return Object.freeze({ pick: () => only });
  }
  const idx = Int32Array.from(indices);
  const cum = Float64Array.from(cumulative);
  const last = idx.length - 1;
  return Object.freeze({
    pick(rng: Random): number {
      const r = rng.next() * total;
      // Few destinations per route: a linear scan beats a binary search here.
      for (let i = 0; i < last; i++) if (r < cum[i]!) return idx[i]!;
      return idx[last]!;
    },
  });
}

export interface MirrorSampler {
  /** How many mirrors the route has; `sample` sets bit i when mirror i is sent. */
  readonly count: number;
  sample(rng: Random): number;
}

/** Mirrors are limited so a sample fits one 32-bit mask; a route with more is rejected. */
export const MAX_MIRRORS = 30;

/**
 * Each mirror is sampled on its own with its percentage (0..100, fractional: 0.5 = one request in
 * 200), like Envoy's runtime fractional percent per request mirror policy. 0 never draws a random
 * number and never mirrors; >= 100 always mirrors without drawing.
 */
export function createMirrorSampler(percentages: readonly number[], where: string): MirrorSampler {
  if (percentages.length > MAX_MIRRORS) {
    throw new RouteCompileError(where, `at most ${MAX_MIRRORS} mirrors per route`);
  }
  let always = 0;
  const sampledBits: number[] = [];
  const sampledPct: number[] = [];
  percentages.forEach((p, i) => {
    if (!Number.isFinite(p) || p < 0) {
      throw new RouteCompileError(where, `mirror ${i}: percentage must be within 0..100, got ${p}`);
    }
    if (p >= 100) always |= 1 << i;
    else if (p > 0) {
      sampledBits.push(1 << i);
      sampledPct.push(p);
    }
  });
  const count = percentages.length;
  if (sampledBits.length === 0) return Object.freeze({ count, sample: () => always });
  const bits = Int32Array.from(sampledBits);
  const pct = Float64Array.from(sampledPct);
  return Object.freeze({
    count,
    sample(rng: Random): number {
      let mask = always;
      for (let i = 0; i < bits.length; i++) if (rng.next() * 100 < pct[i]!) mask |= bits[i]!;
      return mask;
    },
  });
}
