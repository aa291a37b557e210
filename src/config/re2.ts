/**
 * RE2 syntax check for StringMatch `regex` (and `uriRegexRewrite.match`). Istio validates these with
 * Go's `regexp.Compile` and Envoy runs them with RE2; both reject what JavaScript accepts: lookaround
 * `(?=`, `(?!`, `(?<=`, `(?<!`, backreferences `\1`, `\k<n>`, atomic groups `(?>`, possessive and
 * nested repetition `a*+`, `a**`, repeat counts above 1000. Messages follow Go's `regexp/syntax`:
 * "error parsing regexp: invalid or unsupported Perl syntax: `(?=`".
 */

const POSIX_CLASSES = new Set([
  'alnum', 'alpha', 'ascii', 'blank', 'cntrl', 'digit', 'graph', 'lower', 'print', 'punct', 'space', 'upper', 'word', 'xdigit',
]);
/** Escapes RE2 understands outside classes (besides punctuation, octal, \x, \p, \Q). */
const SIMPLE_ESCAPES = new Set(['A', 'z', 'b', 'B', 'd', 'D', 's', 'S', 'w', 'W', 'a', 'f', 't', 'n', 'r', 'v']);
/** Inside classes only character escapes and the Perl classes are allowed (no \b, \A, \z). */
const CLASS_ESCAPES = new Set(['d', 'D', 's', 'S', 'w', 'W', 'a', 'f', 't', 'n', 'r', 'v']);
const MAX_REPEAT = 1000;

class Re2SyntaxError extends Error {}

function fail(code: string, fragment: string): never {
  throw new Re2SyntaxError(`error parsing regexp: ${code}: \`${fragment}\``);
}

/** Undefined when `pattern` is valid RE2 syntax, else Go's error text. */
export function checkRe2Syntax(pattern: string): string | undefined {
  try {
    new Re2Checker(pattern).run();
    return undefined;
  } catch (e) {
    if (e instanceof Re2SyntaxError) return e.message;
    throw e;
  }
}

class Re2Checker {
  private i = 0;
  private readonly groups: number[] = [];
  /** Whether the last item can take a repetition operator, and whether it is one already. */
  private atom = false;
  private repeated = false;

  constructor(private readonly s: string) {}

