import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { startExternal } from '../../../services/external/src/server.js';
import type { RunningService } from '../../../services/shared/src/lifecycle.js';
import { LogCapture, request } from './helpers.js';

let svc: RunningService | undefined;
afterEach(async () => {
  await svc?.close();
  svc = undefined;
});

async function external(logs = new LogCapture()): Promise<RunningService> {
  svc = await startExternal({ host: '127.0.0.1', port: 0, log: logs.log });
  return svc;
}

describe('jsonplaceholder stand-in', () => {
  it('GET /users: ten users with the real site shape, pretty-printed (5645 bytes)', async () => {
    const s = await external();
    const r = await request(`${s.url}/users`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.body.length).toBe(5645);
    const users = JSON.parse(r.text) as Record<string, any>[];
    expect(users.map((u) => u.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(users[0]).toEqual({
      id: 1,
      name: 'Leanne Graham',
      username: 'Bret',
      email: 'Sincere@april.biz',
      address: { street: 'Kulas Light', suite: 'Apt. 556', city: 'Gwenborough', zipcode: '92998-3874', geo: { lat: '-37.3159', lng: '81.1496' } },
      phone: '1-770-736-8031 x56442',
      website: 'hildegard.org',
      company: { name: 'Romaguera-Crona', catchPhrase: 'Multi-layered client-server neural-net', bs: 'harness real-time e-markets' },
    });
    for (const u of users) {
      expect(Object.keys(u)).toEqual(['id', 'name', 'username', 'email', 'address', 'phone', 'website', 'company']);
      expect(Object.keys(u.address)).toEqual(['street', 'suite', 'city', 'zipcode', 'geo']);
      expect(Object.keys(u.address.geo)).toEqual(['lat', 'lng']);
      expect(Object.keys(u.company)).toEqual(['name', 'catchPhrase', 'bs']);
    }
    expect(users[9]!.name).toBe('Clementina DuBuque');
  });

  it('gzips when the client accepts it', async () => {
    const s = await external();
    const r = await request(`${s.url}/users`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(r.body).length).toBe(5645);
  });

  it('GET /users/:id, /posts; 404 {} otherwise; logs the Host', async () => {
    const logs = new LogCapture();
    const s = await external(logs);
    const one = await request(`${s.url}/users/2`, { headers: { Host: 'jsonplaceholder.typicode.com' } });
    expect(JSON.parse(one.text).username).toBe('Antonette');
    const posts = JSON.parse((await request(`${s.url}/posts`)).text) as { userId: number; id: number; title: string; body: string }[];
    expect(posts.length).toBeGreaterThanOrEqual(3);
    expect(Object.keys(posts[0]!)).toEqual(['userId', 'id', 'title', 'body']);
    const missing = await request(`${s.url}/users/11`);
    expect(missing.status).toBe(404);
    expect(missing.text).toBe('{}');
    expect((await request(`${s.url}/comments`)).status).toBe(404);
    expect(await logs.waitFor(/^GET jsonplaceholder\.typicode\.com \/users\/2 /)).toMatch(/ 200 \d+ - \d+\.\d{3} ms$/);
  });
});
