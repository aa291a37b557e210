/**
 * The lab runner's vocabulary: a scenario is numbered steps, each running the commands a reader
 * types and asserting what the chapter says must be seen. Every step prints what it does, the
 * commands, what it observed and PASS/FAIL; a failure names the command, what was expected and what
 * was seen (like zx's readable failures and Envoy's verify.sh sandboxes).
 */
import { $, type ProcessOutput } from 'zx';
import { LAB_BIN, ROOT } from './paths.js';
import type { ParsedAccessLog } from '../../src/proxy/telemetry/access-log.js';

export class StepFailure extends Error {
  constructor(
    readonly expected: string,
    readonly observed: string,
  ) {
    super(`expected ${expected}, observed ${observed}`);
  }
}

export interface StepResult {
  id: string;
  title: string;
  ok: boolean;
  ms: number;
  error?: string;
}

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, s: string) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s);
export const green = (s: string) => paint(32, s);
export const red = (s: string) => paint(31, s);
export const dim = (s: string) => paint(2, s);
export const bold = (s: string) => paint(1, s);

/**
 * Where a check's structured observations go besides the printed text: the tutorial renders them
 * (a table of the split, an access log line field by field); the lab runner needs only the text.
 */
export interface ObservationSink {
  split(counts: { v1: number; v2: number; other: number }, weights?: { v1: number; v2: number }): void;
  logLine(label: string, line: ParsedAccessLog | undefined): void;
}

export class StepContext {
  sink: ObservationSink | undefined;
  /** The word before an observation (the tutorial prints it in the learner's language). */
  observedLabel = 'observed:';

  constructor(readonly env: Record<string, string>) {}

  /** The v1/v2 split a check counted, against the route's weights when it has them. */
  split(counts: { v1: number; v2: number; other: number }, weights?: { v1: number; v2: number }): void {
    this.sink?.split(counts, weights);
  }

  /** The access log line that shows the step's point (the tutorial annotates it field by field). */
  logLine(label: string, line: ParsedAccessLog | undefined): void {
    this.sink?.logLine(label, line);
  }

  /** Prints and runs `lab ARGS...`; throws with its output if it fails (unless `allowFail`). */
  async lab(args: string[], opts: { allowFail?: boolean; quiet?: boolean; silent?: boolean } = {}): Promise<ProcessOutput> {
    if (!opts.silent) console.log(dim(`    $ lab ${args.map(shellQuote).join(' ')}`));
    const out = await $({ cwd: ROOT, env: this.env, nothrow: true, quiet: true })`${process.execPath} ${LAB_BIN} ${args}`;
    if (!opts.quiet) {
      const text = (out.stdout + out.stderr).trimEnd();
      if (text) console.log(indent(text, 6));
    }
    if (out.exitCode !== 0 && !opts.allowFail) {
      throw new StepFailure(`\`lab ${args.join(' ')}\` to succeed`, `exit code ${out.exitCode}: ${(out.stderr || out.stdout).trim()}`);
    }
    return out;
  }

  /** Quiet variant: run `lab ...` and return stdout, printing nothing but the command. */
  async labOut(args: string[], silent = false): Promise<string> {
    return (await this.lab(args, { quiet: true, silent })).stdout;
  }

  observe(text: string): void {
    console.log(`    ${bold(this.observedLabel)} ${text}`);
  }

  expect(ok: boolean, expected: string, observed: string): void {
    if (!ok) throw new StepFailure(expected, observed);
  }
}

export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

export type StepFn = (ctx: StepContext) => Promise<void>;

/**
 * What a step does to the lab, apart from how it checks the outcome: a `lab` command (what the
 * reader types, with `kubectl` or `istioctl` in the book), or something else with the line that
 * shows it. Keeping act and check apart lets a learner act in their own shell, then be checked.
 */
export type Action = { lab: string[] } | { show: string; run: StepFn };

export interface StepDef {
  /** The chapter's step number (docs/chapter5.md), or a name like `setup`; also the content key. */
  id: string;
  /** One line for the lab runner's output (the tutorial's titles live in its content files). */
  title: string;
  act?: Action[];
  /** Observes and asserts; runs after `act`, or after the learner acted. */
  check: StepFn;
  /** Whether a learner can take the step themselves (default: when every action is a `lab` command). */
  diy?: boolean;
}

export function canDoYourself(step: StepDef): boolean {
  return step.diy ?? (step.act ?? []).every((a) => 'lab' in a);
}

export async function runAction(ctx: StepContext, a: Action): Promise<void> {
  if ('lab' in a) await ctx.lab(a.lab);
  else {
    console.log(dim(`    $ ${a.show}`));
    await a.run(ctx);
  }
}

export class Scenario {
  readonly results: StepResult[] = [];
  readonly steps: StepDef[] = [];

  constructor(
    readonly name: string,
    readonly title: string,
  ) {}

  step(def: StepDef): this {
    this.steps.push(def);
    return this;
  }

  /** Runs the steps in order; stops at the first failure (later steps build on earlier ones). */
  async run(ctx: StepContext): Promise<boolean> {
    console.log(bold(`\n== ${this.name}: ${this.title} ==`));
    for (const s of this.steps) {
      console.log(bold(`\n[${this.name} step ${s.id}] ${s.title}`));
      const t0 = performance.now();
      try {
        for (const a of s.act ?? []) await runAction(ctx, a);
        await s.check(ctx);
        const ms = performance.now() - t0;
        this.results.push({ id: s.id, title: s.title, ok: true, ms });
        console.log(`    ${green('PASS')} ${dim(`(${(ms / 1000).toFixed(1)}s)`)}`);
      } catch (err) {
        const ms = performance.now() - t0;
        const msg = failureText(err);
        this.results.push({ id: s.id, title: s.title, ok: false, ms, error: msg });
        console.log(`    ${red('FAIL')} ${msg}`);
        return false;
      }
    }
    return true;
  }
}

export function failureText(err: unknown): string {
  return err instanceof StepFailure ? `expected ${err.expected}\n           observed ${err.observed}` : ((err as Error).stack ?? String(err));
}
