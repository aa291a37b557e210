import { describe, expect, test } from 'vitest';
import { binomialBounds, binomialPmf } from '../../../src/verify/binomial.js';

describe('binomialPmf', () => {
  test.each([
    [10, 0.1],
    [100, 0.5],
    [1000, 0.9],
    [5000, 0.02],
  ])('Binomial(%i, %d) sums to 1', (n, p) => {
    const pmf = binomialPmf(n, p);
    expect(pmf.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });

  test('exact values', () => {
    // P(X=0) for Binomial(10, 0.1) = 0.9^10; P(X=50) for Binomial(100, 0.5) = C(100,50)/2^100.
    expect(binomialPmf(10, 0.1)[0]).toBeCloseTo(0.3486784401, 10);
    expect(binomialPmf(100, 0.5)[50]).toBeCloseTo(0.0795892373871787, 12);
  });

  test('bad arguments', () => {
    expect(() => binomialPmf(-1, 0.5)).toThrow(/whole number/);
    expect(() => binomialPmf(10, 1.5)).toThrow(/within 0..1/);
  });
});

describe('binomialBounds', () => {
  test.each([
    // n, p, alpha, lo, hi: computed from the exact cdf (P(X<=39)=0.0176, P(X<=40)=0.0284 for n=100, p=.5).
    [100, 0.5, 0.05, 40, 60],
    // Binomial(10, 0.1): P(X>=5)=0.00163 > 0.0005, P(X>=6)=0.000147 <= 0.0005.
    [10, 0.1, 0.001, 0, 5],
    [10, 0, 0.001, 0, 0],
    [10, 1, 0.001, 10, 10],
  ])('n=%i p=%d alpha=%d -> [%i, %i]', (n, p, alpha, lo, hi) => {
    expect(binomialBounds(n, p, alpha)).toEqual({ lo, hi });
  });

  test('the bounds hold the promised mass', () => {
    for (const [n, p, alpha] of [[300, 0.1, 1e-6], [1000, 0.5, 0.001], [57, 0.33, 0.01]] as const) {
      const pmf = binomialPmf(n, p);
      const { lo, hi } = binomialBounds(n, p, alpha);
      let below = 0;
      for (let k = 0; k < lo; k++) below += pmf[k]!;
      let above = 0;
      for (let k = hi + 1; k <= n; k++) above += pmf[k]!;
      expect(below).toBeLessThanOrEqual(alpha / 2);
      expect(above).toBeLessThanOrEqual(alpha / 2);
      // Tight: one step further in would exceed alpha/2.
      if (lo < n) expect(below + pmf[lo]!).toBeGreaterThan(alpha / 2);
      if (hi < n) expect(above + pmf[hi]!).toBeGreaterThan(alpha / 2);
    }
  });
});
