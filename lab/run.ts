/**
 * `npm run lab:5.2` (and 5.3, 5.4, 5.5, all): runs the chapter's scenarios on a lab of their own,
 * prints every step, and exits non-zero if any assertion failed.
 *   --keep        keep the lab's state folder (logs) afterwards
 *   --seed N      the proxies' seed (default 7)
 *   --runtime R   local (default, or $LAB_RUNTIME), docker or auto, as for `lab up`
 * LAB_TIME_SCALE=1 runs 5.3's canary analysis in real time (45s intervals) instead of 45x faster.
 */
import { parseArgs } from 'node:util';
import { dumpLogs, startLab, stopLab, type LabRun } from './lib/lab-run.js';
import { bold, green, red, type Scenario } from './lib/scenario.js';
import { SCENARIOS } from './scenarios/index.js';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { keep: { type: 'boolean' }, seed: { type: 'string', default: '7' }, runtime: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  const names = positionals.length === 0 || positionals.includes('all') ? Object.keys(SCENARIOS) : positionals;
  if (values.help) {
    console.log(`Usage: node dist/lab/run.js [${Object.keys(SCENARIOS).join('|')}|all] [--keep] [--seed N] [--runtime local|docker|auto]`);
    return 0;
  }
  for (const n of names) {
    if (!SCENARIOS[n]) {
      console.error(`unknown scenario ${n}; available: ${Object.keys(SCENARIOS).join(', ')}`);
      return 2;
    }
  }
  const t0 = performance.now();
  const summary: Array<{ name: string; ok: boolean; steps: number; passed: number; seconds: number }> = [];
  for (const name of names) {
    const started = performance.now();
    let run: LabRun | undefined;
    let ok = false;
    let scenario: Scenario | undefined;
    try {
      const runtime = values.runtime ? ['--runtime', values.runtime] : [];
      run = await startLab(Number(values.seed), [...runtime, ...(SCENARIOS[name]!.up ?? [])]);
      scenario = SCENARIOS[name]!.make(run);
      ok = await scenario.run(run.ctx);
    } catch (err) {
      console.error(red(`scenario ${name} could not run: ${(err as Error).message}`));
    } finally {
      if (run) {
        if (!ok) dumpLogs(run);
        await stopLab(run, Boolean(values.keep) || !ok);
      }
    }
    const passed = scenario?.results.filter((r) => r.ok).length ?? 0;
    summary.push({ name, ok, steps: scenario?.results.length ?? 0, passed, seconds: (performance.now() - started) / 1000 });
  }
  console.log(bold('\n== Summary =='));
  for (const s of summary) console.log(`${s.ok ? green('PASS') : red('FAIL')} ${s.name}: ${s.passed}/${s.steps} steps passed (${s.seconds.toFixed(1)}s)`);
  const failed = summary.filter((s) => !s.ok).length;
  console.log(`lab: ${summary.length - failed} passed, ${failed} failed (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
