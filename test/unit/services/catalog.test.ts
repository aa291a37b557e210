import { afterEach, describe, expect, it } from 'vitest';
import { Blowups } from '../../../services/catalog/src/blowups.js';
import { type CatalogOptions, type CatalogService, startCatalog } from '../../../services/catalog/src/server.js';
import { createRandom } from '../../../services/shared/src/random.js';
import { LogCapture, request } from './helpers.js';

const V1_ITEMS = [
  { id: 1, color: 'amber', department: 'Eyewear', name: 'Elinor Glasses', price: '282.00' },
  { id: 2, color: 'cyan', department: 'Clothing', name: 'Atlas Shirt', price: '127.00' },
  { id: 3, color: 'teal', department: 'Clothing', name: 'Small Metal Shoes', price: '232.00' },
  { id: 4, color: 'red', department: 'Watches', name: 'Red Dragon Watch', price: '232.00' },
];

const running: CatalogService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function catalog(options: CatalogOptions = {}): Promise<{ svc: CatalogService; logs: LogCapture }> {
  const logs = new LogCapture();
  const svc = await startCatalog({ host: '127.0.0.1', port: 0, log: logs.log, ...options });
  running.push(svc);
  return { svc, logs };
}

async function postBlowup(svc: CatalogService, rule: unknown) {
  return request(`${svc.url}/blowup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(rule),
  });
}

async function statuses(svc: CatalogService, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await request(`${svc.url}/items`)).status);
  return out;
}

describe('catalog items', () => {
  it('serves the four v1 items, pretty-printed (502 bytes, as in the book logs)', async () => {
    const { svc } = await catalog();
    const r = await request(`${svc.url}/items`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(r.text)).toEqual(V1_ITEMS);
    expect(r.body.length).toBe(502);
    expect(r.headers['content-length']).toBe('502');
    expect(r.text).toBe(JSON.stringify(V1_ITEMS, null, 2));
  });

  it('v2 (SHOW_IMAGE) adds imageUrl to every item (698 bytes)', async () => {
    const { svc } = await catalog({ showImage: true });
    const r = await request(`${svc.url}/items`);
    const items = JSON.parse(r.text) as Record<string, unknown>[];
    expect(items).toEqual(V1_ITEMS.map((i) => ({ ...i, imageUrl: 'http://lorempixel.com/640/480' })));
    expect(r.body.length).toBe(698);
  });

  it('GET /items/:id answers one item, 404 when missing', async () => {
    const { svc } = await catalog({ showImage: true });
    const one = await request(`${svc.url}/items/1`);
    expect(one.status).toBe(200);
    expect(JSON.parse(one.text)).toEqual({ ...V1_ITEMS[0], imageUrl: 'http://lorempixel.com/640/480' });
    const missing = await request(`${svc.url}/items/99`);
    expect(missing.status).toBe(404);
    expect(missing.text).toBe('Not Found');
  });

  it('POST /items answers 201 and assigns the next id', async () => {
    const { svc } = await catalog();
    const body = JSON.stringify({ color: 'blue', department: 'Sports', name: 'Basketball hoop', price: '2700.00' });
    const r = await request(`${svc.url}/items`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    expect(r.status).toBe(201);
    expect(JSON.parse(r.text)).toEqual({ color: 'blue', department: 'Sports', name: 'Basketball hoop', price: '2700.00', id: 5 });
    const list = JSON.parse((await request(`${svc.url}/items`)).text) as { id: number }[];
    expect(list.map((i) => i.id)).toEqual([1, 2, 3, 4, 5]);
    expect(JSON.parse((await request(`${svc.url}/items/5`)).text).name).toBe('Basketball hoop');
    const bad = await request(`${svc.url}/items`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
  });

  it('serves the json-server home page at / and 404 elsewhere', async () => {
    const { svc } = await catalog();
    const home = await request(`${svc.url}/`);
    expect(home.status).toBe(200);
    expect(home.headers['content-type']).toMatch(/^text\/html/);
    expect(home.text).toContain('Congrats!');
    expect(home.text).toContain("You're successfully running JSON Server");
    const nf = await request(`${svc.url}/nope`);
    expect(nf.status).toBe(404);
    expect(nf.text).toContain('Cannot GET /nope');
  });

  it('logs each request like the book (path, blowups, host line, dev line)', async () => {
    const { svc, logs } = await catalog();
    await logs.waitFor(/^JSON Server is running/);
    logs.clear();
    const r = await request(`${svc.url}/items`, { headers: { Host: 'catalog.istioinaction:80' } });
    expect(r.status).toBe(200);
    const hostLine = await logs.waitFor(/^GET catalog\.istioinaction:80 \/items /);
    expect(hostLine).toMatch(/^GET catalog\.istioinaction:80 \/items 200 502 - \d+\.\d{3} ms$/);
    const devLine = await logs.waitFor(/^GET \/items 200 /);
    expect(devLine).toMatch(/^GET \/items 200 \d+\.\d{3} ms - 502$/);
    expect(logs.lines.slice(0, 3)).toEqual(['request path: /items', 'blowups: {}', 'number of blowups: 0']);
  });
});

describe('catalog /blowup failure injection', () => {
  it('type 500 with percentage 100 fails every /items request; GET shows it; DELETE clears it', async () => {
    const { svc, logs } = await catalog();
    const set = await postBlowup(svc, { type: '500', percentage: 100 });
    expect(set.status).toBe(200);
    expect(set.text).toBe('blowups={"500":{"type":"500","percentage":100}}');
    expect(JSON.parse((await request(`${svc.url}/blowup`)).text)).toEqual({ '500': { type: '500', percentage: 100 } });

    const r = await request(`${svc.url}/items`);
    expect(r.status).toBe(500);
    expect(r.body.length).toBe(0);
    expect(await statuses(svc, 10)).toEqual(Array(10).fill(500));
    expect(logs.lines).toContain('Sending a 500 blowup');
    expect(logs.lines).toContain('number of blowups: 1');

    // Only paths containing "items" are affected.
    expect((await request(`${svc.url}/`)).status).toBe(200);

    const del = await request(`${svc.url}/blowup`, { method: 'DELETE', headers: { 'Content-Type': 'application/json' }, body: '{"type":"500"}' });
    expect(del.text).toBe('deleted blowup 500');
    expect(await statuses(svc, 5)).toEqual(Array(5).fill(200));
  });

  it('a missing percentage means 100; "active": false disables a rule', async () => {
    const { svc } = await catalog();
    await postBlowup(svc, { type: '500' });
    expect(await statuses(svc, 5)).toEqual(Array(5).fill(500));
    await postBlowup(svc, { active: false, type: '500' });
    expect(await statuses(svc, 5)).toEqual(Array(5).fill(200));
  });

  it('a partial percentage is reproducible with a seed (50% of 200)', async () => {
    const a = await catalog({ seed: 42 });
    const b = await catalog({ seed: 42 });
    await postBlowup(a.svc, { type: '500', percentage: 50 });
    await postBlowup(b.svc, { type: '500', percentage: 50 });
    const sa = await statuses(a.svc, 200);
    const sb = await statuses(b.svc, 200);
    expect(sa).toEqual(sb);
    const failures = sa.filter((s) => s === 500).length;
    // Binomial(200, 0.5): outside [50, 150] has probability < 1e-12; with the seed it is fixed anyway.
    expect(failures).toBeGreaterThanOrEqual(50);
    expect(failures).toBeLessThanOrEqual(150);
    expect(new Set(sa)).toEqual(new Set([200, 500]));

    // The same dice, outside the server: the decisions match request by request.
    const model = new Blowups(createRandom(42), () => undefined);
    model.set({ type: '500', percentage: 50 });
    const expected = sa.map(() => (model.decide('/items').kind === '500' ? 500 : 200));
    expect(sa).toEqual(expected);
  });

  it('percentage 1 fails about 1% of requests (seeded)', async () => {
    const { svc } = await catalog({ seed: 'one-percent' });
    await postBlowup(svc, { type: '500', percentage: 1 });
    const s = await statuses(svc, 300);
    const failures = s.filter((x) => x === 500).length;
    // Binomial(300, 0.01): mean 3; more than 15 has probability < 1e-6.
    expect(failures).toBeLessThanOrEqual(15);
    const again = await catalog({ seed: 'one-percent' });
    await postBlowup(again.svc, { type: '500', percentage: 1 });
    expect(await statuses(again.svc, 300)).toEqual(s);
  });

  it('latency delays /items by latencyMs', async () => {
    const { svc, logs } = await catalog();
    await postBlowup(svc, { type: 'latency', latencyMs: 150 });
    const t0 = performance.now();
    const r = await request(`${svc.url}/items`);
    const elapsed = performance.now() - t0;
    expect(r.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(148);
    expect(logs.lines).toContain('Sending a latency blowup for 150ms');
  });

  it('volatile latency waits a random 0..latencyMs', async () => {
    const { svc, logs } = await catalog({ seed: 3 });
    await postBlowup(svc, { type: 'latency', latencyMs: 100, volatile: true });
    for (let i = 0; i < 5; i++) expect((await request(`${svc.url}/items`)).status).toBe(200);
    const waits = logs.lines
      .map((l) => /^Sending a latency blowup for (\d+)ms$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]));
    expect(waits).toHaveLength(5);
    for (const w of waits) expect(w).toBeLessThan(100);
    expect(new Set(waits).size).toBeGreaterThan(1);
  });

  it('drop closes the connection without an answer', async () => {
    const { svc, logs } = await catalog();
    await postBlowup(svc, { type: 'drop' });
    await expect(request(`${svc.url}/items`)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(logs.lines).toContain('Dropping connection');
    const line = await logs.waitFor(/^GET \S+ \/items - /);
    expect(line).toMatch(/^GET 127\.0\.0\.1:\d+ \/items - - - - ms$/);
    // The blowup API itself still works; DELETE without a type clears everything.
    const del = await request(`${svc.url}/blowup`, { method: 'DELETE' });
    expect(del.text).toBe('deleted all blowups');
    expect((await request(`${svc.url}/items`)).status).toBe(200);
  });

  it('rejects an unknown blowup type', async () => {
    const { svc } = await catalog();
    const r = await postBlowup(svc, { type: 'explode' });
    expect(r.status).toBe(400);
    expect(JSON.parse((await request(`${svc.url}/blowup`)).text)).toEqual({});
  });
});
