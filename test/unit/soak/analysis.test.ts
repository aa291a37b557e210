/** The soak's verdicts (scripts/soak/analysis.ts): the fit, the bounds, what passes and what fails. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BOUNDS, judgeLoad, judgeProcess, linearFit, rssGrowthBoundMB, type ProcessSample } from '../../../scripts/soak/analysis.js';
import { bodyProblem } from '../../../scripts/soak/loadgen.js';

const MB = 1024 * 1024;

/** Samples every 2 s for `seconds`, RSS from `rssMB(t)`, fds from `fds(t)`. */
function series(seconds: number, rssMB: (t: number) => number, fds: (t: number) => number = () => 80): ProcessSample[] {
  const out: ProcessSample[] = [];
  for (let t = 0; t <= seconds; t += 2) out.push({ t, rssBytes: rssMB(t) * MB, fds: fds(t) });
  return out;
}

/** A GC sawtooth: climbs `height` MB over `period` s, then drops back. */
const sawtooth = (base: number, height: number, period: number) => (t: number) => base + (height * (t % period)) / period;

describe('linearFit', () => {
  it.each([
    { xs: [0, 1, 2, 3], ys: [1, 3, 5, 7], slope: 2, intercept: 1 },
    { xs: [0, 1, 2], ys: [4, 4, 4], slope: 0, intercept: 4 },
    { xs: [5, 5, 5], ys: [1, 2, 3], slope: 0, intercept: 2 },
    { xs: [], ys: [], slope: 0, intercept: 0 },
    { xs: [0, 2, 4, 6], ys: [1, 0, 1, 0], slope: -0.1, intercept: 0.8 },
  ])('$xs / $ys -> slope $slope', ({ xs, ys, slope, intercept }) => {
    const fit = linearFit(xs, ys);
    expect(fit.slope).toBeCloseTo(slope, 10);
    expect(fit.intercept).toBeCloseTo(intercept, 10);
  });
});

describe('rssGrowthBoundMB', () => {
  it.each([
    { seconds: 480, bound: 16 },
    { seconds: 600, bound: 20 },
    { seconds: 72, bound: DEFAULT_BOUNDS.rssGrowthFloorMB },
    { seconds: 0, bound: DEFAULT_BOUNDS.rssGrowthFloorMB },
  ])('$seconds s -> $bound MB', ({ seconds, bound }) => expect(rssGrowthBoundMB(seconds)).toBeCloseTo(bound, 10));
});

describe('judgeProcess', () => {
  it('passes a flat sawtooth whose single samples differ by more than the bound', () => {
    // Teeth of 12 MB: two single samples differ by up to 11.5 MB; the fitted line stays near zero.
    const v = judgeProcess('p', series(600, sawtooth(60, 12, 46)), 120);
    expect(v.problems).toEqual([]);
    expect(Math.abs(v.rssGrowthMB)).toBeLessThan(3);
    expect(v.rssMaxMB - 60).toBeGreaterThan(DEFAULT_BOUNDS.rssGrowthFloorMB);
  });

  it('fails a steady climb beyond the bound, and says by how much', () => {
    // 3 MB a minute: 24 MB over the 480 s after a 120 s warm-up, bound 16 MB.
    const v = judgeProcess('p', series(600, (t) => 60 + (3 * t) / 60), 120);
    expect(v.rssGrowthMB).toBeCloseTo(24, 6);
    expect(v.rssSlopeMBPerMin).toBeCloseTo(3, 6);
    expect(v.problems).toEqual(['RSS grew 24.0 MB over 480 s after the warm-up (bound 16.0 MB)']);
  });

  it('ignores what happens in the warm-up', () => {
    const v = judgeProcess('p', series(600, (t) => (t < 120 ? 20 + t / 2 : 80)), 120);
    expect(v.rssGrowthMB).toBeCloseTo(0, 6);
    expect(v.rssStartMB).toBe(80);
    expect(v.problems).toEqual([]);
  });

  it('judges descriptors once idle after the load against before it, not under load', () => {
    // Under load the count follows the concurrency (80 to 180 here) and is not judged.
    const busy = series(600, () => 60, (t) => 80 + ((t * 37) % 100));
    expect(judgeProcess('p', busy, 120, DEFAULT_BOUNDS, { fdsBefore: 70, fdsSettled: 70 + DEFAULT_BOUNDS.fdSlack }).problems).toEqual([]);
    expect(judgeProcess('p', busy, 120, DEFAULT_BOUNDS, { fdsBefore: 70, fdsSettled: 75 }).problems).toEqual([
      `75 open fds once idle after the load, 70 before it (allowed +${DEFAULT_BOUNDS.fdSlack})`,
    ]);
    expect(judgeProcess('p', busy, 120, DEFAULT_BOUNDS, { fdsBefore: 70, fdsSettled: 60 }).problems).toEqual([]);
  });

  it('fails a restart, and too few samples to judge', () => {
    expect(judgeProcess('p', series(600, () => 60), 120, DEFAULT_BOUNDS, { restarted: true }).problems).toEqual(['restarted during the run']);
    expect(judgeProcess('p', series(4, () => 60), 3).problems).toEqual(['only 1 samples after the warm-up (need 3)']);
  });
});

describe('judgeLoad', () => {
  const base = { targetRps: 500, seconds: 600, scheduled: 300_000, ok: 300_000, failed: 0, skipped: 0, failures: {} };
  it('passes every request answered at the target rate', () => expect(judgeLoad(base)).toEqual([]));
  it('fails any failed request, naming the kinds, most first', () => {
    expect(judgeLoad({ ...base, ok: 299_997, failed: 3, failures: { ECONNRESET: 1, 'HTTP 503': 2 } })).toEqual(['3 failed requests (HTTP 503: 2, ECONNRESET: 1)']);
  });
  it('fails a rate below 95% of the target, saying the machine did not keep up when requests went unsent', () => {
    expect(judgeLoad({ ...base, ok: 270_000, skipped: 30_000 })).toEqual([
      '450 req/s answered, below 95% of the target 500; 30000 requests not sent, too many earlier ones still unanswered (the machine did not keep up)',
    ]);
    expect(judgeLoad({ ...base, ok: 285_000 })).toEqual([]);
  });
});

describe('bodyProblem', () => {
  it.each([
    { body: '[{"id":1,"name":"Elinor Glasses"}]', want: undefined },
    { body: '[{"id":1,"imageUrl":"http://lorempixel.com/640/480"}]', want: 'v2 answer' },
    { body: '[]', want: 'not a list of items' },
    { body: '{"id":1}', want: 'not a list of items' },
    { body: '[{"id":1', want: 'unparsable body' },
  ])('$body -> $want', ({ body, want }) => expect(bodyProblem(body)).toBe(want));
});
