/**
 * Where a lab keeps its state: `$LAB_HOME`, else `.lab/` in the current directory. Two labs with
 * different homes (and ingress ports) run side by side.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createFileAtomicSync, writeFileAtomicSync } from '../shared/atomic-file.js';
import { LabError } from '../shared/errors.js';

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
  /** The control plane API's bearer token (mode 0600); see ensureToken. */
  token: (home: string) => join(home, 'token'),
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
  writeFileAtomicSync(paths.info(home), JSON.stringify(info, null, 2));
}

export function removeLabInfo(home: string): void {
  rmSync(paths.info(home), { force: true });
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process nobody has reaped yet (a zombie) still answers signal 0.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

const TOKEN_FORMAT = /^[0-9a-f]{64}$/;
const TOKEN_MODE = 0o600;

function readTokenFile(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return TOKEN_FORMAT.test(text) ? text : undefined;
}

/**
 * The lab's API token: `$LAB_HOME/token`, 32 random bytes as hex, mode 0600. Created if absent (by
 * `lab up`, or by the control plane when it starts without one, as under compose.yaml); a file
 * that holds no valid token is replaced. A control plane running as root in a container (compose)
 * hands the new file to the owner of LAB_HOME, so the host user's `lab` can read it.
 */
export function ensureToken(home: string): string {
  const file = paths.token(home);
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = readTokenFile(file);
    if (existing) {
      if ((statSync(file).mode & 0o777) !== TOKEN_MODE) chmodSync(file, TOKEN_MODE);
      return existing;
    }
    const token = randomBytes(32).toString('hex');
    if (existsSync(file)) {
      // Present but not a token (emptied, edited): nothing can authenticate with it; a new one.
      writeFileAtomicSync(file, `${token}\n`, { mode: TOKEN_MODE });
    } else if (!createFileAtomicSync(file, `${token}\n`, { mode: TOKEN_MODE })) {
      continue; // another `lab up` or control plane made it first: use theirs
    }
    giveToHomeOwner(home, file);
    return token;
  }
  throw new LabError('LAB_ERR_RUNTIME', `cannot create the lab's API token ${file}`);
}

/** The token of a running lab, for the CLI; a clear error if it cannot be read. */
export function readToken(home: string): string {
  const file = paths.token(home);
  let token: string | undefined;
  try {
    token = readTokenFile(file);
  } catch (err) {
    throw new LabError('LAB_ERR_NOT_RUNNING', `cannot read the lab's API token ${file}: ${(err as Error).message}`);
  }
  if (!token) throw new LabError('LAB_ERR_NOT_RUNNING', `the lab's API token ${file} is missing or invalid; restart the lab (\`lab down\`, then \`lab up\`)`);
  return token;
}

function giveToHomeOwner(home: string, file: string): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  try {
    // LAB_HOME itself, else its parent (Docker creates a missing bind-mount source as root).
    for (const dir of [home, dirname(home)]) {
      const st = statSync(dir);
      if (st.uid !== 0) {
        chownSync(file, st.uid, st.gid);
        return;
      }
    }
  } catch {
    // best effort: root can still read it
  }
}
