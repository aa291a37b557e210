/**
 * The lab's state files: atomic writes (a crash never leaves a half-written file), the API token
 * (`$LAB_HOME/token`, mode 0600) and the mesh config that fails to load.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileAtomicSync, staleTempFiles, writeFileAtomic, writeFileAtomicSync } from '../../../src/shared/atomic-file.js';
import { ensureToken, paths, readLabInfo, readToken, writeLabInfo } from '../../../src/controlplane/lab-home.js';
import { loadMeshConfig, saveMeshConfig } from '../../../src/controlplane/mesh-config.js';
import { DEFAULT_MESH_CONFIG } from '../../../src/model/specs.js';
import { LabError } from '../../../src/shared/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'state-'));
  dirs.push(d);
  return d;
}

const mode = (file: string) => statSync(file).mode & 0o777;

describe('atomic writes', () => {
  it('replace the file and leave no temp file behind', async () => {
    const file = join(dir(), 'nested', 'f.json');
    writeFileAtomicSync(file, 'one');
    expect(readFileSync(file, 'utf8')).toBe('one');
    expect(await writeFileAtomic(file, 'two')).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('two');
    writeFileAtomicSync(file, 'three', { mode: 0o600 });
    expect(readFileSync(file, 'utf8')).toBe('three');
    expect(mode(file)).toBe(0o600);
    expect(staleTempFiles(file)).toEqual([]);
  });

  it('a write that fails keeps the old content and removes its temp file', () => {
    const d = dir();
    const file = join(d, 'f.json');
    writeFileAtomicSync(file, 'old');
    // The rename cannot replace a folder with a file: the write fails after the temp file exists.
    const target = join(d, 'a-folder');
    mkdirSync(join(target, 'inside'), { recursive: true });
    expect(() => writeFileAtomicSync(target, 'new')).toThrow();
    expect(readdirSync(d).sort()).toEqual(['a-folder', 'f.json']);
    expect(readFileSync(file, 'utf8')).toBe('old');
  });

  it('a vetoed asynchronous write leaves the file alone', async () => {
    const file = join(dir(), 'f.json');
    writeFileAtomicSync(file, 'kept');
    expect(await writeFileAtomic(file, 'dropped', { beforeRename: () => false })).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('kept');
    expect(staleTempFiles(file)).toEqual([]);
  });

  it('create-if-absent never replaces an existing file', () => {
    const file = join(dir(), 'f');
    expect(createFileAtomicSync(file, 'first', { mode: 0o600 })).toBe(true);
    expect(createFileAtomicSync(file, 'second')).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('first');
    expect(mode(file)).toBe(0o600);
    expect(staleTempFiles(file)).toEqual([]);
  });

  it('staleTempFiles finds what an interrupted writer left, and nothing else', () => {
    const d = dir();
    const file = join(d, 'store.json');
    for (const n of ['store.json', 'store.json.123.abcd.tmp', 'store.json.tmp', 'store.json.bad', 'mesh.json.1.a.tmp']) writeFileSync(join(d, n), '{');
    expect(staleTempFiles(file).sort()).toEqual([join(d, 'store.json.123.abcd.tmp'), join(d, 'store.json.tmp')]);
  });

  it('lab.json goes through it too', () => {
    const home = dir();
    const info = { pid: 1, api: 'http://127.0.0.1:1', ingressPort: 8080, runtime: 'local', addressMode: 'ports', block: 0, startedAt: 'now' };
    writeLabInfo(home, info);
    expect(readLabInfo(home)).toEqual(info);
    expect(readdirSync(home)).toEqual(['lab.json']);
  });
});

describe('the API token', () => {
  it('is created once: 32 random bytes as hex, mode 0600, the same on every later call', () => {
    const home = join(dir(), 'lab');
    const token = ensureToken(home);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(mode(paths.token(home))).toBe(0o600);
    expect(ensureToken(home)).toBe(token);
    expect(readToken(home)).toBe(token);
    expect(ensureToken(dir())).not.toBe(token);
  });

  it('a token file readable by others is made 0600 again', () => {
    const home = dir();
    const token = ensureToken(home);
    chmodSync(paths.token(home), 0o644);
    expect(ensureToken(home)).toBe(token);
    expect(mode(paths.token(home))).toBe(0o600);
  });

  it('a file that holds no token is replaced by a new one', () => {
    const home = dir();
    writeFileSync(paths.token(home), 'not a token\n', { mode: 0o644 });
    const token = ensureToken(home);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(paths.token(home), 'utf8').trim()).toBe(token);
    expect(mode(paths.token(home))).toBe(0o600);
  });

  it('the CLI reading a missing token gets a clear error', () => {
    const home = dir();
    expect(() => readToken(home)).toThrow(LabError);
    expect(() => readToken(home)).toThrow(`the lab's API token ${paths.token(home)} is missing or invalid`);
  });
});

describe('mesh.json', () => {
  it('saves atomically and loads back; none means the defaults', () => {
    const file = join(dir(), 'mesh.json');
    expect(loadMeshConfig(file)).toEqual(DEFAULT_MESH_CONFIG);
    const mesh = { ...DEFAULT_MESH_CONFIG, outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' as const } };
    saveMeshConfig(file, mesh);
    expect(loadMeshConfig(file)).toEqual(mesh);
    expect(staleTempFiles(file)).toEqual([]);
  });

  it('a file that does not load is an error naming it, and is left as it is', () => {
    const file = join(dir(), 'mesh.json');
    writeFileSync(file, '{"outboundTrafficPolicy": {"mo');
    expect(() => loadMeshConfig(file)).toThrow(`the mesh config ${file} cannot be loaded`);
    expect(() => loadMeshConfig(file)).toThrow(`mv ${file} ${file}.bad`);
    expect(readFileSync(file, 'utf8')).toBe('{"outboundTrafficPolicy": {"mo');
    writeFileSync(file, '[1]');
    expect(() => loadMeshConfig(file)).toThrow('not a JSON object');
    expect(existsSync(file)).toBe(true);
  });
});
