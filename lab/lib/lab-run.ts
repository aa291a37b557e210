/**
 * A scenario's own lab: a fresh LAB_HOME, a free ingress port and a fixed seed (so weighted and
 * load-balanced picks repeat exactly), always torn down, with logs dumped on failure.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/runtime/addresses.js';
import { StepContext, dim, indent } from './scenario.js';

export interface LabRun {
  home: string;
  ingressPort: number;
  ctx: StepContext;
  seed: number;
  /** Canary durations are divided by this. */
  timeScale: number;
}

export async function startLab(seed: number, extraUpArgs: string[] = [], opts: { quiet?: boolean } = {}): Promise<LabRun> {
  const home = mkdtempSync(join(tmpdir(), 'istio-lab-'));
  const ingressPort = await freePort();
  const env: Record<string, string> = { ...(process.env as Record<string, string>), LAB_HOME: home, NO_COLOR: '1' };
  const ctx = new StepContext(env);
  await ctx.lab(['up', '--ingress-port', String(ingressPort), '--seed', String(seed), ...extraUpArgs], { quiet: opts.quiet, silent: opts.quiet });
  const ts = extraUpArgs.indexOf('--time-scale');
  return { home, ingressPort, ctx, seed, timeScale: ts >= 0 ? Number(extraUpArgs[ts + 1]) : 1 };
}

export async function stopLab(run: LabRun, keep: boolean): Promise<void> {
  await run.ctx.lab(['down'], { allowFail: true });
  if (!keep) rmSync(run.home, { recursive: true, force: true });
  else console.log(dim(`lab state kept in ${run.home}`));
}

/** The last lines of every log of the lab, for a failed run. */
export function dumpLogs(run: LabRun, lines = 15): void {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith('.log') ? [p] : [];
    });
  for (const file of walk(run.home)) {
    const tail = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    if (!tail) continue;
    console.log(`\n--- ${file.slice(run.home.length + 1)} (last ${lines} lines)`);
    console.log(indent(tail, 2));
  }
}
