/**
 * Lab wall time: `node dist/lab/run.js all` (every chapter scenario the runner knows, each on a lab
 * of its own) and the per-scenario seconds from its summary lines.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { track } from './lib/proc.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RUNNER = join(HERE, '..', 'lab', 'run.js');

export interface LabTimeResult {
  scenarios: Array<{ name: string; ok: boolean; passed: number; steps: number; seconds: number }>;
  totalSeconds: number;
  exitCode: number | null;
  /** Killed at the time limit. */
  timedOut?: boolean;
}

/** `args` go to the runner after `all` (e.g. `--runtime docker`). */
export function runLabTime(opts: { timeoutMs: number; log: (s: string) => void; args?: string[]; env?: Record<string, string> }): Promise<LabTimeResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [RUNNER, 'all', ...(opts.args ?? [])], { env: { ...process.env, ...opts.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, opts.timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      // eslint-disable-next-line no-control-regex
      const text = out.replace(/\x1b\[[0-9;]*m/g, '');
      const scenarios: LabTimeResult['scenarios'] = [];
      for (const m of text.matchAll(/^(PASS|FAIL) (\S+): (\d+)\/(\d+) steps passed \(([\d.]+)s\)$/gm)) {
        scenarios.push({ name: m[2]!, ok: m[1] === 'PASS', passed: Number(m[3]), steps: Number(m[4]), seconds: Number(m[5]) });
      }
      const totalSeconds = (performance.now() - t0) / 1000;
      for (const s of scenarios) opts.log(`  ${s.ok ? 'PASS' : 'FAIL'} ${s.name}: ${s.passed}/${s.steps} steps, ${s.seconds.toFixed(1)} s`);
      if (scenarios.length === 0) opts.log(`  the lab runner printed no summary (exit ${code}); last output:\n${text.split('\n').slice(-10).join('\n')}`);
      resolve({ scenarios, totalSeconds, exitCode: code, ...(timedOut ? { timedOut } : {}) });
    });
  });
}
