import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../../src/metrics/prometheus-text.js';

describe('parsePrometheusText', () => {
  it('reads names, labels, special values and timestamps; skips comments', () => {
    const text = [
      '# HELP x help',
      '# TYPE x counter',
      'up 1',
      'x_bucket{a="1", b="two words",le="+Inf"} 3 1700000000000',
      'y{} -Inf',
      'z{q="a\\"b\\\\c\\nd"} NaN',
      'w 1.5e+06',
      '',
    ].join('\n');
    const samples = parsePrometheusText(text);
    expect(samples[0]).toEqual({ name: 'up', labels: {}, value: 1 });
    expect(samples[1]).toEqual({
      name: 'x_bucket',
      labels: { a: '1', b: 'two words', le: '+Inf' },
      value: 3,
      timestampMs: 1700000000000,
    });
    expect(samples[2].value).toBe(-Infinity);
    expect(samples[3].labels.q).toBe('a"b\\c\nd');
    expect(samples[3].value).toBeNaN();
    expect(samples[4].value).toBe(1500000);
    expect(samples).toHaveLength(5);
  });

  it('throws on malformed lines', () => {
    expect(() => parsePrometheusText('x{a="1} 2')).toThrow();
    expect(() => parsePrometheusText('x{a=1} 2')).toThrow();
    expect(() => parsePrometheusText('x')).toThrow();
    expect(() => parsePrometheusText('x abc')).toThrow();
  });
});
