/**
 * Processes the benchmark starts, and what it reads about them from /proc: CPU time (per-thread
 * schedstat, else utime+stime of /proc/<pid>/stat) and peak resident memory (VmHWM of
 * /proc/<pid>/status). Every child is
 * tracked so that an interrupted run still stops what it started.
 */
import { tcpOpen } from '../../src/shared/probes.js';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // getconf missing: Linux's USER_HZ is 100 everywhere we run.
}

/** User + system CPU seconds a process has used so far (0 if it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / clkTck;
  } catch {
    return 0;
  }
}

/** A point-in-time reading of processes' CPU time, for `cpuBetween`. */
export interface CpuSample {
  /** ns on CPU per thread (`<pid>/<tid>`), from /proc/<pid>/task/<tid>/schedstat. */
  threads: Map<string, number>;
  /** utime + stime of the processes, seconds (clock-tick resolution). */
  ticks: number;
}

/**
 * Reads the processes' CPU time. utime + stime come in clock ticks (10 ms): over a phase of
 * 8,000 requests nginx uses about 45 of them, so a one-tick step moved its CPU per request, and
 * the ratio to it, by 2 %. schedstat has the same time in nanoseconds, per thread.
 */
export function cpuSample(pids: number[]): CpuSample {
  const threads = new Map<string, number>();
  let ticks = 0;
  for (const pid of pids) {
    ticks += cpuSeconds(pid);
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
        if (Number.isFinite(ns)) threads.set(`${pid}/${tid}`, ns);
      } catch {
        // thread gone meanwhile, or no schedstat in this kernel
      }
    }
  }
  return { threads, ticks };
}

/**
 * CPU seconds used between two samples. Per-thread nanoseconds when every thread of the first
 * sample is still there (a thread that exited takes its time with it); otherwise the ticks.
 */
export function cpuBetween(a: CpuSample, b: CpuSample): number {
  const precise = a.threads.size > 0 && [...a.threads.keys()].every((t) => b.threads.has(t));
  if (!precise) return b.ticks - a.ticks;
  let ns = 0;
  for (const [t, v] of b.threads) ns += v - (a.threads.get(t) ?? 0);
  return ns / 1e9;
}

function statusField(pid: number, field: string): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Peak resident set size in bytes (VmHWM). */
export function peakRss(pid: number): number {
  return statusField(pid, 'VmHWM');
}

/**
 * Resident anonymous memory in bytes (RssAnon): the process's own heap and stacks, without the
 * file pages of its binary and libraries, which every process running the same binary shares.
 */
export function privateRss(pid: number): number {
  return statusField(pid, 'RssAnon');
}

/** Current resident set size in bytes (VmRSS). */
export function currentRss(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/** The process and all its descendants (nginx's master and workers). */
export function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(d), Number(rest[1]));
    } catch {
      // exited while we looked
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [child, parent] of parentOf) if (parent === out[i]) out.push(child);
  return out;
}

/** Every process currently running, with its command line (for finding a lab's proxies). */
export function listProcesses(): Array<{ pid: number; cmdline: string[] }> {
  const out: Array<{ pid: number; cmdline: string[] }> = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      out.push({ pid: Number(d), cmdline: readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').filter(Boolean) });
    } catch {
      // exited
    }
  }
  return out;
}

export function processEnv(pid: number): Record<string, string> {
  try {
    const env: Record<string, string> = {};
    for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const i = kv.indexOf('=');
      if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
    return env;
  } catch {
    return {};
  }
}

const children = new Set<ChildProcess>();

/** Stops every child still running (on exit, Ctrl-C, or a crash of the benchmark). */
export function killAllChildren(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null && c.pid) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}
process.on('exit', killAllChildren);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAllChildren();
    process.exit(130);
  });
}

export interface Started {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>;
}

/** Starts a program with stdout/stderr going to `logFile` (the proxies' access logs land there). */
export function start(command: string, args: string[], opts: { env?: Record<string, string>; logFile: string; cwd?: string }): Started {
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(command, args, {
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  children.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
    child.once('error', () => {
      children.delete(child);
      resolve(null);
    });
  });
  if (child.pid === undefined) throw new Error(`cannot start ${command}`);
  return { child, pid: child.pid, exited };
}

export function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stop(p: Started | undefined, graceMs = 2000): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}


export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Machine-wide busy and total CPU time from /proc/stat (clock ticks, all CPUs). */
export function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/**
 * Waits until the machine is quiet: a window of `windowMs` in which less than `maxBusy` (0..1) of
 * all CPUs was busy, so a measurement does not overlap work left over from a previous step (pods
 * finishing their start). Returns how long that took; gives up after `timeoutMs`.
 */
export async function settle(windowMs = 250, maxBusy = 0.15, timeoutMs = 15_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const a = machineTicks();
    await sleep(windowMs);
    const b = machineTicks();
    const busy = b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
    if (busy < maxBusy || performance.now() - t0 > timeoutMs) return performance.now() - t0;
  }
}

export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, died?: Started): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (died && (died.child.exitCode !== null || died.child.signalCode !== null)) throw new Error(`${what}: the process exited (code ${died.child.exitCode})`);
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms`);
}

export function waitTcp(host: string, port: number, timeoutMs = 10_000, died?: Started): Promise<void> {
  return waitFor(`${host}:${port}`, timeoutMs, () => tcpOpen(host, port), died);
}
