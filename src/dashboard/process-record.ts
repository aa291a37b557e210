/**
 * `$LAB_HOME/dashboard.json`: the dashboard serving this lab (its pid and URL), so `lab up
 * --dashboard` can start one in the background, a second `lab dashboard` finds it, and `lab down`
 * stops it.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../controlplane/lab-home.js';
import { writeFileAtomicSync } from '../shared/atomic-file.js';

export interface DashboardRecord {
  pid: number;
  url: string;
}

export function dashboardFile(home: string): string {
  return join(home, 'dashboard.json');
}

/** The live dashboard of this lab, if one runs. */
export function readDashboard(home: string): DashboardRecord | undefined {
  const file = dashboardFile(home);
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as DashboardRecord;
    return processAlive(r.pid) ? r : undefined;
  } catch {
    return undefined;
  }
}

export function writeDashboard(home: string, r: DashboardRecord): void {
  writeFileAtomicSync(dashboardFile(home), JSON.stringify(r));
}

/** Removes the record if it is this process's (a newer dashboard may have replaced it). */
export function clearDashboard(home: string, pid: number): void {
  const file = dashboardFile(home);
  try {
    if ((JSON.parse(readFileSync(file, 'utf8')) as DashboardRecord).pid === pid) rmSync(file, { force: true });
  } catch {
    // gone already
  }
}

/** `lab down`: the dashboard goes with the lab; waits (bounded) until it has exited. */
export async function stopDashboard(home: string): Promise<boolean> {
  const r = readDashboard(home);
  if (!r) {
    rmSync(dashboardFile(home), { force: true });
    return false;
  }
  try {
    process.kill(r.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  const deadline = Date.now() + 5_000;
  while (processAlive(r.pid) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  if (processAlive(r.pid)) {
    try {
      process.kill(r.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(dashboardFile(home), { force: true });
  return true;
}
