import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseGoDuration } from '../../config/duration.js';
import { labHome } from '../../controlplane/lab-home.js';
import { clearDashboard, readDashboard, writeDashboard } from '../../dashboard/process-record.js';
import { runDashboard } from '../../dashboard/run.js';
import { LabError } from '../../shared/errors.js';
import { intOption, parse } from '../args.js';
import { connect } from '../client.js';

export const DASHBOARD_USAGE = `Usage: lab dashboard [--port N] [--interval 1s] [--window 5m] [--background]

Serves a live view of the lab on http://127.0.0.1:PORT/ (every file served locally; works offline):
the call graph with each edge's request rate, success rate, p90 latency and subset split, each
workload's access log and traffic rules, the egress policy and external hosts, and canaries.
Stops with Ctrl-C, or by itself when the lab goes down (\`lab down\`).
  --port        port on 127.0.0.1 (default: a free one)
  --interval    how often it reads the lab (default 1s)
  --window      what counts, success rates, latencies and splits cover (default 5m)
  --background  start it in the background and print its URL (\`lab up --dashboard\` does this)`;

const CLI_ENTRY = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

function durationOption(value: string | undefined, name: string, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const ms = parseGoDuration(value);
  if (ms === undefined || ms <= 0) throw new LabError('LAB_ERR_USAGE', `--${name} must be a duration such as 1s or 5m, got "${value}"`);
  return ms;
}

export async function dashboard(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    { port: { type: 'string' }, interval: { type: 'string' }, window: { type: 'string' }, background: { type: 'boolean' } },
    DASHBOARD_USAGE,
  );
  if (values.help) {
    console.log(DASHBOARD_USAGE);
    return 0;
  }
  const port = intOption(values.port as string | undefined, 'port', 0);
  const intervalMs = durationOption(values.interval as string | undefined, 'interval', 1000);
  const windowMs = durationOption(values.window as string | undefined, 'window', 5 * 60_000);
  const home = labHome();
  const api = connect();
  const running = readDashboard(home);
  if (running) {
    console.log(`dashboard: ${running.url} (already running, pid ${running.pid})`);
    return 0;
  }
  if (values.background) return background(home, argv.filter((a) => a !== '--background'));

  const info = api.info;
  const d = await runDashboard({
    home,
    api,
    lab: { runtime: info.runtime, ingressPort: info.ingressPort, timeScale: info.timeScale ?? 1 },
    port,
    intervalMs,
    windowMs,
    rateWindowMs: Math.min(10_000, windowMs),
    log: (m) => console.log(`dashboard: ${m}`),
  });
  writeDashboard(home, { pid: process.pid, url: d.server.url });
  console.log(`dashboard: ${d.server.url}`);
  const stop = () => void d.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await d.done;
  clearDashboard(home, process.pid);
  return 0;
}

/** A detached `lab dashboard` of its own, logging to $LAB_HOME/dashboard.log; returns once it serves. */
async function background(home: string, args: string[]): Promise<number> {
  const logFile = join(home, 'dashboard.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [CLI_ENTRY, 'dashboard', ...args], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, LAB_HOME: home } });
  closeSync(fd);
  child.unref();
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && exited === null) {
    const r = readDashboard(home);
    if (r && r.pid === child.pid) {
      console.log(`dashboard: ${r.url}`);
      return 0;
    }
    await new Promise((res) => setTimeout(res, 50));
  }
  if (exited === null) process.kill(child.pid!, 'SIGTERM');
  throw new LabError('LAB_ERR_RUNTIME', `the dashboard did not start; see ${logFile}`);
}
