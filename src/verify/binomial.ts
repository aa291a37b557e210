/**
 * Exact binomial acceptance bounds: with n requests and a share p, the count k of one destination
 * is accepted when lo <= k <= hi, where P(X < lo) <= alpha/2 and P(X > hi) <= alpha/2 for
 * X ~ Binomial(n, p). Exact sums of the pmf (in log space, so n in the millions stays finite), not
 * a normal approximation: the book's 10/90 split over 10 requests is far from normal.
 */

function logFactorials(n: number): Float64Array {
  const f = new Float64Array(n + 1);
  for (let i = 2; i <= n; i++) f[i] = f[i - 1]! + Math.log(i);
  return f;
}

/** P(X = k) for k = 0..n. */
export function binomialPmf(n: number, p: number): Float64Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a whole number >= 0, got ${n}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`p must be within 0..1, got ${p}`);
  const pmf = new Float64Array(n + 1);
  if (p === 0) {
    pmf[0] = 1;
    return pmf;
  }
  if (p === 1) {
    pmf[n] = 1;
    return pmf;
  }
  const lf = logFactorials(n);
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  for (let k = 0; k <= n; k++) pmf[k] = Math.exp(lf[n]! - lf[k]! - lf[n - k]! + k * lp + (n - k) * lq);
  return pmf;
}

export interface BinomialBounds {
  lo: number;
  hi: number;
}

export function binomialBounds(n: number, p: number, alpha: number): BinomialBounds {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be within (0, 1), got ${alpha}`);
  const pmf = binomialPmf(n, p);
  const tail = alpha / 2;
  let lo = 0;
  let below = 0;
  // Largest lo with P(X < lo) <= tail.
  while (lo < n && below + pmf[lo]! <= tail) below += pmf[lo++]!;
  let hi = n;
  let above = 0;
  while (hi > 0 && above + pmf[hi]! <= tail) above += pmf[hi--]!;
  return { lo, hi };
}
