/**
 * Non-flaky assertions on random splits: the smallest interval [lo, hi] around the expected count
 * such that a correct picker lands outside it with probability below `alpha` (exact binomial).
 */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log((n - k + i) / i);
  return s;
}

export function binomialPmf(n: number, p: number, k: number): number {
  if (p === 0) return k === 0 ? 1 : 0;
  if (p === 1) return k === n ? 1 : 0;
  return Math.exp(logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log(1 - p));
}

/** Bounds with at most alpha/2 probability in each tail. */
export function binomialBounds(n: number, p: number, alpha = 1e-6): { lo: number; hi: number } {
  const pmf = Array.from({ length: n + 1 }, (_, k) => binomialPmf(n, p, k));
  let lo = 0;
  let tail = 0;
  while (lo < n && tail + pmf[lo]! < alpha / 2) tail += pmf[lo++]!;
  let hi = n;
  tail = 0;
  while (hi > 0 && tail + pmf[hi]! < alpha / 2) tail += pmf[hi--]!;
  return { lo, hi };
}
