/**
 * A parser for the part of PromQL the embedded provider evaluates: what Flagger's builtin checks,
 * typical MetricTemplates and the dashboard ask (selectors, `rate`/`increase`, aggregations with
 * `by`/`without`, `histogram_quantile`, arithmetic). Anything else is refused with the construct
 * named, so a MetricTemplate the embedded provider cannot run is rejected at apply, not at analysis.
 */
import type { LabelMatcher, MatchOp } from '../promql-lite.js';

export type BinaryOp = '+' | '-' | '*' | '/' | '%';
export type AggregateOp = 'sum' | 'avg' | 'min' | 'max' | 'count';

export type Expr =
  | { kind: 'number'; value: number }
  | { kind: 'selector'; name: string; matchers: LabelMatcher[]; rangeMs?: number }
  | { kind: 'call'; fn: string; args: Expr[] }
  | { kind: 'aggregate'; op: AggregateOp; grouping?: { mode: 'by' | 'without'; labels: string[] }; expr: Expr }
  | { kind: 'binary'; op: BinaryOp; lhs: Expr; rhs: Expr }
  | { kind: 'negate'; expr: Expr };

export class PromQLError extends Error {}

const FUNCTIONS: Record<string, Array<'scalar' | 'vector' | 'range'>> = {
  rate: ['range'],
  increase: ['range'],
  histogram_quantile: ['scalar', 'vector'],
  vector: ['scalar'],
  abs: ['vector'],
};
const AGGREGATES = new Set<string>(['sum', 'avg', 'min', 'max', 'count']);
/** Valid PromQL the evaluator does not implement: named in the error rather than "syntax error". */
const UNSUPPORTED_WORDS = new Set(['and', 'or', 'unless', 'bool', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'topk', 'bottomk', 'quantile', 'stddev', 'stdvar', 'count_values', 'group']);

type Token =
  | { t: 'ident'; v: string; at: number }
  | { t: 'num'; v: number; at: number }
  | { t: 'str'; v: string; at: number }
  | { t: 'dur'; v: number; text: string; at: number }
  | { t: 'op'; v: string; at: number }
  | { t: 'eof'; at: number };

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** PromQL durations: one or more `<int><unit>` parts, largest unit first (`1m30s`, `1333ms`). */
export function parsePromDuration(text: string): number | undefined {
  const re = /(\d+)(ms|s|m|h|d|w|y)/y;
  let pos = 0;
  let total = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  return pos === 0 ? undefined : total;
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let inBrackets = false;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const at = i;
    if (inBrackets && c === ':') {
      out.push({ t: 'op', v: c, at });
      i++;
      continue;
    }
    if (inBrackets && /[0-9]/.test(c)) {
      let j = i;
      while (j < src.length && /[0-9a-z]/.test(src[j]!)) j++;
      const text = src.slice(i, j);
      const ms = parsePromDuration(text);
      if (ms === undefined) throw new PromQLError(`bad duration ${JSON.stringify(text)} at ${at}`);
      out.push({ t: 'dur', v: ms, text, at });
      i = j;
      continue;
    }
    if (/[0-9.]/.test(c)) {
      const m = /^(0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(src.slice(i));
      if (!m) throw new PromQLError(`bad number at ${at}`);
      out.push({ t: 'num', v: Number(m[1]), at });
      i += m[1]!.length;
      continue;
    }
    if (/[a-zA-Z_:]/.test(c)) {
      let j = i;
      while (j < src.length && /[a-zA-Z0-9_:]/.test(src[j]!)) j++;
      const word = src.slice(i, j);
      if (/^(inf|nan)$/i.test(word)) out.push({ t: 'num', v: word.toLowerCase() === 'inf' ? Infinity : NaN, at });
      else out.push({ t: 'ident', v: word, at });
      i = j;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      let v = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && c !== '`') {
          const e = src[j + 1];
          v += e === 'n' ? '\n' : e === 't' ? '\t' : e === '\\' ? '\\' : e === c ? c : '\\' + e;
          j += 2;
        } else v += src[j++];
      }
      if (j >= src.length) throw new PromQLError(`unterminated string at ${at}`);
      out.push({ t: 'str', v, at });
      i = j + 1;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['!=', '=~', '!~', '==', '>=', '<='].includes(two)) {
      out.push({ t: 'op', v: two, at });
      i += 2;
      continue;
    }
    if ('{}()[],=+-*/%^<>:@'.includes(c)) {
      if (c === '[') inBrackets = true;
      if (c === ']') inBrackets = false;
      out.push({ t: 'op', v: c, at });
      i++;
      continue;
    }
    throw new PromQLError(`unexpected character ${JSON.stringify(c)} at ${at}`);
  }
  out.push({ t: 'eof', at: src.length });
  return out;
}