  run(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i]!;
      switch (c) {
        case '(':
          this.group();
          break;
        case ')':
          if (this.groups.length === 0) fail('unexpected )', s);
          this.groups.pop();
          this.i++;
          this.setAtom();
          break;
        case '|':
          this.i++;
          this.atom = false;
          this.repeated = false;
          break;
        case '*':
        case '+':
        case '?':
          this.repeat(c, 1);
          break;
        case '{': {
          const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(this.i));
          if (!m) {
            // Not a repeat: a literal brace.
            this.i++;
            this.setAtom();
            break;
          }
          const min = Number(m[1]);
          const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
          if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && max < min)) fail('invalid repeat count', m[0]);
          this.repeat(m[0], m[0].length);
          break;
        }
        case '[':
          this.charClass();
          this.setAtom();
          break;
        case '\\':
          this.escape();
          break;
        default:
          this.i++;
          this.setAtom();
      }
    }
    if (this.groups.length > 0) fail('missing closing )', s);
  }

  private setAtom(): void {
    this.atom = true;
    this.repeated = false;
  }

  private repeat(op: string, len: number): void {
    const s = this.s;
    if (this.repeated) fail('invalid nested repetition operator', s.slice(this.i - 1, this.i + len));
    if (!this.atom) fail('missing argument to repetition operator', op);
    this.i += len;
    // A single `?` after a repetition makes it non-greedy; anything else repeating it again is nested.
    if (s[this.i] === '?') this.i++;
    this.repeated = true;
  }

  private group(): void {
    const s = this.s;
    const start = this.i;
    if (s[this.i + 1] !== '?') {
      this.groups.push(start);
      this.i++;
      this.atom = false;
      this.repeated = false;
      return;
    }
    const rest = s.slice(this.i);
    const named = /^\(\?P?<([^>]*)>/.exec(rest);
    if (named && !rest.startsWith('(?<=') && !rest.startsWith('(?<!')) {
      if (!/^[A-Za-z0-9_]+$/.test(named[1]!)) fail('invalid named capture', named[0]);
      this.groups.push(start);
      this.i += named[0].length;
      this.atom = false;
      this.repeated = false;
      return;
    }
    // Flags: (?i) (?-s) (?i:re) with i, m, s, U.
    const flags = /^\(\?([imsU]*(-[imsU]+)?)(\)|:)/.exec(rest);
    if (flags && flags[1] !== '' && flags[1] !== '-') {
      this.i += flags[0].length;
      if (flags[3] === ':') {
        this.groups.push(start);
        this.atom = false;
      }
      // `(?i)` only changes flags: it is not something to repeat.
      this.repeated = false;
      return;
    }
    if (rest.startsWith('(?:')) {
      this.groups.push(start);
      this.i += 3;
      this.atom = false;
      this.repeated = false;
      return;
    }
    // (?=, (?!, (?<=, (?<!, (?>, (?#, (?(, (?R, (?1 ...
    const op = rest.startsWith('(?<=') || rest.startsWith('(?<!') ? rest.slice(0, 4) : rest.slice(0, 3);
    fail('invalid or unsupported Perl syntax', op);
  }

  /** `\` outside a class. */
  private escape(): void {
    const s = this.s;
    const start = this.i;
    if (this.i + 1 >= s.length) fail('trailing backslash at end of expression', '');
    const c = s[this.i + 1]!;
    if (c === 'Q') {
      const end = s.indexOf('\\E', this.i + 2);
      this.i = end < 0 ? s.length : end + 2;
      this.setAtom();
      return;
    }
    this.i = this.charEscape(start, false);
    // \A, \z, \b, \B are assertions; Go lets them be repeated like any item, so treat all as atoms.
    this.setAtom();
  }

  /** Validates the escape at `start` (pointing at `\`); returns the index after it. */
  private charEscape(start: number, inClass: boolean): number {
    const s = this.s;
    if (start + 1 >= s.length) fail('trailing backslash at end of expression', '');
    const c = s[start + 1]!;
    if (c >= '1' && c <= '7') {
      // A single non-zero digit would be a backreference; RE2 only has octal escapes like \12.
      const next = s[start + 2];
      if (next === undefined || next < '0' || next > '7') fail('invalid escape sequence', s.slice(start, start + 2));
    }
    if (c >= '0' && c <= '7') {
      let j = start + 2;
      while (j < start + 4 && s[j] !== undefined && s[j]! >= '0' && s[j]! <= '7') j++;
      return j;
    }
    if (c === '8' || c === '9') fail('invalid escape sequence', s.slice(start, start + 2));
    if (c === 'x') {
      if (s[start + 2] === '{') {
        const m = /^\{([0-9A-Fa-f]+)\}/.exec(s.slice(start + 2));
        if (!m || parseInt(m[1]!, 16) > 0x10ffff) fail('invalid escape sequence', s.slice(start, start + 3 + (m?.[0].length ?? 0)));
        return start + 2 + m[0].length;
      }
      if (!/^[0-9A-Fa-f]{2}/.test(s.slice(start + 2))) fail('invalid escape sequence', s.slice(start, start + 4));
      return start + 4;
    }
    if (c === 'p' || c === 'P') {
      if (s[start + 2] === '{') {
        const end = s.indexOf('}', start + 3);
        if (end < 0) fail('invalid character class range', s.slice(start));
        const name = s.slice(start + 3, end).replace(/^\^/, '');
        if (!isUnicodeClass(name)) fail('invalid character class range', s.slice(start, end + 1));
        return end + 1;
      }
      if (!UNICODE_CATEGORIES.has(s[start + 2] ?? '')) fail('invalid character class range', s.slice(start, start + 3));
      return start + 3;
    }
    if (/[A-Za-z0-9_]/.test(c)) {
      const ok = inClass ? CLASS_ESCAPES.has(c) : SIMPLE_ESCAPES.has(c);
      if (!ok) fail('invalid escape sequence', s.slice(start, start + 2));
      return start + 2;
    }
    // Any escaped punctuation is that character.
    return start + 2;
  }

  private charClass(): void {
    const s = this.s;
    const start = this.i;
    let j = this.i + 1;
    if (s[j] === '^') j++;
    let first = true;
    while (true) {
      if (j >= s.length) fail('missing closing ]', s.slice(start));
      const c = s[j]!;
      if (c === ']' && !first) {
        this.i = j + 1;
        return;
      }
      first = false;
      if (c === '[' && s[j + 1] === ':') {
        const end = s.indexOf(':]', j + 2);
        if (end >= 0) {
          const name = s.slice(j + 2, end).replace(/^\^/, '');
          if (!POSIX_CLASSES.has(name)) fail('invalid character class range', s.slice(j, end + 2));
          j = end + 2;
          continue;
        }
      }
      let lo: number | undefined;
      let next: number;
      if (c === '\\') {
        next = this.charEscape(j, true);
        lo = escapedCodePoint(s.slice(j, next));
      } else {
        const cp = s.codePointAt(j)!;
        lo = cp;
        next = j + (cp > 0xffff ? 2 : 1);
      }
      // A range `lo-hi` (a `-` before `]` is literal).
      if (s[next] === '-' && s[next + 1] !== undefined && s[next + 1] !== ']') {
        let hiEnd: number;
        let hi: number | undefined;
        if (s[next + 1] === '\\') {
          hiEnd = this.charEscape(next + 1, true);
          hi = escapedCodePoint(s.slice(next + 1, hiEnd));
        } else {
          hi = s.codePointAt(next + 1)!;
          hiEnd = next + 1 + (hi > 0xffff ? 2 : 1);
        }
        if (lo === undefined || hi === undefined || hi < lo) fail('invalid character class range', s.slice(j, hiEnd));
        j = hiEnd;
        continue;
      }
      j = next;
    }
  }
}

