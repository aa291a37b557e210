import { afterEach, describe, expect, it } from 'vitest';
import { type CatalogService, startCatalog } from '../../../services/catalog/src/server.js';
import { startForum } from '../../../services/forum/src/server.js';
import type { RunningService } from '../../../services/shared/src/lifecycle.js';
import { startWebapp, type WebappOptions } from '../../../services/webapp/src/server.js';
import { closedPort, LogCapture, request, startForwardProxy, type TestProxy } from './helpers.js';

const V1_COMPACT =
  '[{"id":1,"color":"amber","department":"Eyewear","name":"Elinor Glasses","price":"282.00"},{"id":2,"color":"cyan","department":"Clothing","name":"Atlas Shirt","price":"127.00"},{"id":3,"color":"teal","department":"Clothing","name":"Small Metal Shoes","price":"232.00"},{"id":4,"color":"red","department":"Watches","name":"Red Dragon Watch","price":"232.00"}]';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

function track<T extends { close(): Promise<void> }>(s: T): T {
  cleanups.push(() => s.close());
  return s;
}

async function catalog(showImage = false, logs = new LogCapture()): Promise<CatalogService> {
  return track(await startCatalog({ host: '127.0.0.1', port: 0, showImage, log: logs.log }));
}

async function webapp(options: WebappOptions, logs = new LogCapture()): Promise<RunningService> {
  return track(await startWebapp({ host: '127.0.0.1', port: 0, log: logs.log, ...options }));
}

async function proxy(routes: Record<string, string>): Promise<TestProxy> {
  return track(await startForwardProxy(routes));
}

describe('webapp -> catalog, direct', () => {
  it('GET /api/catalog re-encodes the catalog list compactly (357 bytes for v1)', async () => {
    const cat = await catalog();
    const web = await webapp({ catalogHost: '127.0.0.1', catalogPort: cat.address.port });
    const r = await request(`${web.url}/api/catalog`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.text).toBe(V1_COMPACT);
    expect(r.body.length).toBe(357);
  });

  it('v2 items keep imageUrl (529 bytes)', async () => {
    const cat = await catalog(true);
    const web = await webapp({ catalogHost: '127.0.0.1', catalogPort: cat.address.port });
    const r = await request(`${web.url}/api/catalog`);
    const items = JSON.parse(r.text) as { imageUrl?: string }[];
    expect(items).toHaveLength(4);
    for (const i of items) expect(i.imageUrl).toBe('http://lorempixel.com/640/480');
    expect(r.body.length).toBe(529);
  });

  it('GET /api/catalog/items/:id, and 500 when the catalog answers 404', async () => {
    const cat = await catalog();
    const web = await webapp({ catalogHost: '127.0.0.1', catalogPort: cat.address.port });
    const one = await request(`${web.url}/api/catalog/items/2`);
    expect(one.status).toBe(200);
    expect(one.text).toBe('{"id":2,"color":"cyan","department":"Clothing","name":"Atlas Shirt","price":"127.00"}');
    const missing = await request(`${web.url}/api/catalog/items/99`);
    expect(missing.status).toBe(500);
    expect(missing.text).toBe('error calling Catalog service');
    expect((await request(`${web.url}/api/catalog/items/abc`)).status).toBe(404);
  });

  it('POST /api/catalog/items creates an item in the catalog', async () => {
    const cat = await catalog();
    const web = await webapp({ catalogHost: '127.0.0.1', catalogPort: cat.address.port });
    const r = await request(`${web.url}/api/catalog/items`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ color: 'blue', department: 'Sports', name: 'Basketball hoop', price: '2700.00' }),
    });
    expect(r.status).toBe(201);
    expect(JSON.parse(r.text)).toEqual({ id: 5, color: 'blue', department: 'Sports', name: 'Basketball hoop', price: '2700.00' });
    expect(cat.items().map((i) => i.name)).toContain('Basketball hoop');
    const bad = await request(`${web.url}/api/catalog/items`, { method: 'POST', body: '{"price": 12}' });
    expect(bad.status).toBe(400);
    expect(bad.text).toBe('Invalid CatalogItem');
  });

  it('answers 500 "error calling Catalog service" when the catalog is down or failing', async () => {
    const down = await webapp({ catalogHost: '127.0.0.1', catalogPort: await closedPort() });
    const r = await request(`${down.url}/api/catalog`);
    expect(r.status).toBe(500);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.text).toBe('error calling Catalog service');

    const cat = await catalog();
    cat.blowups.set({ type: '500', percentage: 100 });
    const web = await webapp({ catalogHost: '127.0.0.1', catalogPort: cat.address.port });
    const failing = await request(`${web.url}/api/catalog`);
    expect(failing.status).toBe(500);
    expect(failing.text).toBe('error calling Catalog service');
  });

  it('answers 500 "error calling Forum service" when the forum is down', async () => {
    const web = await webapp({ forumHost: '127.0.0.1', forumPort: await closedPort() });
    const r = await request(`${web.url}/api/users`);
    expect(r.status).toBe(500);
    expect(r.text).toBe('error calling Forum service');
  });

  it('GET /api/users re-encodes the forum users; /api/healthz is 200', async () => {
    const forum = track(await startForum({ host: '127.0.0.1', port: 0, localUsers: true, log: () => undefined }));
    const web = await webapp({ forumHost: '127.0.0.1', forumPort: forum.address.port });
    const r = await request(`${web.url}/api/users`);
    expect(r.status).toBe(200);
    const users = JSON.parse(r.text) as Record<string, unknown>[];
    expect(users).toHaveLength(1);
    expect(users[0]).toEqual({
      id: 10,
      name: 'ClementinaDuBuque',
      username: 'Moriah.Stanton',
      email: 'Rey.Padberg@karina.biz',
      address: { street: 'KattieTurnpike', suite: 'Suite198', city: 'Lebsackbury', zipcode: '31428-2261' },
      phone: '024-648-3804',
      website: 'ambrose.net',
      company: { name: 'HoegerLLC', catchPhrase: 'Centralizedempoweringtask-force', bs: 'targetend-to-endmodels' },
    });
    expect((await request(`${web.url}/api/healthz`)).status).toBe(200);
  });

  it('GET / renders items and users, and a partial page when a call fails', async () => {
    const cat = await catalog();
    const forum = track(await startForum({ host: '127.0.0.1', port: 0, localUsers: true, log: () => undefined }));
    const web = await webapp({ catalogHost: '127.0.0.1', catalogPort: cat.address.port, forumHost: '127.0.0.1', forumPort: forum.address.port });
    const full = await request(`${web.url}/`);
    expect(full.status).toBe(200);
    expect(full.headers['content-type']).toMatch(/^text\/html/);
    for (const name of ['Elinor Glasses', 'Atlas Shirt', 'Small Metal Shoes', 'Red Dragon Watch', 'ClementinaDuBuque']) {
      expect(full.text).toContain(name);
    }
    const partial = await webapp({ catalogHost: '127.0.0.1', catalogPort: await closedPort(), forumHost: '127.0.0.1', forumPort: forum.address.port });
    const p = await request(`${partial.url}/`);
    expect(p.status).toBe(200);
    expect(p.text).toContain('The catalog service is currently not available.');
    expect(p.text).not.toContain('Elinor Glasses');
    expect(p.text).toContain('ClementinaDuBuque');
  });

  it('logs each request in beego format', async () => {
    const cat = await catalog();
    const logs = new LogCapture();
    const web = await webapp({ catalogHost: '127.0.0.1', catalogPort: cat.address.port }, logs);
    await request(`${web.url}/api/catalog`, { headers: { 'User-Agent': 'curl/7.84.0', 'X-Forwarded-For': '172.17.0.1' } });
    const line = await logs.waitFor(/\[router\.go:1014\]/);
    expect(line).toMatch(
      /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}\.\d{3} \[M\] \[router\.go:1014\]  172\.17\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4} \d{2}:\d{2}:\d{2}\] "GET \/api\/catalog HTTP\/1\.1 200 0" \d+\.\d{6}  curl\/7\.84\.0$/,
    );
  });
});

