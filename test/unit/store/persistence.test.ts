/** The store on disk: what a restarted control plane reads back, and when it is written. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/model/objects.js';
import { readStoreFile, StoreLoadError, StorePersistence } from '../../../src/store/persistence.js';
import { staleTempFiles } from '../../../src/shared/atomic-file.js';
import { ObjectStore } from '../../../src/store/store.js';
import { waitFor } from '../../helpers/lab.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fileIn(): string {
  const d = mkdtempSync(join(tmpdir(), 'store-'));
  dirs.push(d);
  return join(d, 'nested', 'store.json');
}

const vs = (name: string, host: string): KubeObject => ({
  apiVersion: 'networking.istio.io/v1beta1',
  kind: 'VirtualService',
  metadata: { name, namespace: 'istioinaction' },
  spec: { hosts: [host], http: [{ route: [{ destination: { host } }] }] },
});
const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'istioinaction' }, spec: {} };

/** A store with persistence started on a fresh file. */
function started(): { file: string; store: ObjectStore; p: StorePersistence } {
  const file = fileIn();
  const store = new ObjectStore();
  const p = new StorePersistence(store, file);
  p.start();
  return { file, store, p };
}

function saved(file: string): string[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { objects: KubeObject[] };
  return parsed.objects.map((o) => `${o.kind}/${o.metadata.name}:${JSON.stringify((o.spec as { hosts?: string[] }).hosts ?? [])}`);
}

describe('StorePersistence', () => {
  it('writes a burst of changes once it settles, leaves Pods out, and a new store loads it back', async () => {
    const { file, store, p } = started();
    store.apply(vs('a', 'catalog'));
    store.apply(pod);
    for (let i = 0; i < 20; i++) store.apply(vs('b', `host-${i}`));
    await p.idle();
    expect(saved(file)).toEqual(['VirtualService/a:["catalog"]', 'VirtualService/b:["host-19"]']);

    const again = new ObjectStore();
    expect(new StorePersistence(again, file).load().length).toBe(2);
    expect(again.get('VirtualService', 'istioinaction', 'b')?.spec).toEqual(vs('b', 'host-19').spec);
  });

  it('a change after a write gets its own write', async () => {
    const { file, store, p } = started();
    store.apply(vs('a', 'one'));
    await waitFor(async () => (existsSync(file) ? true : undefined), 'the first write');
    store.apply(vs('a', 'two'));
    await p.idle();
    expect(saved(file)).toEqual(['VirtualService/a:["two"]']);
  });

  it('flush() writes at once, and a pending scheduled write does not replace it afterwards', async () => {
    const { file, store, p } = started();
    store.apply(vs('a', 'one'));
    p.flush();
    expect(saved(file)).toEqual(['VirtualService/a:["one"]']);
    await p.idle();
    expect(saved(file)).toEqual(['VirtualService/a:["one"]']);
  });
});

describe('a store file that does not load', () => {
  const good = JSON.stringify({ objects: [vs('a', 'catalog')] }, null, 1);
  const cases: Array<[string, string, string]> = [
    ['truncated JSON', good.slice(0, good.length / 2), 'JSON'],
    ['not an object', '[]', 'not a JSON object'],
    ['objects not a list', '{"objects": {}}', '"objects" is not a list'],
    ['an entry without kind', '{"objects": [{"apiVersion": "v1", "metadata": {"name": "x"}}]}', 'objects[0] has no kind'],
    ['an entry without a name', '{"objects": [{"apiVersion": "v1", "kind": "Service", "metadata": {}}]}', 'objects[0] (Service) has no metadata.name'],
    ['an entry that is not an object', '{"objects": [null]}', 'objects[0] is not an object'],
  ];

  it.each(cases)('%s: load() throws an error naming the file and how to recover', (_what, text, reason) => {
    const file = fileIn();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    const p = new StorePersistence(new ObjectStore(), file);
    let err: unknown;
    try {
      p.load();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreLoadError);
    const message = (err as Error).message;
    expect(message).toContain(`the store ${file} cannot be loaded`);
    expect(message).toContain(reason);
    expect(message).toContain(`mv ${file} ${file}.bad`);
    expect(() => readStoreFile(file)).toThrow(StoreLoadError);
  });

  it('is never written over afterwards: not by changes, not by flush()', async () => {
    const file = fileIn();
    mkdirSync(dirname(file), { recursive: true });
    const text = good.slice(0, 40);
    writeFileSync(file, text);
    const store = new ObjectStore();
    const p = new StorePersistence(store, file);
    expect(() => p.load()).toThrow(StoreLoadError);
    p.start();
    store.apply(vs('b', 'other'));
    await p.idle();
    p.flush();
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(staleTempFiles(file)).toEqual([]);
  });

  it('what an interrupted write left next to it is ignored and cleared; the store loads whole', () => {
    const { file, store, p } = started();
    store.apply(vs('a', 'catalog'));
    p.flush();
    // A writer killed before its rename: a half-written temp file, in both the old and new naming.
    writeFileSync(`${file}.4242.deadbeef.tmp`, good.slice(0, 30));
    writeFileSync(`${file}.tmp`, '{"objects": [');
    const again = new ObjectStore();
    expect(new StorePersistence(again, file).load().map((o) => o.metadata.name)).toEqual(['a']);
    expect(staleTempFiles(file)).toEqual([]);
    expect(saved(file)).toEqual(['VirtualService/a:["catalog"]']);
  });
});
