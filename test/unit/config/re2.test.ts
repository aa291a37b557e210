import { describe, expect, test } from 'vitest';
import { checkRe2Syntax } from '../../../src/config/re2.js';

describe('RE2 syntax (as Go regexp.Compile)', () => {
  test.each([
    '/items/[0-9]+',
    '^/api/v[12]/.*$',
    'a|b|(c|d)*',
    '(?i)internal',
    '(?i:Internal)-(?-i)x',
    '(?P<id>\\d+)',
    '(?<id>\\d+)',
    '(?:a|b)+?',
    'a{2}',
    'a{2,}',
    'a{2,5}?',
    'a{1000}',
    '[[:alpha:]]+[[:^digit:]]',
    '[^\\]\\-a-z]',
    '[a-]',
    '[]a]',
    '\\pL\\p{Greek}\\PN\\P{^Han}',
    '\\x41\\x{1F600}\\101\\0',
    '\\Qa.b*c\\E+',
    '\\A\\bword\\B\\z',
    '\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\\\/\\-',
    '{',
    'a{,3}',
    'x{2}{',
    '',
    '.*',
  ])('accepts %j', (re) => {
    expect(checkRe2Syntax(re)).toBeUndefined();
  });

  test.each([
    ['a(?=b)', 'invalid or unsupported Perl syntax: `(?=`'],
    ['a(?!b)', 'invalid or unsupported Perl syntax: `(?!`'],
    ['(?<=a)b', 'invalid or unsupported Perl syntax: `(?<=`'],
    ['(?<!a)b', 'invalid or unsupported Perl syntax: `(?<!`'],
    ['(?>a+)b', 'invalid or unsupported Perl syntax: `(?>`'],
    ['(?#comment)', 'invalid or unsupported Perl syntax: `(?#`'],
    ['(a)\\1', 'invalid escape sequence: `\\1`'],
    ['(?<n>a)\\k<n>', 'invalid escape sequence: `\\k`'],
    ['a\\Z', 'invalid escape sequence: `\\Z`'],
    ['\\Ga', 'invalid escape sequence: `\\G`'],
    ['\\8', 'invalid escape sequence: `\\8`'],
    ['a**', 'invalid nested repetition operator: `**`'],
    ['a*+', 'invalid nested repetition operator: `*+`'],
    ['a++', 'invalid nested repetition operator: `++`'],
    ['a{2}{3}', 'invalid nested repetition operator: `}{3}`'],
    ['*a', 'missing argument to repetition operator: `*`'],
    ['a|+', 'missing argument to repetition operator: `+`'],
    ['(?i)*', 'missing argument to repetition operator: `*`'],
    ['a{1001}', 'invalid repeat count: `{1001}`'],
    ['a{5,2}', 'invalid repeat count: `{5,2}`'],
    ['(abc', 'missing closing ): `(abc`'],
    ['abc)', 'unexpected ): `abc)`'],
    ['[abc', 'missing closing ]: `[abc`'],
    ['[z-a]', 'invalid character class range: `z-a`'],
    ['[[:word2:]]', 'invalid character class range: `[:word2:]`'],
    ['(?P<1 a>x)', 'invalid named capture: `(?P<1 a>`'],
    ['abc\\', 'trailing backslash at end of expression: ``'],
    ['[\\b]', 'invalid escape sequence: `\\b`'],
  ])('rejects %j', (re, message) => {
    expect(checkRe2Syntax(re)).toBe(`error parsing regexp: ${message}`);
  });
});