const PRECEDENCE: Record<string, number> = { '+': 1, '-': 1, '*': 2, '/': 2, '%': 2 };

class Parser {
  private pos = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token {
    return this.toks[this.pos]!;
  }
  private next(): Token {
    return this.toks[this.pos++]!;
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }
  private expectOp(v: string): void {
    const t = this.next();
    if (t.t !== 'op' || t.v !== v) throw new PromQLError(`expected "${v}" at ${t.at}, found ${describe(t)}`);
  }

  parse(): Expr {
    const e = this.expr(0);
    const t = this.peek();
    if (t.t !== 'eof') throw this.unexpected(t);
    return e;
  }

  private unexpected(t: Token): PromQLError {
    if (t.t === 'op' && ['==', '!=', '>', '<', '>=', '<='].includes(t.v)) return new PromQLError(`comparison "${t.v}" (at ${t.at}) is not supported by the embedded evaluator`);
    if (t.t === 'op' && (t.v === '^' || t.v === '@')) return new PromQLError(`"${t.v}" (at ${t.at}) is not supported by the embedded evaluator`);
    if (t.t === 'ident' && UNSUPPORTED_WORDS.has(t.v)) return new PromQLError(`"${t.v}" (at ${t.at}) is not supported by the embedded evaluator`);
    return new PromQLError(`unexpected ${describe(t)} at ${t.at}`);
  }

