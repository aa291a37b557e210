import { expect, test } from 'vitest';
import { formatDuration, parseGoDuration } from '../../../src/config/duration.js';

test.each([
  ['45s', 45_000],
  ['1m', 60_000],
  ['1m30s', 90_000],
  ['1.5s', 1500],
  ['300ms', 300],
  ['1h2m3.5s', 3_723_500],
  ['.5s', 500],
  ['2us', 0.002],
  ['2µs', 0.002],
  ['10ns', 0.00001],
  ['-1.5h', -5_400_000],
  ['+3s', 3000],
  ['0', 0],
])('parseGoDuration(%j) = %d', (text, ms) => {
  expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
});

test.each(['', '10', '1d', '1 s', 's', '1s2', '--1s', '1.s.5', '1S', '-', '0x1s'])('parseGoDuration(%j) is undefined', (text) => {
  expect(parseGoDuration(text)).toBeUndefined();
});

test.each([
  [0, '0s'],
  [500, '500ms'],
  [45_000, '45s'],
  [90_000, '1m30s'],
  [3_600_000, '1h'],
  [-1500, '-1.5s'],
])('formatDuration(%d) = %j', (ms, text) => {
  expect(formatDuration(ms)).toBe(text);
});
