/**
 * Istio and Envoy regexes are RE2 and must match the WHOLE value (`regex: /item` does not match
 * `/items`). JS RegExp reads most RE2 patterns the same way; this module translates the few RE2
 * spellings JS would read differently, and rejects what RE2 itself rejects (lookaround,
 * backreferences) so a rule that loads here also loads in Envoy.
 *
 * Not reproduced: RE2's linear-time guarantee. JS backtracks, so a pathological pattern can be
 * slow on a crafted input; configs in the lab are trusted.
 */
import { RouteCompileError } from './errors.js';

/** RE2's ASCII POSIX classes (`[[:digit:]]`), which JS would read as a plain set of characters. */
const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

// Absolute text boundaries that stay absolute even with the `m` flag (RE2's \A and \z).
const TEXT_START = '(?<![\\s\\S])';
const TEXT_END = '(?![\\s\\S])';

/** Compiles an RE2 pattern into a RegExp that only accepts a whole-value match. */
export function compileFullMatchRegex(pattern: string, where: string): RegExp {
  if (typeof pattern !== 'string') throw new RouteCompileError(where, 'regex must be a string');
  let body = pattern;
  let flags = '';
  // RE2 allows flag groups anywhere; JS (Node 20) has no inline modifiers, so only a leading
  // group, which applies to the whole pattern, can be turned into RegExp flags.
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(body);
  if (lead) {
    for (const f of lead[1]!) {
      if (f !== 'i' && f !== 's' && f !== 'm') {
        throw new RouteCompileError(where, `unsupported regex flag (?${f}) in ${JSON.stringify(pattern)}`);
      }
      if (!flags.includes(f)) flags += f;
    }
    body = body.slice(lead[0].length);
  }
  const translated = translateRe2(body, where, pattern);
  // With `m`, ^ and $ would also match around newlines; use absolute boundaries instead.
  const source = flags.includes('m')
    ? `${TEXT_START}(?:${translated})${TEXT_END}`
    : `^(?:${translated})$`;
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new RouteCompileError(
      where,
      `invalid regex ${JSON.stringify(pattern)}: ${(err as Error).message}`,
    );
  }
}

function translateRe2(src: string, where: string, original: string): string {
  const fail = (what: string): never => {
    throw new RouteCompileError(where, `${what} in regex ${JSON.stringify(original)} (RE2 syntax)`);
  };
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) fail('trailing backslash');
      if (n === 'p' || n === 'P') fail('unicode classes (\\p) are not supported');
      if (n === 'Q' || n === 'E' || n === 'C') fail(`\\${n} is not supported`);
      if (n === 'x' && src[i + 2] === '{') fail('\\x{...} is not supported');
      if (n! >= '1' && n! <= '9') fail('backreferences are not supported');
      if (!inClass && n === 'A') out += TEXT_START;
      else if (!inClass && n === 'z') out += TEXT_END;
      else if (n === 'Z') fail('\\Z is not supported');
      else out += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === '[' && src[i + 1] === ':') {
        const end = src.indexOf(':]', i + 2);
        if (end < 0) fail('unterminated [: class');
        const name = src.slice(i + 2, end);
        const set = POSIX_CLASSES[name];
        if (set === undefined) fail(`unknown or negated POSIX class [:${name}:]`);
        out += set;
        i = end + 1;
        continue;
      }
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += '[';
      if (src[i + 1] === '^') {
        out += '^';
        i++;
      }
      // In RE2 a `]` right after `[` or `[^` is a literal; in JS `[]` is an empty class.
      if (src[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && src[i + 1] === '?') {
      const rest = src.slice(i + 2, i + 4);
      if (rest.startsWith('P<')) {
        out += '(?<'; // RE2's (?P<name>...) is JS's (?<name>...)
        i += 3;
        continue;
      }
      if (rest[0] === '=' || rest[0] === '!' || rest === '<=' || rest === '<!') {
        fail('lookaround is not supported');
      }
      if (rest[0] !== ':' && rest[0] !== '<') fail('inline flags are only supported at the start');
    }
    out += c;
  }
  if (inClass) fail('missing ]');
  return out;
}
