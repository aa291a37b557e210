/**
 * The local runtime's processes of one lab, read from /proc (Linux): the control plane, the node
 * agent and every container of every pod (the agent's children), with their CPU time. The soak
 * reports from it what a request costs across the whole call graph, so a rate the machine cannot
 * carry is explained by the numbers rather than guessed at.
 */
import { readdirSync, readFileSync } from 'node:fs';

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
