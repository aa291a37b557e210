/**
 * ASCII-only case folding. Host names and Envoy's `ignore_case` matching fold ASCII only; full
 * Unicode folding (`toLowerCase`) would, for example, turn the Kelvin sign `K` (U+212A) into `k`
 * and let an odd Host header match a configured name.
 */

/** Lowercases A-Z only; returns the same string when there is nothing to change (no allocation). */
export function asciiLowerCase(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  }
  return s;
}

/**
 * True when `value` starts with `lowerPrefix` ignoring ASCII case. `lowerPrefix` must already be
 * ASCII-lowercased (done once at compile time) so the request path only folds one side.
 */
export function startsWithIgnoreAsciiCase(value: string, lowerPrefix: string): boolean {
  const n = lowerPrefix.length;
  if (value.length < n) return false;
  for (let i = 0; i < n; i++) {
    let c = value.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lowerPrefix.charCodeAt(i)) return false;
  }
  return true;
}
