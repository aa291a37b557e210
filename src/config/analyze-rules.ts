/**
 * Rules of one VirtualService that can never match. Istio's MatchesAnalyzer (IST0130, IST0131)
 * compares matches by their JSON: a second match-less rule, or a match identical to an earlier
 * one. The lab adds LAB0001 for what the book's readers meet more often: a rule after an earlier
 * one that matches every request it would (a catch-all first, or a broader uri prefix with no
 * other conditions), which Istio accepts silently.
 */
import type { KubeObject } from '../model/objects.js';
import { goQuote } from './analysis-messages.js';
import { isPlainObject } from './schema.js';

export interface RuleFinding {
  code: 'IST0130' | 'IST0131' | 'LAB0001';
  path: string;
  message: string;
}

type Match = Record<string, unknown>;

/** Canonical JSON (keys sorted) of a match without its name, as Istio's asJSON. */
function asJson(m: Match): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort) : isPlainObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])])) : v;
  const { name: _name, ...rest } = m;
  return JSON.stringify(sort(rest));
}

function ruleName(route: Match, i: number): string {
  return typeof route['name'] === 'string' && route['name'] !== '' ? goQuote(route['name']) : `#${i}`;
}

function matchName(m: Match, i: number): string {
  return typeof m['name'] === 'string' && m['name'] !== '' ? goQuote(m['name']) : `#${i}`;
}

/** True when every request `later` matches is matched by `earlier` (only the cases decidable by shape). */
function covers(earlier: Match, later: Match): boolean {
  const { name: _a, uri: eu, ...eRest } = earlier;
  const { name: _b, uri: lu, ...lRest } = later;
  // Every other condition of the earlier match must appear, identically, in the later one.
  for (const [k, v] of Object.entries(eRest)) if (JSON.stringify(v) !== JSON.stringify(lRest[k])) return false;
  if (eu === undefined) return true;
  if (!isPlainObject(eu) || !isPlainObject(lu)) return false;
  if (earlier['ignoreUriCase'] !== later['ignoreUriCase']) return false;
  const ePrefix = eu['prefix'];
  if (typeof ePrefix === 'string') {
    const l = typeof lu['prefix'] === 'string' ? lu['prefix'] : typeof lu['exact'] === 'string' ? lu['exact'] : undefined;
    return l !== undefined && l.startsWith(ePrefix);
  }
  if (typeof eu['exact'] === 'string') return lu['exact'] === eu['exact'];
  return false;
}

export function analyzeRules(vs: KubeObject): RuleFinding[] {
  const spec = isPlainObject(vs.spec) ? vs.spec : {};
  const out: RuleFinding[] = [];
  for (const section of ['http', 'tcp', 'tls'] as const) {
    const routes = (Array.isArray(spec[section]) ? spec[section] : []) as unknown[];
    const seen = new Map<string, number>();
    let matchless = -1;
    const earlier: Array<{ rule: number; matches: Match[] }> = [];
    routes.forEach((r, i) => {
      if (!isPlainObject(r)) return;
      const path = `spec.${section}[${i}]`;
      const matches = (Array.isArray(r['match']) ? r['match'] : []).filter(isPlainObject);
      // LAB0001 first: it explains a rule in terms of the one that takes its traffic.
      const istioFlags = matches.length === 0 ? matchless >= 0 : matches.every((m) => seen.has(asJson(m)));
      if (section === 'http' && !istioFlags) {
        const catchAll = matchless >= 0 ? matchless : earlier.find((e) => e.matches.some((m) => asJson(m) === '{}'))?.rule;
        if (catchAll !== undefined && catchAll >= 0) {
          out.push({ code: 'LAB0001', path, message: `VirtualService rule ${ruleName(r, i)} is never used: rule ${ruleName(routes[catchAll] as Match, catchAll)} before it matches every request` });
        } else if (matches.length > 0) {
          const shadow = matches.map((m) => earlier.find((e) => e.matches.some((em) => covers(em, m)) && !e.matches.some((em) => asJson(em) === asJson(m))));
          if (shadow.every((s) => s !== undefined)) {
            const by = [...new Set(shadow.map((s) => ruleName(routes[s!.rule] as Match, s!.rule)))].join(', ');
            out.push({ code: 'LAB0001', path, message: `VirtualService rule ${ruleName(r, i)} is never used: every request it matches is matched first by rule ${by}` });
          }
        }
      }
      if (matches.length === 0) {
        if (matchless >= 0) out.push({ code: 'IST0130', path, message: `VirtualService rule ${ruleName(r, i)} not used (only the last rule can have no matches).` });
        matchless = i;
        return;
      }
      let dupes = 0;
      matches.forEach((m, j) => {
        const key = asJson(m);
        const dup = seen.get(key);
        if (dup !== undefined) {
          out.push({
            code: 'IST0131',
            path: `${path}.match[${j}]`,
            message: `VirtualService rule ${ruleName(r, i)} match ${matchName(m, j)} is not used (duplicates a match in rule ${ruleName(routes[dup] as Match, dup)}).`,
          });
          dupes++;
        } else seen.set(key, i);
      });
      if (dupes === matches.length) out.push({ code: 'IST0130', path, message: `VirtualService rule ${ruleName(r, i)} not used (all matches used by prior rules).` });
      earlier.push({ rule: i, matches });
    });
  }
  return out;
}