/** Go's `unicode.Categories` (`\\p{Lu}`; the one-letter ones also as `\\pL`). */
const UNICODE_CATEGORIES = new Set([
  'C', 'Cc', 'Cf', 'Co', 'Cs', 'L', 'Ll', 'Lm', 'Lo', 'Lt', 'Lu', 'M', 'Mc', 'Me', 'Mn', 'N', 'Nd', 'Nl', 'No',
  'P', 'Pc', 'Pd', 'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'S', 'Sc', 'Sk', 'Sm', 'So', 'Z', 'Zl', 'Zp', 'Zs',
]);

/**
 * `\\p{Name}`: `Any`, a category, or a script (`Greek`, `Old_Italic`), as Go's `unicode.Scripts`.
 * Scripts are checked against JavaScript's Unicode data, which also knows their short aliases.
 */
function isUnicodeClass(name: string): boolean {
  if (name === 'Any' || UNICODE_CATEGORIES.has(name)) return true;
  if (!/^[A-Z][A-Za-z_]*$/.test(name)) return false;
  try {
    new RegExp(`\\p{Script=${name}}`, 'u');
    return true;
  } catch {
    return false;
  }
}

/** Code point of a single-character escape (`\.` `\x41` `\101` `\n`); undefined for classes (`\d`). */
function escapedCodePoint(esc: string): number | undefined {
  const c = esc[1]!;
  if (c === 'x') return parseInt(esc.slice(2).replace(/[{}]/g, ''), 16);
  if (c >= '0' && c <= '7') return parseInt(esc.slice(1), 8);
  const named: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 };
  if (c in named) return named[c];
  if (/[A-Za-z0-9]/.test(c)) return undefined;
  return c.codePointAt(0);
}
