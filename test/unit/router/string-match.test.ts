import { describe, expect, it } from 'vitest';
import type { StringMatch } from '../../../src/model/table.js';
import { RouteCompileError } from '../../../src/router/errors.js';
import { compileStringMatch } from '../../../src/router/string-match.js';

describe('compileStringMatch', () => {
  const rows: [string, StringMatch, boolean, string, boolean][] = [
    ['exact', { exact: 'abc' }, false, 'abc', true],
    ['exact is case-sensitive', { exact: 'abc' }, false, 'ABC', false],
    ['exact ignoreCase', { exact: 'aBc' }, true, 'AbC', true],
    ['exact ignoreCase folds ASCII only (Kelvin sign is not k)', { exact: 'k' }, true, '\u212a', false],
    ['prefix', { prefix: '/a' }, false, '/ab', true],
    ['empty prefix matches anything', { prefix: '' }, false, 'x', true],
    ['prefix ignoreCase', { prefix: '/API' }, true, '/api/x', true],
    ['regex is anchored', { regex: 'b' }, false, 'abc', false],
    ['regex ignores ignoreCase', { regex: 'abc' }, true, 'ABC', false],
    ['(?i) flag', { regex: '(?i)abc' }, false, 'ABC', true],
    ['(?s) lets . match newlines', { regex: '(?s)a.b' }, false, 'a\nb', true],
    ['(?m) keeps the match whole', { regex: '(?m)a$' }, false, 'a\nb', false],
    ['\\A and \\z', { regex: '\\Aab\\z' }, false, 'ab', true],
    ['POSIX class', { regex: '[[:digit:]]+' }, false, '123', true],
    ['POSIX class rejects others', { regex: '[[:digit:]]+' }, false, '12a', false],
    ['(?P<name>) group', { regex: '(?P<v>v[0-9])' }, false, 'v2', true],
    ['] first in a class is literal', { regex: '[]a]+' }, false, ']a]', true],
    ['[^]...] negated with literal ]', { regex: '[^]]+' }, false, 'abc', true],
  ];
  it.each(rows)('%s', (_name, m, ignoreCase, value, expected) => {
    expect(compileStringMatch(m, 'test', { ignoreCase })(value)).toBe(expected);
  });

  const rejected: [string, string][] = [
    ['lookahead', '(?=a)a'],
    ['negative lookbehind', '(?<!a)b'],
    ['backreference', '(a)\\1'],
    ['\\p classes', '\\pL'],
    ['inline flags mid-pattern', 'a(?i)b'],
    ['unknown POSIX class', '[[:nope:]]'],
    ['unbalanced', '(a'],
    ['missing ]', '[a'],
    ['trailing backslash', 'a\\'],
  ];
  it.each(rejected)('rejects %s', (_name, regex) => {
    expect(() => compileStringMatch({ regex }, 'where')).toThrow(RouteCompileError);
  });
});
