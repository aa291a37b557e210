/**
 * `lab tutorial 5.2`: the scenario's steps one at a time, each with the idea behind it, the
 * manifest (its change from the previous one marked), the command as the book types it and as the
 * lab runs it, the outcome read for the learner (the split as a table, the access log line field by
 * field), then the check and a pause. A step is watched (Enter runs it) or done by the learner in
 * their own shell and then checked; a failed check says what it saw and names the likely cause.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParsedAccessLog } from '../../src/proxy/telemetry/access-log.js';
import { startLab, stopLab, type LabRun } from '../lib/lab-run.js';
import { ROOT } from '../lib/paths.js';
import { StepFailure, bold, canDoYourself, dim, failureText, green, indent, red, runAction, type Action, type ObservationSink, type Scenario, type StepContext, type StepDef } from '../lib/scenario.js';
import { SCENARIOS } from '../scenarios/index.js';
import { bookCommand, labLine } from './book.js';
import { loadCommon, loadScenario, type CommonTexts, type Lang, type ScenarioTexts } from './content.js';
import { diagnose, expectationOf, readMeshState, type Expectation } from './diagnose.js';
import { annotate } from './log-annotate.js';
import { objectsOf, showObject, type ManifestObject, type ShownLine } from './manifest-view.js';
import { Interrupted, Prompt } from './prompt.js';
import { columns, fill, wrap } from './text.js';

export interface TutorialOptions {
  names: string[];
  lang: Lang;
  yes: boolean;
  /** Start at this step id (the chapter's numbering); earlier steps' actions set the lab up. */
  step?: string;
  keep: boolean;
  seed: number;
  runtime?: string;
}

