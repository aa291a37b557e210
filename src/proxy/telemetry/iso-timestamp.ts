/**
 * Envoy's %START_TIME% default rendering: ISO-8601 UTC with milliseconds (`2023-01-05T07:43:46.238Z`).
 *
 * The access log formats one timestamp per request, and `Date#toISOString` allocates a Date plus
 * does the calendar math every time. Requests cluster within the same second, so the
 * `YYYY-MM-DDTHH:MM:SS.` prefix is computed once per second and only the milliseconds are appended.
 */

let cachedSecond = Number.NaN;
let cachedPrefix = '';

export function isoTimestamp(epochMs: number): string {
  const ms = Math.floor(epochMs);
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    // `2023-01-05T07:43:46.` (20 chars). Years outside 0000..9999 render differently, but a
    // request's start time is never there.
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const milli = ms - second * 1000;
  return cachedPrefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z';
}