describe('webapp through HTTP_PROXY (the sidecar)', () => {
  it('sends absolute-form requests with Host host:port, and forwards only x-* and Authorization', async () => {
    const catLogs = new LogCapture();
    const cat = await catalog(false, catLogs);
    const px = await proxy({ 'catalog.istioinaction:80': `127.0.0.1:${cat.address.port}` });
    const web = await webapp({ catalogHost: 'catalog.istioinaction', catalogPort: '80', httpProxy: px.url });

    const r = await request(`${web.url}/api/catalog`, {
      headers: {
        'x-istio-cohort': 'internal',
        'X-Request-Id': '01312fa3-7f06-98d6-b9d1-bec2ec29bb7e',
        'x-b3-traceid': 'abc',
        Authorization: 'Bearer token-1',
        Cookie: 'session=1',
        'Accept-Language': 'ko',
        Foo: 'bar',
        'User-Agent': 'curl/7.84.0',
      },
    });
    expect(r.status).toBe(200);
    expect(r.text).toBe(V1_COMPACT);

    expect(px.records).toHaveLength(1);
    const rec = px.records[0]!;
    expect(rec.method).toBe('GET');
    expect(rec.target).toBe('http://catalog.istioinaction:80/items');
    expect(rec.headers.host).toBe('catalog.istioinaction:80');
    expect(rec.headers['user-agent']).toBe('beegoServer');
    expect(rec.headers['x-istio-cohort']).toBe('internal');
    expect(rec.headers['x-request-id']).toBe('01312fa3-7f06-98d6-b9d1-bec2ec29bb7e');
    expect(rec.headers['x-b3-traceid']).toBe('abc');
    expect(rec.headers.authorization).toBe('Bearer token-1');
    expect(rec.headers.cookie).toBeUndefined();
    expect(rec.headers['accept-language']).toBeUndefined();
    expect(rec.headers.foo).toBeUndefined();

    // The catalog sees the Host the way the book's catalog log shows it.
    const line = await catLogs.waitFor(/^GET catalog\.istioinaction:80 \/items /);
    expect(line).toMatch(/^GET catalog\.istioinaction:80 \/items 200 502 - \d+\.\d{3} ms$/);
  });

  it('reuses one keep-alive connection to the proxy', async () => {
    const cat = await catalog();
    const px = await proxy({ 'catalog.istioinaction:80': `127.0.0.1:${cat.address.port}` });
    const web = await webapp({ catalogHost: 'catalog.istioinaction', catalogPort: 80, httpProxy: px.url });
    for (let i = 0; i < 3; i++) expect((await request(`${web.url}/api/catalog`)).status).toBe(200);
    expect(px.records).toHaveLength(3);
    expect(new Set(px.records.map((r) => r.remotePort)).size).toBe(1);
  });

  it('a proxy that refuses the destination (502) gives 500 "error calling Forum service"', async () => {
    const px = await proxy({});
    const web = await webapp({ httpProxy: px.url });
    const r = await request(`${web.url}/api/users`);
    expect(r.status).toBe(500);
    expect(r.text).toBe('error calling Forum service');
    expect(px.records[0]!.target).toBe('http://forum.istioinaction:80/api/users');
    expect(px.records[0]!.headers.host).toBe('forum.istioinaction:80');
  });
});
