/**
 * The services as processes (from dist/, built by `npm run build`): environment handling, the
 * forward proxy taken from HTTP_PROXY, and the exit paths the lab relies on (stdin closing with
 * LAB_EXIT_ON_STDIN_CLOSE=1, SIGTERM).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request, startForwardProxy, type TestProxy } from '../../unit/services/helpers.js';

const root = path.resolve(import.meta.dirname, '../../..');
const mainOf = (svc: string) => path.join(root, 'dist/services', svc, 'src/main.js');

interface Proc {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  waitFor(re: RegExp): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const procs: Proc[] = [];
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
  for (const c of closers.splice(0)) await c();
});

function start(svc: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [mainOf(svc)], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LAB_EXIT_ON_STDIN_CLOSE: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  let buf = '';
  const onData = (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      waiters = waiters.filter((w) => {
        const m = w.re.exec(line);
        if (!m) return true;
        w.resolve(m);
        return false;
      });
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const p: Proc = {
    child,
    lines,
    exited,
    waitFor: (re) => {
      for (const l of lines) {
        const m = re.exec(l);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        waiters.push({ re, resolve });
        void exited.then(({ code }) => reject(new Error(`${svc} exited (${code}) before logging ${re}: ${lines.join('\n')}`)));
      });
    },
  };
  procs.push(p);
  return p;
}

beforeAll(() => {
  for (const svc of ['catalog', 'webapp', 'forum', 'external']) {
    if (!existsSync(mainOf(svc))) throw new Error(`${mainOf(svc)} is missing: run \`npm run build\` first`);
  }
});

describe('service processes', () => {
  it('catalog reads PORT/SHOW_IMAGE and exits when stdin closes', async () => {
    const cat = start('catalog', { SHOW_IMAGE: 'true' });
    const port = Number((await cat.waitFor(/^JSON Server is running on port (\d+)$/))[1]);
    const r = await request(`http://127.0.0.1:${port}/items`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)[0].imageUrl).toBe('http://lorempixel.com/640/480');
    await cat.waitFor(/^GET 127\.0\.0\.1:\d+ \/items 200 698 - /);
    cat.child.stdin.end();
    expect((await cat.exited).code).toBe(0);
  });

  it('webapp calls catalog through HTTP_PROXY from its environment; SIGTERM exits 0', async () => {
    const cat = start('catalog', {});
    const catPort = Number((await cat.waitFor(/^JSON Server is running on port (\d+)$/))[1]);
    const px: TestProxy = await startForwardProxy({ 'catalog.istioinaction:80': `127.0.0.1:${catPort}` });
    closers.push(() => px.close());
    const web = start('webapp', { CATALOG_SERVICE_HOST: 'catalog.istioinaction', CATALOG_SERVICE_PORT: '80', HTTP_PROXY: px.url });
    const webPort = Number((await web.waitFor(/http server Running on http:\/\/:(\d+)$/))[1]);
    const r = await request(`http://127.0.0.1:${webPort}/api/catalog`, { headers: { 'x-istio-cohort': 'internal' } });
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(357);
    expect(px.records[0]!.target).toBe('http://catalog.istioinaction:80/items');
    expect(px.records[0]!.headers['x-istio-cohort']).toBe('internal');
    await cat.waitFor(/^GET catalog\.istioinaction:80 \/items 200 502 - \d+\.\d{3} ms$/);
    web.child.kill('SIGTERM');
    expect((await web.exited).code).toBe(0);
  });

  it('forum (LOCAL_USERS) and the external stand-in start from their environment', async () => {
    const forum = start('forum', { LOCAL_USERS: 'true' });
    const forumPort = Number((await forum.waitFor(/^Server is listening in port:(\d+)$/))[1]);
    const users = await request(`http://127.0.0.1:${forumPort}/api/users`);
    expect(JSON.parse(users.text)[0].id).toBe(10);

    const ext = start('external', {});
    const extPort = Number((await ext.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)$/))[1]);
    const r = await request(`http://127.0.0.1:${extPort}/users`);
    expect(r.body.length).toBe(5645);
    forum.child.stdin.end();
    ext.child.stdin.end();
    expect((await forum.exited).code).toBe(0);
    expect((await ext.exited).code).toBe(0);
  });

  it('a bad PORT makes the process exit 1', async () => {
    const cat = start('catalog', { PORT: 'eighty' });
    expect((await cat.exited).code).toBe(1);
    expect(cat.lines.join('\n')).toMatch(/cannot start: invalid port: eighty/);
  });
});
