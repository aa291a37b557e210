/**
 * Tolerances for counting tests. Each bound is a rigorous tail bound (no normal approximation)
 * with a false-failure probability below `failure`; the rngs are seeded, so the tests are also
 * deterministic, but the bound says the seed was not cherry-picked to pass.
 */

/** ln(2 / failure): both tails. */
const logTerm = (failure: number): number => Math.log(2 / failure);

/**
 * Largest allowed |count - n p| for X ~ Binomial(n, p): the smaller of Hoeffding's bound
 * (2 exp(-2 t^2 / n)) and the multiplicative Chernoff bound (2 exp(-d^2 mu / (2 + d))), which is
 * much tighter for small p such as a 0.5% mirror.
 */
export function countTolerance(n: number, p: number, failure = 1e-6): number {
  const l = logTerm(failure);
  const hoeffding = Math.sqrt((l * n) / 2);
  const mu = n * p;
  if (mu === 0) return hoeffding;
  const delta = (l + Math.sqrt(l * l + 8 * mu * l)) / (2 * mu);
  return Math.min(hoeffding, delta * mu);
}

export function expectCountNear(count: number, n: number, p: number, failure = 1e-6): void {
  const tol = countTolerance(n, p, failure);
  const expected = n * p;
  if (Math.abs(count - expected) > tol) {
    throw new Error(
      `count ${count} of ${n} is outside ${expected.toFixed(1)} ± ${tol.toFixed(1)} (p=${p}, failure<${failure})`,
    );
  }
}
