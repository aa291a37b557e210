/**
 * Istio's StringMatch compiled once into a predicate, so the request path only calls a function.
 */
import type { StringMatch } from '../model/table.js';
import { asciiLowerCase, startsWithIgnoreAsciiCase } from './ascii.js';
import { RouteCompileError } from './errors.js';
import { compileFullMatchRegex } from './regex.js';

export type StringPredicate = (value: string) => boolean;

export interface StringMatchOptions {
  /**
   * ASCII case-insensitive exact/prefix (VirtualService `ignoreUriCase`, Envoy `case_sensitive:
   * false`). Has no effect on regex matches, as in Istio: write `(?i)` in the regex instead.
   */
  ignoreCase?: boolean;
}

/** Which kind of StringMatch this is, or undefined when it sets none of the three. */
export function stringMatchKind(m: StringMatch): 'exact' | 'prefix' | 'regex' | undefined {
  if (typeof (m as { exact?: unknown }).exact === 'string') return 'exact';
  if (typeof (m as { prefix?: unknown }).prefix === 'string') return 'prefix';
  if (typeof (m as { regex?: unknown }).regex === 'string') return 'regex';
  return undefined;
}

export function compileStringMatch(
  m: StringMatch,
  where: string,
  options: StringMatchOptions = {},
): StringPredicate {
  const ignoreCase = options.ignoreCase === true;
  switch (stringMatchKind(m)) {
    case 'exact': {
      const want = (m as { exact: string }).exact;
      if (!ignoreCase) return (v) => v === want;
      const lower = asciiLowerCase(want);
      return (v) => v.length === lower.length && startsWithIgnoreAsciiCase(v, lower);
    }
    case 'prefix': {
      // An empty prefix matches any value (Envoy refuses it outright; accepting it is harmless).
      const prefix = (m as { prefix: string }).prefix;
      if (!ignoreCase) return (v) => v.startsWith(prefix);
      const lower = asciiLowerCase(prefix);
      return (v) => startsWithIgnoreAsciiCase(v, lower);
    }
    case 'regex': {
      // No `g`/`y` flag, so test() keeps no state between calls and the RegExp can be shared.
      const re = compileFullMatchRegex((m as { regex: string }).regex, where);
      return (v) => re.test(v);
    }
    default:
      throw new RouteCompileError(where, 'a StringMatch needs one of exact, prefix or regex');
  }
}
