/**
 * Where a lab keeps its state: `$LAB_HOME`, else `.lab/` in the current directory. Two labs with
 * different homes (and ingress ports) run side by side.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface LabInfo {
  pid: number;
  /** Control plane API, e.g. `http://127.42.0.1:15010`. */
  api: string;
  ingressPort: number;
  runtime: string;
  addressMode: string;
  block: number;
  startedAt: string;
  seed?: number;
  timeScale?: number;
  /** Docker: the start that wrote this (see `lab up`), the lab's id, network and image. */
  nonce?: string;
  labId?: string;
  network?: string;
  image?: string;
}

export function labHome(): string {
  return resolve(process.env.LAB_HOME ?? '.lab');
}

export const paths = {
  info: (home: string) => join(home, 'lab.json'),
  store: (home: string) => join(home, 'store.json'),
  mesh: (home: string) => join(home, 'mesh.json'),
  logs: (home: string) => join(home, 'logs'),
  controlPlaneLog: (home: string) => join(home, 'controlplane.log'),
};

/** The canary controller's log, read by `lab logs deploy/flagger -n istio-system`. */
export function flaggerLogFile(logDir: string): string {
  return join(logDir, 'istio-system', 'flagger', 'flagger.log');
}

export function readLabInfo(home: string): LabInfo | undefined {
  const file = paths.info(home);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LabInfo;
  } catch {
    return undefined;
  }
}

export function writeLabInfo(home: string, info: LabInfo): void {
  mkdirSync(home, { recursive: true });
  const tmp = `${paths.info(home)}.tmp`;
  writeFileSync(tmp, JSON.stringify(info, null, 2));
  renameSync(tmp, paths.info(home));
}

export function removeLabInfo(home: string): void {
  rmSync(paths.info(home), { force: true });
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
