/**
 * What a soak's samples say, as pure functions (table-driven unit tests in test/unit/soak/):
 * per proxy, resident memory after the warm-up and a least-squares growth over that window, open
 * descriptors before the load and once idle after it, and the verdicts against the stated bounds.
 *
 * Why a fitted growth and not end minus start: a Node process's RSS is a sawtooth (the young
 * generation fills and is collected every few hundred requests; the old generation grows until a
 * major collection), so two single samples can differ by several MB either way with nothing
 * leaking. A straight line through every sample after the warm-up averages the teeth out and
 * keeps what grows steadily, which is what a leak does.
 */

export interface ProcessSample {
  /** Seconds since the load started. */
  t: number;
  rssBytes: number;
  heapUsedBytes?: number;
  fds?: number;
}

export interface Bounds {
  /** The fitted RSS growth allowed over a 10-minute window after the warm-up (MB). */
  rssGrowthMBPer10Min: number;
  /** ... and at least this much over any window, however short (the sawtooth's height). */
  rssGrowthFloorMB: number;
  /**
   * Descriptors a proxy may hold, once the load has stopped and its idle connections have timed
   * out, above what it held before the load. Not judged under load: a proxy's connection pools
   * follow the concurrency of the moment (a slow second on a shared machine opens dozens more,
   * closed again when idle), so a count under load says little; every one of those connections
   * must be gone once idle, and a descriptor that is not is a leak.
   */
  fdSlack: number;
  /** The share of the target rate that must be answered. */
  minRateFraction: number;
}

export const DEFAULT_BOUNDS: Bounds = { rssGrowthMBPer10Min: 20, rssGrowthFloorMB: 8, fdSlack: 4, minRateFraction: 0.95 };

const MB = 1024 * 1024;

/** Least squares y = intercept + slope * x (slope 0 for fewer than two distinct x). */
export function linearFit(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number } {
  const n = Math.min(xs.length, ys.length);
  if (n === 0) return { slope: 0, intercept: 0 };
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i]!;
    my += ys[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** The RSS growth allowed over a window of `seconds` after the warm-up: proportional, with a floor. */
export function rssGrowthBoundMB(seconds: number, b: Bounds = DEFAULT_BOUNDS): number {
  return Math.max(b.rssGrowthFloorMB, (b.rssGrowthMBPer10Min * seconds) / 600);
}

export interface ProcessVerdict {
  name: string;
  samples: number;
  windowSeconds: number;
  rssStartMB: number;
  rssEndMB: number;
  rssMaxMB: number;
  /** Fitted growth over the window, and per minute. */
  rssGrowthMB: number;
  rssSlopeMBPerMin: number;
  rssBoundMB: number;
  fdsStart?: number;
  fdsEnd?: number;
  fdsMax?: number;
  /** Before the load, and once idle after it (see Bounds.fdSlack). */
  fdsBefore?: number;
  fdsSettled?: number;
  /** Why this process fails; empty when it passes. */
  problems: string[];
}

export interface ProcessFacts {
  /** A pod restart seen by the control plane, or a counter that went backwards: it would hide any growth. */
  restarted?: boolean;
  fdsBefore?: number;
  fdsSettled?: number;
}

/** One process's samples judged after `warmupSeconds`, with what was seen around the load. */
export function judgeProcess(name: string, samples: readonly ProcessSample[], warmupSeconds: number, b: Bounds = DEFAULT_BOUNDS, facts: ProcessFacts = {}): ProcessVerdict {
  const after = samples.filter((s) => s.t >= warmupSeconds);
  const problems: string[] = [];
  if (after.length < 3) problems.push(`only ${after.length} samples after the warm-up (need 3)`);
  const first = after[0];
  const last = after[after.length - 1];
  const windowSeconds = first && last ? last.t - first.t : 0;
  const fit = linearFit(
    after.map((s) => s.t),
    after.map((s) => s.rssBytes / MB),
  );
  const rssGrowthMB = fit.slope * windowSeconds;
  const rssBoundMB = rssGrowthBoundMB(windowSeconds, b);
  if (after.length >= 3 && rssGrowthMB > rssBoundMB) {
    problems.push(`RSS grew ${rssGrowthMB.toFixed(1)} MB over ${Math.round(windowSeconds)} s after the warm-up (bound ${rssBoundMB.toFixed(1)} MB)`);
  }
  const withFds = after.filter((s) => s.fds !== undefined);
  const fdsStart = withFds[0]?.fds;
  const fdsEnd = withFds[withFds.length - 1]?.fds;
  const { fdsBefore, fdsSettled } = facts;
  if (fdsBefore !== undefined && fdsSettled !== undefined && fdsSettled > fdsBefore + b.fdSlack) {
    problems.push(`${fdsSettled} open fds once idle after the load, ${fdsBefore} before it (allowed +${b.fdSlack})`);
  }
  if (facts.restarted) problems.push('restarted during the run');
  return {
    name,
    samples: after.length,
    windowSeconds,
    rssStartMB: first ? first.rssBytes / MB : NaN,
    rssEndMB: last ? last.rssBytes / MB : NaN,
    rssMaxMB: after.length ? Math.max(...after.map((s) => s.rssBytes)) / MB : NaN,
    rssGrowthMB,
    rssSlopeMBPerMin: fit.slope * 60,
    rssBoundMB,
    fdsStart,
    fdsEnd,
    fdsBefore,
    fdsSettled,
    fdsMax: withFds.length ? Math.max(...withFds.map((s) => s.fds!)) : undefined,
    problems,
  };
}

export interface LoadSummary {
  targetRps: number;
  seconds: number;
  scheduled: number;
  ok: number;
  failed: number;
  skipped: number;
  failures: Record<string, number>;
}

/** Problems with the traffic itself: any failed request, answers short of the target rate. */
export function judgeLoad(l: LoadSummary, b: Bounds = DEFAULT_BOUNDS): string[] {
  const problems: string[] = [];
  if (l.failed > 0) {
    const kinds = Object.entries(l.failures)
      .sort((x, y) => y[1] - x[1])
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ');
    problems.push(`${l.failed} failed requests (${kinds})`);
  }
  const achieved = l.seconds > 0 ? l.ok / l.seconds : 0;
  if (achieved < b.minRateFraction * l.targetRps) {
    const why = l.skipped > 0 ? `; ${l.skipped} requests not sent, too many earlier ones still unanswered (the machine did not keep up)` : '';
    problems.push(`${achieved.toFixed(0)} req/s answered, below ${Math.round(b.minRateFraction * 100)}% of the target ${l.targetRps}${why}`);
  }
  return problems;
}
