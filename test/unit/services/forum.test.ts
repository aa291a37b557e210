import { afterEach, describe, expect, it } from 'vitest';
import { startExternal } from '../../../services/external/src/server.js';
import { LOCAL_USERS_JSON, startForum, type ForumOptions } from '../../../services/forum/src/server.js';
import type { RunningService } from '../../../services/shared/src/lifecycle.js';
import { startWebapp } from '../../../services/webapp/src/server.js';
import { closedPort, LogCapture, request, startForwardProxy, type TestProxy } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});
function track<T extends { close(): Promise<void> }>(s: T): T {
  cleanups.push(() => s.close());
  return s;
}

async function forum(options: ForumOptions, logs = new LogCapture()): Promise<RunningService> {
  return track(await startForum({ host: '127.0.0.1', port: 0, log: logs.log, ...options }));
}

/** The external stand-in behind a test forward proxy that knows jsonplaceholder.typicode.com. */
async function externalBehindProxy(): Promise<{ px: TestProxy; extLogs: LogCapture }> {
  const extLogs = new LogCapture();
  const ext = track(await startExternal({ host: '127.0.0.1', port: 0, log: extLogs.log }));
  const px = track(await startForwardProxy({ 'jsonplaceholder.typicode.com': `127.0.0.1:${ext.address.port}` }));
  return { px, extLogs };
}

describe('forum', () => {
  it('LOCAL_USERS=true answers the fixed local list without calling out', async () => {
    const px = track(await startForwardProxy({}));
    const f = await forum({ localUsers: true, httpProxy: px.url });
    const r = await request(`${f.url}/api/users`);
    expect(r.status).toBe(200);
    expect(r.text).toBe(LOCAL_USERS_JSON);
    expect(JSON.parse(r.text)[0].name).toBe('ClementinaDuBuque');
    expect(px.records).toHaveLength(0);
  });

  it('fetches jsonplaceholder users through HTTP_PROXY like Go does', async () => {
    const { px, extLogs } = await externalBehindProxy();
    const logs = new LogCapture();
    const f = await forum({ httpProxy: px.url }, logs);
    const r = await request(`${f.url}/api/users`, {
      headers: { 'x-request-id': 'e631fa32-fb6a-921a-8f58-e96f3dcac3d3', Authorization: 'Bearer t', 'User-Agent': 'beegoServer' },
    });
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(5645); // the size in the book's forum log
    const users = JSON.parse(r.text) as { id: number; name: string; username: string; email: string }[];
    expect(users).toHaveLength(10);
    expect(users[0]).toMatchObject({ id: 1, name: 'Leanne Graham', username: 'Bret', email: 'Sincere@april.biz' });

    expect(px.records).toHaveLength(1);
    const rec = px.records[0]!;
    expect(rec.target).toBe('http://jsonplaceholder.typicode.com/users');
    expect(rec.headers.host).toBe('jsonplaceholder.typicode.com');
    expect(rec.headers['user-agent']).toBe('Go-http-client/1.1');
    expect(rec.headers['accept-encoding']).toBe('gzip');
    expect(rec.headers['x-request-id']).toBe('e631fa32-fb6a-921a-8f58-e96f3dcac3d3');
    expect(rec.headers.authorization).toBeUndefined();

    expect(await extLogs.waitFor(/^GET jsonplaceholder\.typicode\.com \/users /)).toMatch(
      /^GET jsonplaceholder\.typicode\.com \/users 200 \d+ - \d+\.\d{3} ms$/,
    );
    expect(logs.lines).toContain('Adding header to request: X-Request-Id=e631fa32-fb6a-921a-8f58-e96f3dcac3d3');
    expect(await logs.waitFor(/^GET \S+ \/api\/users /)).toMatch(/^GET 127\.0\.0\.1:\d+ \/api\/users 200 5645 - \d+\.\d{3} ms$/);
  });

  it('a blocked external call (502, like REGISTRY_ONLY) answers 500 "error calling Users service"', async () => {
    const px = track(await startForwardProxy({}));
    const f = await forum({ httpProxy: px.url });
    const r = await request(`${f.url}/api/users`);
    expect(r.status).toBe(500);
    expect(r.text).toBe('error calling Users service\n');
    expect(r.body.length).toBe(28); // the size in the book's forum log
  });

  it('an unreachable upstream answers 500 too', async () => {
    const f = await forum({ usersUrl: `http://127.0.0.1:${await closedPort()}/users` });
    const r = await request(`${f.url}/api/users`);
    expect(r.status).toBe(500);
    expect(r.text).toBe('error calling Users service\n');
  });

  it('/api/healthz is 200; unknown paths 404', async () => {
    const f = await forum({ localUsers: true });
    expect((await request(`${f.url}/api/healthz`)).status).toBe(200);
    expect((await request(`${f.url}/nope`)).status).toBe(404);
  });

  it('webapp -> forum -> proxy -> external: webapp answers users without geo (3679 bytes)', async () => {
    const { px } = await externalBehindProxy();
    const f = await forum({ httpProxy: px.url });
    const web = track(await startWebapp({ host: '127.0.0.1', port: 0, forumHost: '127.0.0.1', forumPort: f.address.port, log: () => undefined }));
    const r = await request(`${web.url}/api/users`);
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(3679); // the size in the book's webapp log
    expect(r.text.startsWith('[{"id":1,"name":"Leanne Graham","username":"Bret","email":"Sincere@april.biz","address":{"street":"Kulas Light","suite":"Apt. 556","city":"Gwenborough","zipcode":"92998-3874"},')).toBe(true);
  });
});