/** Kinds shown in full; workloads are shown as their change only (they are long and routine). */
const SHOWN_IN_FULL = new Set(['Gateway', 'VirtualService', 'DestinationRule', 'ServiceEntry', 'Canary']);
const yellow = (s: string) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[33m${s}\x1b[0m` : s);

class Sink implements ObservationSink {
  readonly lines: ParsedAccessLog[] = [];
  constructor(private readonly t: CommonTexts) {}

  split(c: { v1: number; v2: number; other: number }, w?: { v1: number; v2: number }): void {
    const total = c.v1 + c.v2 + c.other;
    const pct = (n: number) => (total ? `${Math.round((100 * n) / total)}%` : '-');
    const rows = [
      ['', 'v1', 'v2', 'other'],
      [this.t.ui.split!, `${c.v1} (${pct(c.v1)})`, `${c.v2} (${pct(c.v2)})`, String(c.other)],
      ...(w ? [[this.t.ui.splitWeights!, `${w.v1}%`, `${w.v2}%`, '']] : []),
    ];
    console.log(indent(table(rows), 4));
  }

  logLine(label: string, line: ParsedAccessLog | undefined): void {
    if (!line) return;
    this.lines.push(line);
    console.log(`    ${bold(fill(this.t.ui.logTitle!, { label }))}`);
    const rows = annotate(line, this.t.log);
    const width = Math.max(...rows.map((r) => columns(r.field)));
    for (const r of rows) {
      console.log(`      ${r.field}${' '.repeat(width - columns(r.field))}  ${bold(r.value)}`);
      if (r.meaning) console.log(dim(`      ${' '.repeat(width)}  ↳ ${r.meaning}`));
    }
  }
}

/** Columns padded to their widest cell (Hangul is two columns wide). */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => columns(r[i] ?? ''))));
  return rows.map((r) => r.map((cell, i) => cell + ' '.repeat(Math.max(0, widths[i]! - columns(cell)))).join('  ').trimEnd()).join('\n');
}

function renderLines(lines: ShownLine[], long: boolean): string {
  const show = (l: ShownLine) => (l.mark === '+' ? green(`+ ${l.text}`) : l.mark === '-' ? red(`- ${l.text}`) : dim(`  ${l.text}`));
  if (!long) return lines.map(show).join('\n');
  // A long object: the changed lines with one line of context each side.
  const keep = lines.map((l, i) => l.mark !== ' ' || (lines[i - 1] !== undefined && lines[i - 1]!.mark !== ' ') || (lines[i + 1] !== undefined && lines[i + 1]!.mark !== ' '));
  const out: string[] = [];
  lines.forEach((l, i) => {
    if (keep[i]) out.push(show(l));
    else if (i === 0 || keep[i - 1]) out.push(dim('  ...'));
  });
  return out.join('\n');
}

export class Tutorial {
  private readonly common: CommonTexts;
  private readonly prompt: Prompt;
  private run: LabRun | undefined;
  private where: { scenario: string; step: string } | undefined;

  constructor(private readonly o: TutorialOptions) {
    this.common = loadCommon(o.lang);
    this.prompt = new Prompt(o.yes ? null : process.stdin);
  }

  private ui(key: string, params: Record<string, string | number> = {}): string {
    return fill(this.common.ui[key] ?? key, params);
  }

  /** 0: every step passed; 1: a check failed (with --yes) ; 130: interrupted. */
  async start(): Promise<number> {
    let names = this.o.names;
    if (this.o.step && names.length > 1) {
      // `all --step 13` starts at the scenario that has step 13.
      const first = names.findIndex((n) => SCENARIOS[n]!.make(fakeRun()).steps.some((s) => s.id === this.o.step));
      if (first > 0) names = names.slice(first);
    }
    try {
      for (const [i, name] of names.entries()) {
        const ok = await this.scenario(name, i === 0 ? this.o.step : undefined, i === names.length - 1);
        if (!ok) return 1;
      }
      console.log(`\n${green(this.ui('done'))}`);
      return 0;
    } catch (err) {
      if (err instanceof Interrupted || this.prompt.interrupted) {
        await this.leave();
        return 130;
      }
      throw err;
    } finally {
      this.prompt.close();
    }
  }

  /** Ctrl-C: the lab is stopped (or kept with --keep), and the learner is told how to come back. */
  private async leave(): Promise<void> {
    const at = this.where;
    console.log(`\n${yellow(this.ui('interrupted', { scenario: at?.scenario ?? '-', step: at?.step ?? '-' }))}`);
    if (this.run) {
      if (this.o.keep) console.log(this.ui('kept', { home: this.run.home }));
      else await stopLab(this.run, false);
      this.run = undefined;
    }
    if (at) console.log(this.ui('resume', { scenario: at.scenario, step: at.step, lang: this.o.lang }));
    console.log(this.ui('cleanup'));
  }

  /** `last`: with --keep, only the last section's lab (or a failed one's) is left running. */
  private async scenario(name: string, startAt: string | undefined, last: boolean): Promise<boolean> {
    let passed = false;
    const texts = loadScenario(this.o.lang, name);
    this.where = { scenario: name, step: startAt ?? SCENARIOS[name]!.make(fakeRun()).steps[0]!.id };
    console.log(bold(`\n══ ${name}: ${texts.title} ══`));
    console.log(dim(this.ui('labStarting')));
    const runtime = this.o.runtime ? ['--runtime', this.o.runtime] : [];
    const run = await startLab(this.o.seed, [...runtime, ...(SCENARIOS[name]!.up ?? [])], { quiet: true });
    this.run = run;
    run.ctx.observedLabel = this.ui('observed');
    try {
      this.prompt.throwIfInterrupted();
      console.log(this.ui('labReady', { home: run.home, port: run.ingressPort }));
      const scenario = SCENARIOS[name]!.make(run);
      let from = 0;
      if (startAt) {
        from = scenario.steps.findIndex((s) => s.id === startAt);
        if (from < 0) throw new Error(`scenario ${name} has no step ${startAt}; its steps: ${scenario.steps.map((s) => s.id).join(', ')}`);
        await this.setUp(scenario, from, run.ctx);
      }
      const history = scenario.steps.slice(0, from).flatMap((s) => this.applied(s.act ?? []));
      for (let i = from; i < scenario.steps.length; i++) {
        const step = scenario.steps[i]!;
        this.where = { scenario: name, step: step.id };
        const ok = await this.step(scenario, texts, i, run, history);
        if (!ok) return false;
        history.push(...this.applied(step.act ?? []));
      }
      passed = true;
      return true;
    } finally {
      // Interrupted: leave() stops the lab after saying where the learner was.
      if (!this.prompt.interrupted) {
        if (this.o.keep && (last || !passed)) console.log(this.ui('kept', { home: run.home }));
        else await stopLab(run, false);
        this.run = undefined;
      }
    }
  }

  /** What earlier steps would have left: their actions, run quietly (no checks). */
  private async setUp(scenario: Scenario, until: number, ctx: StepContext): Promise<void> {
    const ids = scenario.steps.slice(0, until).map((s) => s.id);
    console.log(dim(this.ui('setup', { steps: ids.join(', ') })));
    const log = console.log;
    console.log = () => {};
    try {
      for (const s of scenario.steps.slice(0, until)) for (const a of s.act ?? []) await runAction(ctx, a);
    } finally {
      console.log = log;
    }
  }

  private applied(actions: Action[]): ManifestObject[] {
    return actions.flatMap((a) => ('lab' in a && a.lab[0] === 'apply' ? fileArgs(a.lab).flatMap((f) => objectsOf(readFileSync(join(ROOT, f), 'utf8'))) : []));
  }

  private present(scenario: Scenario, texts: ScenarioTexts, index: number, history: ManifestObject[]): void {
    const step = scenario.steps[index]!;
    const t = texts.steps[step.id];
    if (!t) throw new Error(`content/${this.o.lang}/${scenario.name}.yaml: steps.${step.id} is missing`);
    console.log(bold(`\n── ${this.ui('step', { scenario: scenario.name, id: step.id, n: index + 1, total: scenario.steps.length })} · ${t.title}`));
    console.log(`\n${bold(this.ui('why'))}\n${indent(wrap(t.explain.trim(), 94), 2)}`);
    const seen = [...history];
    for (const a of step.act ?? []) {
      if (!('lab' in a) || a.lab[0] !== 'apply') continue;
      for (const file of fileArgs(a.lab)) {
        // Workloads new to the section are named, not printed: their YAML is long and routine.
        const brief: string[] = [];
        for (const obj of objectsOf(readFileSync(join(ROOT, file), 'utf8'))) {
          const { lines, against } = showObject(obj, seen);
          seen.push(obj);
          const full = SHOWN_IN_FULL.has(obj.kind);
          if (!full && !against) {
            brief.push(`${obj.kind} ${obj.name}`);
            continue;
          }
          const vs = against ? ` ${dim(this.ui('against', { kind: against.kind, name: against.name }))}` : '';
          console.log(`\n${bold(this.ui('manifest'))} ${file}: ${obj.kind} ${obj.name}${vs}`);
          console.log(indent(renderLines(lines, !full && lines.length > 25), 2));
        }
        if (brief.length > 0) console.log(`\n${bold(this.ui('manifest'))} ${file}: ${brief.join(', ')}`);
      }
    }
    const acts = step.act ?? [];
    if (acts.length > 0) {
      console.log(`\n${bold(this.ui('commands'))}`);
      for (const a of acts) {
        if ('lab' in a) {
          console.log(`  ${dim(pad(this.ui('book'), 8))} ${bookCommand(a.lab)}`);
          console.log(`  ${dim(pad(this.ui('lab'), 8))} ${labLine(a.lab)}`);
        } else console.log(`  ${dim(pad(this.ui('lab'), 8))} ${a.show}`);
      }
    }
  }

  /** One step: present it, let the learner watch or act, check, explain a failure, pause. */
  private async step(scenario: Scenario, texts: ScenarioTexts, index: number, run: LabRun, history: ManifestObject[]): Promise<boolean> {
    const step = scenario.steps[index]!;
    this.present(scenario, texts, index, history);
    const diy = canDoYourself(step) && (step.act ?? []).length > 0;
    // What the step should leave, read from the manifests now: a learner may edit them meanwhile.
    const expected = expectationOf(step.act ?? []);
    let mode: 'watch' | 'diy' = 'watch';
    if (!this.o.yes) {
      if (!diy && (step.act ?? []).some((a) => !('lab' in a))) console.log(dim(this.ui('watchOnly')));
      const a = await this.prompt.ask(yellow(diy ? this.ui('promptMode') : this.ui('promptNext')));
      if (a === 'q') this.prompt.quit();
      if (a === 'd' && diy) mode = 'diy';
    }
    // After a failed attempt at doing it yourself, Enter checks again (the learner fixed it in
    // their shell); the instructions are not repeated.
    let retrying = false;
    for (;;) {
      if (mode === 'watch') {
        console.log(`\n${bold(this.ui('outcome'))}`);
        for (const a of step.act ?? []) await act(run.ctx, a);
      } else if (!retrying) {
        console.log(`\n${this.ui('diyIntro', { root: ROOT })}`);
        console.log(`  ${this.ui('diyEnv', { home: run.home })}`);
        for (const a of step.act ?? []) if ('lab' in a) console.log(`  ${labLine(a.lab)}`);
        const a = await this.prompt.ask(yellow(this.ui('diyWait')));
        if (a === 'q') this.prompt.quit();
        if (a === 'w') {
          mode = 'watch';
          continue;
        }
        console.log(`\n${bold(this.ui('outcome'))}`);
      }
      const failure = await this.check(step, run.ctx, expected);
      this.prompt.throwIfInterrupted();
      if (!failure) {
        const look = texts.steps[step.id]?.look;
        if (look) console.log(`\n${bold(this.ui('look'))}\n${indent(wrap(look.trim(), 94), 2)}`);
        // Leaving after a passed step resumes at the next one.
        const next = scenario.steps[index + 1];
        if (next) this.where = { scenario: scenario.name, step: next.id };
        if (this.o.yes) return true;
        const a = await this.prompt.ask(yellow(this.ui('promptAfter')));
        if (a === 'q') this.prompt.quit();
        if (a !== 'r') return true;
        // Again: the step's commands are safe to repeat (applies are idempotent, deletes of
        // what is already gone are noted, not failed).
        this.where = { scenario: scenario.name, step: step.id };
        mode = 'watch';
        retrying = false;
        continue;
      }
      if (this.o.yes) return false;
      const a = await this.prompt.ask(yellow(this.ui('promptRetry')));
      if (a === 'q') this.prompt.quit();
      if (a === 'w') mode = 'watch';
      retrying = mode === 'diy';
      if (retrying) console.log(`\n${bold(this.ui('outcome'))}`);
    }
  }

  /** Runs the check; on failure prints what it saw and the hints. Returns the failure or undefined. */
  private async check(step: StepDef, ctx: StepContext, expected: Expectation): Promise<string | undefined> {
    const sink = new Sink(this.common);
    ctx.sink = sink;
    try {
      await step.check(ctx);
      console.log(`    ${green(this.ui('pass'))}`);
      return undefined;
    } catch (err) {
      if (this.prompt.interrupted) throw new Interrupted();
      const saw = err instanceof StepFailure ? err.observed : failureText(err);
      console.log(`    ${red(this.ui('fail'))} ${err instanceof StepFailure ? err.expected : ''}`);
      console.log(`    ${bold(this.ui('saw'))} ${saw}`);
      for (const h of await this.hints(expected, ctx, sink.lines)) console.log(`    ${yellow(this.ui('hint'))} ${wrap(h, 90).split('\n').join('\n      ')}`);
      return saw;
    } finally {
      ctx.sink = undefined;
    }
  }

  private async hints(exp: Expectation, ctx: StepContext, lines: ParsedAccessLog[]): Promise<string[]> {
    try {
      const state = await readMeshState(ctx, exp);
      const found = diagnose(exp, state, lines);
      if (found.length === 0) return [this.common.hints.none ?? ''];
      return found.slice(0, 3).map((h) => fill(this.common.hints[h.key] ?? h.key, h.params));
    } catch (err) {
      return [fill(this.common.hints.unreadable ?? '{error}', { error: (err as Error).message })];
    }
  }
}

/** A step's action in the tutorial: as in the scenario, except that deleting what is already gone (a step run again) is not a failure. */
async function act(ctx: StepContext, a: Action): Promise<void> {
  if (!('lab' in a) || a.lab[0] !== 'delete') return runAction(ctx, a);
  const out = await ctx.lab(a.lab, { allowFail: true });
  if (out.exitCode !== 0 && !/NotFound/.test(out.stderr)) throw new StepFailure(`\`lab ${a.lab.join(' ')}\` to succeed`, `exit code ${out.exitCode}: ${(out.stderr || out.stdout).trim()}`);
}

/** Pads to `width` terminal columns (Hangul is two wide). */
function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - columns(s)));
}

function fileArgs(argv: readonly string[]): string[] {
  return argv.flatMap((a, i) => (argv[i - 1] === '-f' ? [a] : []));
}

/** Scenario definitions need a LabRun only for URLs; listing their step ids needs none. */
function fakeRun(): LabRun {
  return { home: '', ingressPort: 0, ctx: undefined as unknown as StepContext, seed: 0, timeScale: 1 };
}

export { fakeRun as runForListing };