  private expr(minPrec: number): Expr {
    let lhs = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.t !== 'op' || PRECEDENCE[t.v] === undefined || PRECEDENCE[t.v]! < minPrec) break;
      this.next();
      const after = this.peek();
      if (after.t === 'ident' && UNSUPPORTED_WORDS.has(after.v)) throw this.unexpected(after);
      const rhs = this.expr(PRECEDENCE[t.v]! + 1);
      lhs = { kind: 'binary', op: t.v as BinaryOp, lhs, rhs };
    }
    return lhs;
  }

  private unary(): Expr {
    if (this.isOp('-')) {
      this.next();
      return { kind: 'negate', expr: this.unary() };
    }
    if (this.isOp('+')) {
      this.next();
      return this.unary();
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.peek();
    if (t.t === 'num') {
      this.next();
      return { kind: 'number', value: t.v };
    }
    if (t.t === 'op' && t.v === '(') {
      this.next();
      const e = this.expr(0);
      this.expectOp(')');
      return this.maybeRange(e);
    }
    if (t.t === 'op' && t.v === '{') return this.maybeRange(this.selector(''));
    if (t.t !== 'ident') throw this.unexpected(t);
    if (UNSUPPORTED_WORDS.has(t.v) && !this.followedBy('{')) throw this.unexpected(t);
    if (AGGREGATES.has(t.v) && (this.followedBy('(') || this.followedByIdent('by') || this.followedByIdent('without'))) return this.aggregate();
    if (this.followedBy('(')) return this.call();
    this.next();
    return this.maybeRange(this.selector(t.v));
  }

  private followedBy(op: string): boolean {
    const t = this.toks[this.pos + 1];
    return t?.t === 'op' && t.v === op;
  }
  private followedByIdent(word: string): boolean {
    const t = this.toks[this.pos + 1];
    return t?.t === 'ident' && t.v === word;
  }

  private maybeRange(e: Expr): Expr {
    if (!this.isOp('[')) return e;
    const open = this.next();
    if (e.kind !== 'selector') throw new PromQLError(`subqueries (a range on an expression, at ${open.at}) are not supported by the embedded evaluator`);
    const d = this.next();
    if (d.t !== 'dur') throw new PromQLError(`expected a duration at ${d.at}, found ${describe(d)}`);
    if (this.isOp(':')) throw new PromQLError(`subqueries (at ${d.at}) are not supported by the embedded evaluator`);
    this.expectOp(']');
    if (this.peek().t === 'ident' && (this.peek() as { v: string }).v === 'offset') throw this.unexpected(this.peek());
    return { ...e, rangeMs: d.v };
  }

  private selector(name: string): Expr {
    const matchers: LabelMatcher[] = [];
    if (this.isOp('{')) {
      this.next();
      while (!this.isOp('}')) {
        const l = this.next();
        if (l.t !== 'ident') throw new PromQLError(`expected a label name at ${l.at}, found ${describe(l)}`);
        const op = this.next();
        if (op.t !== 'op' || !['=', '!=', '=~', '!~'].includes(op.v)) throw new PromQLError(`expected a label matcher (=, !=, =~, !~) at ${op.at}, found ${describe(op)}`);
        const v = this.next();
        if (v.t !== 'str') throw new PromQLError(`expected a quoted label value at ${v.at}, found ${describe(v)}`);
        if (op.v === '=~' || op.v === '!~') {
          try {
            new RegExp('^(?:' + v.v + ')$');
          } catch (err) {
            throw new PromQLError(`bad regex ${JSON.stringify(v.v)} for label ${l.v}: ${(err as Error).message}`);
          }
        }
        if (l.v === '__name__' && op.v === '=') name = v.v;
        else matchers.push({ label: l.v, op: op.v as MatchOp, value: v.v });
        if (this.isOp(',')) this.next();
        else if (!this.isOp('}')) throw new PromQLError(`expected "," or "}" at ${this.peek().at}, found ${describe(this.peek())}`);
      }
      this.next();
    }
    if (name === '') throw new PromQLError('a selector needs a metric name (the embedded evaluator does not match on labels alone)');
    return { kind: 'selector', name, matchers };
  }

  private grouping(): { mode: 'by' | 'without'; labels: string[] } {
    const mode = this.next() as { v: string };
    this.expectOp('(');
    const labels: string[] = [];
    while (!this.isOp(')')) {
      const l = this.next();
      if (l.t !== 'ident') throw new PromQLError(`expected a label name at ${l.at}, found ${describe(l)}`);
      labels.push(l.v);
      if (this.isOp(',')) this.next();
    }
    this.next();
    return { mode: mode.v as 'by' | 'without', labels };
  }

  private aggregate(): Expr {
    const op = this.next() as { v: string };
    let grouping = this.peek().t === 'ident' ? this.grouping() : undefined;
    this.expectOp('(');
    const expr = this.expr(0);
    if (this.isOp(',')) throw new PromQLError(`${op.v} takes one argument`);
    this.expectOp(')');
    if (this.peek().t === 'ident' && ['by', 'without'].includes((this.peek() as { v: string }).v)) {
      if (grouping) throw new PromQLError(`${op.v}: grouping given twice`);
      grouping = this.grouping();
    }
    return { kind: 'aggregate', op: op.v as AggregateOp, grouping, expr };
  }

  private call(): Expr {
    const name = this.next() as { v: string; at: number };
    const sig = FUNCTIONS[name.v];
    if (!sig) throw new PromQLError(`function ${name.v}() (at ${name.at}) is not supported by the embedded evaluator (it runs ${Object.keys(FUNCTIONS).join(', ')}, ${[...AGGREGATES].join(', ')})`);
    this.expectOp('(');
    const args: Expr[] = [];
    while (!this.isOp(')')) {
      args.push(this.expr(0));
      if (this.isOp(',')) this.next();
      else if (!this.isOp(')')) throw new PromQLError(`expected "," or ")" at ${this.peek().at}, found ${describe(this.peek())}`);
    }
    this.next();
    if (args.length !== sig.length) throw new PromQLError(`${name.v}() takes ${sig.length} argument(s), got ${args.length}`);
    sig.forEach((want, i) => {
      const a = args[i]!;
      const isRange = a.kind === 'selector' && a.rangeMs !== undefined;
      if (want === 'range' && !isRange) throw new PromQLError(`${name.v}() needs a range vector (e.g. metric[1m]) as argument ${i + 1}`);
      if (want !== 'range' && isRange) throw new PromQLError(`${name.v}(): a range vector is not allowed as argument ${i + 1}`);
    });
    return { kind: 'call', fn: name.v, args };
  }
}

function describe(t: Token): string {
  switch (t.t) {
    case 'eof':
      return 'the end of the query';
    case 'str':
      return `string ${JSON.stringify(t.v)}`;
    case 'dur':
      return `duration ${t.text}`;
    default:
      return `"${t.v}"`;
  }
}

export function parsePromQL(src: string): Expr {
  const toks = tokenize(src);
  const e = new Parser(toks).parse();
  checkTopLevel(e);
  return e;
}

/** A bare range vector cannot be the result of an instant query Flagger reads. */
function checkTopLevel(e: Expr): void {
  if (e.kind === 'selector' && e.rangeMs !== undefined) throw new PromQLError('the query returns a range vector; wrap it in rate() or increase()');
}
