/**
 * The local runtime's processes of one lab, read from /proc (Linux): the control plane, the node
 * agent and every container of every pod (the agent's children), with their CPU time, beside the
 * whole machine's. The soak reports from it what a request costs across the call graph and how
 * much of the machine the lab had, so a rate the machine cannot carry is explained by numbers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ProcessSample } from './analysis.js';

export interface LabProcess {
  pid: number;
  /** `control plane`, `node agent`, or `<pod>/<container>` (`istioinaction/webapp-…/istio-proxy`). */
  name: string;
}

/** Linux's USER_HZ: the unit of utime and stime in /proc/<pid>/stat. */
const CLOCK_TICKS = 100;

function stat(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command (field 2) may hold spaces and parentheses: fields start after the last ')'.
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds the process has used (undefined once it is gone). */
export function cpuSeconds(pid: number): number | undefined {
  const f = stat(pid);
  return f ? (Number(f[11]) + Number(f[12])) / CLOCK_TICKS : undefined;
}

function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = stat(Number(d));
    if (f && Number(f[1]) === parent) out.push(Number(d));
  }
  return out;
}

function env(pid: number): Map<string, string> {
  try {
    return new Map(
      readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .filter((kv) => kv.includes('='))
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as [string, string]),
    );
  } catch {
    return new Map();
  }
}

/** The program a pod's process runs: `istio-proxy`, or the demo service's name. */
function container(pid: number): string {
  let cmd = '';
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return 'gone';
  }
  if (cmd.includes('/src/proxy/main.js')) return 'istio-proxy';
  return /\/services\/([^/]+)\/src\/main\.js/.exec(cmd)?.[1] ?? 'process';
}

export function labProcesses(controlPlanePid: number, agentPid: number | undefined): LabProcess[] {
  const out: LabProcess[] = [{ pid: controlPlanePid, name: 'control plane' }];
  if (agentPid === undefined) return out;
  out.push({ pid: agentPid, name: 'node agent' });
  for (const pid of childrenOf(agentPid)) {
    const e = env(pid);
    const pod = e.get('POD_NAMESPACE') && e.get('POD_NAME') ? `${e.get('POD_NAMESPACE')}/${e.get('POD_NAME')}` : (e.get('POD_NAME') ?? `pid ${pid}`);
    out.push({ pid, name: `${pod}/${container(pid)}` });
  }
  return out;
}

/** CPU seconds of each process now, by name. */
export function cpuByProcess(procs: readonly LabProcess[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of procs) {
    const s = cpuSeconds(p.pid);
    if (s !== undefined) out.set(p.name, s);
  }
  return out;
}

/** A process's RSS and descriptors from /proc (the local runtime's control plane). */
export function procSample(pid: number, t: number): ProcessSample | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { t, rssBytes: Number(m?.[1] ?? 0) * 1024, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}

/** Busy and total CPU time of the whole machine (clock ticks over all cores), from /proc/stat. */
export function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
  } catch {
    return undefined;
  }
}

export interface CpuSnapshot {
  t: number;
  byProcess: Map<string, number>;
  generator?: number;
  machine?: { busy: number; total: number };
}

/** CPU per process over the window after the warm-up, and what it comes to per answered request. */
export interface CpuReport {
  seconds: number;
  requests: number;
  /** Cores the machine had busy on average, all of it, and how much of that was this lab and its load. */
  machineBusyCores?: number;
  labCores: number;
  generatorCores?: number;
  /** ms of CPU per answered request, by process, most first. */
  msPerRequest: Array<{ name: string; ms: number; cores: number }>;
  totalMsPerRequest: number;
}

export function cpuReport(a: CpuSnapshot, b: CpuSnapshot, requests: number, cores: number): CpuReport {
  const seconds = b.t - a.t;
  const rows = [...b.byProcess].filter(([k]) => a.byProcess.has(k)).map(([name, v]) => {
    const used = v - a.byProcess.get(name)!;
    return { name, ms: requests > 0 ? (used * 1000) / requests : NaN, cores: used / seconds };
  });
  rows.sort((x, y) => y.ms - x.ms);
  const labCores = rows.reduce((sum, r) => sum + r.cores, 0);
  const machineBusyCores =
    a.machine && b.machine && b.machine.total > a.machine.total ? ((b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total)) * cores : undefined;
  return {
    seconds,
    requests,
    machineBusyCores,
    labCores,
    generatorCores: a.generator !== undefined && b.generator !== undefined ? (b.generator - a.generator) / seconds : undefined,
    msPerRequest: rows,
    totalMsPerRequest: rows.reduce((sum, r) => sum + r.ms, 0),
  };
}
