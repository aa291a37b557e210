import { describe, expect, it } from 'vitest';
import { columns, fill, wrap } from '../../../lab/tutorial/text.js';

describe('text helpers', () => {
  it('fills known placeholders and leaves unknown ones visible', () => {
    expect(fill('subset {subset} of {host} {x}', { subset: 'version-v2', host: 'catalog' })).toBe('subset version-v2 of catalog {x}');
  });

  it('counts Hangul as two columns', () => {
    expect(columns('abc')).toBe(3);
    expect(columns('서브셋')).toBe(6);
    expect(columns('v1 응답')).toBe(7);
  });

  it('re-flows a paragraph to the width, keeping paragraphs and indented lines', () => {
    const out = wrap('one two three\nfour five six\n\n  kept as is\nseven', 9);
    expect(out.split('\n')).toEqual(['one two', 'three', 'four five', 'six', '', '  kept as is', 'seven']);
    for (const l of wrap('가나다 라마바 사아자 차카타 파하', 14).split('\n')) expect(columns(l)).toBeLessThanOrEqual(14);
  });
});

describe('wrap: Korean particles after an English name', () => {
  it('never starts a line with a particle', () => {
    const out = wrap('Gateway 리소스가 선언한 포트에만 listener 를 엽니다', 36).split('\n');
    expect(out).toEqual(['Gateway 리소스가 선언한 포트에만', 'listener 를 엽니다']);
    expect(wrap('aaaa bbbb listener 를', 15).split('\n')).toEqual(['aaaa bbbb', 'listener 를']);
  });
});
