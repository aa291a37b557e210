/**
 * State files written so that a crash at any point leaves either the old content or the new one,
 * never a mix: the data goes to a temporary file in the same folder (same filesystem, so the
 * rename is atomic), is flushed to disk (fsync), then renamed over the target, and the folder is
 * flushed so the rename itself survives a power cut. A crash mid-write leaves at most a stray
 * `<name>.<pid>.<random>.tmp` next to the file, which readers never look at (see staleTempFiles).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** File mode of the new file (default 0o644, less the umask); set before any data is written. */
  mode?: number;
}

/** A temporary name next to `file`, unique to this process and call. */
export function tempPathFor(file: string): string {
  return join(dirname(file), `${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Temporary files a crashed writer may have left next to `file` (ours and the older `<file>.tmp` form). */
export function staleTempFiles(file: string): string[] {
  const dir = dirname(file);
  const base = basename(file);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(`${base}.`) && n.endsWith('.tmp')).map((n) => join(dir, n));
}

function syncDir(dir: string): void {
  // Not every platform or filesystem lets a folder be opened and flushed; the rename is atomic anyway.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort
  }
}

function writeTempSync(tmp: string, data: string | Uint8Array, mode: number | undefined): void {
  const fd = openSync(tmp, 'wx', mode ?? 0o644);
  try {
    // Exactly this mode, whatever the umask (it can only have taken bits away).
    if (mode !== undefined) fchmodSync(fd, mode);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `file` with `data` atomically (temp file, fsync, rename, fsync of the folder). */
export function writeFileAtomicSync(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  const tmp = tempPathFor(file);
  try {
    writeTempSync(tmp, data, opts.mode);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  syncDir(dir);
}

/**
 * Creates `file` with `data` only if it does not exist yet, atomically: readers never see it
 * empty or half written, and of two racing creators exactly one wins. Returns whether this call
 * created it.
 */
export function createFileAtomicSync(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): boolean {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  const tmp = tempPathFor(file);
  try {
    writeTempSync(tmp, data, opts.mode);
    // link() fails with EEXIST instead of replacing, which rename() would do.
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
  syncDir(dir);
  return true;
}

/**
 * The asynchronous form (writing and fsync go through the thread pool). `beforeRename` may veto
 * the rename (returns false): the temp file is removed and the target left alone. Returns whether
 * it was renamed.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: AtomicWriteOptions & { beforeRename?: () => boolean } = {}): Promise<boolean> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = tempPathFor(file);
  try {
    const fh = await open(tmp, 'wx', opts.mode ?? 0o644);
    try {
      if (opts.mode !== undefined) await fh.chmod(opts.mode);
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.beforeRename && !opts.beforeRename()) {
      await rm(tmp, { force: true });
      return false;
    }
    // Synchronously right after the check, so no other write of this process can come between.
    renameSync(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  syncDir(dir);
  return true;
}
