/** The store on disk: what a restarted control plane reads back, and when it is written. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/model/objects.js';
import { StorePersistence } from '../../../src/store/persistence.js';
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
