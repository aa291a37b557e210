/**
 * Connection lifetimes in the proxy's HTTP/1.1 engine: idle keep-alive connections are closed by
 * the sweeps (server: downstream, pool: upstream) and only idle ones; a closing server finishes the
 * exchange in flight; a reused upstream connection the server already dropped is retried only for
 * bodyless requests. Idle timeouts are shortened through the IdlePolicy so the test waits on
 * conditions in milliseconds, not on the production minute.
 */
import { createServer, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamPool } from '../../src/proxy/http1/client.js';
import { Http1Server, type ServerExchange } from '../../src/proxy/http1/server.js';
import { waitFor } from '../helpers/lab.js';

// Long enough that back-to-back requests on a loaded CI machine still find the connection fresh.
const SHORT = { timeoutMs: 300, sweepMs: 20 };

describe('upstream pool idle sweep', () => {
  let upstream: Server;
  let port = 0;
  const closed: Socket[] = [];
  const opened: Socket[] = [];

  beforeAll(async () => {
    upstream = createServer((_req, res) => res.end('ok'));
    upstream.on('connection', (s: Socket) => {
      opened.push(s);
      s.on('close', () => closed.push(s));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    port = (upstream.address() as AddressInfo).port;
  });
  afterAll(async () => {
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  function get(pool: UpstreamPool): Promise<string> {
    return new Promise((resolve, reject) => {
      let body = '';
      pool.request({ address: '127.0.0.1', port }, 'GET / HTTP/1.1\r\nhost: t\r\n\r\n', 'GET', true, {
        head: () => 'raw',
        data: (c) => (body += c.toString()),
        end: () => resolve(body),
        error: (kind) => reject(new Error(kind)),
      });
    });
  }

  it('reuses a connection while it is fresh and closes it once idle past the timeout', async () => {
    const pool = new UpstreamPool(SHORT);
    try {
      expect(await get(pool)).toBe('ok');
      expect(await get(pool)).toBe('ok');
      expect(opened.length).toBe(1);
      expect(pool.idleCount).toBe(1);
      await waitFor(async () => (pool.idleCount === 0 && closed.length === 1 ? true : undefined), 'the idle upstream connection to be closed');
      // The next request opens a new connection and works.
      expect(await get(pool)).toBe('ok');
      expect(opened.length).toBe(2);
    } finally {
      pool.destroy();
    }
  });
});

describe('server idle sweep', () => {
  let server: Http1Server;
  const held: ServerExchange[] = [];

  beforeAll(async () => {
    server = new Http1Server(
      {
        request: (ex) => {
          if (ex.head.target === '/hold') held.push(ex);
          else ex.respond(200, '', 'ok');
        },
        connect: (_h, socket) => socket.destroy(),
        protocolError: () => {},
      },
      SHORT,
    );
    await server.listen('127.0.0.1', 0);
  });
  afterAll(async () => {
    for (const ex of held) ex.respond(200, '', 'late');
    await server.close();
  });

  function open(): Promise<{ socket: Socket; data: () => string; closed: () => boolean }> {
    return new Promise((resolve) => {
      const socket = connect(server.port, '127.0.0.1');
      let text = '';
      let isClosed = false;
      socket.on('data', (d) => (text += d.toString('latin1')));
      socket.on('close', () => (isClosed = true));
      socket.on('error', () => {});
      socket.once('connect', () => resolve({ socket, data: () => text, closed: () => isClosed }));
    });
  }

  it('closes an idle keep-alive connection, and not one whose request is in flight', async () => {
    const idle = await open();
    const busy = await open();
    idle.socket.write('GET /x HTTP/1.1\r\nhost: t\r\n\r\n');
    busy.socket.write('GET /hold HTTP/1.1\r\nhost: t\r\n\r\n');
    await waitFor(async () => (idle.data().includes('\r\n\r\nok') ? true : undefined), 'the first response');
    await waitFor(async () => (idle.closed() ? true : undefined), 'the idle connection to be closed by the server');
    // The sweep has run past the timeout for both; the busy one is still open and then answered.
    expect(busy.closed()).toBe(false);
    expect(held.length).toBe(1);
    held.shift()!.respond(200, '', 'done');
    await waitFor(async () => (busy.data().includes('\r\n\r\ndone') ? true : undefined), 'the held response');
    busy.socket.destroy();
  });
});

describe('server close', () => {
  it('lets the request in flight finish, closes its connection after it, and resolves', async () => {
    let held: ServerExchange | undefined;
    const server = new Http1Server({
      request: (ex) => {
        held = ex;
      },
      connect: (_h, socket) => socket.destroy(),
      protocolError: () => {},
    });
    await server.listen('127.0.0.1', 0);
    const socket = connect(server.port, '127.0.0.1');
    let text = '';
    let ended = false;
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('close', () => (ended = true));
    socket.write('GET /a HTTP/1.1\r\nhost: t\r\n\r\nGET /b HTTP/1.1\r\nhost: t\r\n\r\n');
    await waitFor(async () => held ?? undefined, 'the first request');
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    expect(closed).toBe(false);
    held!.respond(200, '', 'first');
    await closing;
    await waitFor(async () => (ended ? true : undefined), 'the connection to close');
    // The answer to the request in flight arrived; the pipelined second one was not started.
    expect(text).toContain('\r\n\r\nfirst');
    expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });
});

describe('upstream pool: a reused connection the server already dropped', () => {
  // Answers the first request on each connection (keep-alive), then drops the connection when a
  // second one arrives: what a server closing an idle connection looks like to a pool that reuses it.
  let server: NetServer;
  let port = 0;
  let connections = 0;

  beforeAll(async () => {
    server = createNetServer((s) => {
      connections++;
      let served = 0;
      let buf = '';
      s.on('error', () => {});
      s.on('data', (d) => {
        buf += d.toString('latin1');
        while (buf.includes('\r\n\r\n')) {
          const end = buf.indexOf('\r\n\r\n') + 4;
          const head = buf.slice(0, end);
          const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
          if (buf.length < end + len) return;
          buf = buf.slice(end + len);
          if (served++ > 0) return void s.destroy();
          s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  function send(pool: UpstreamPool, body?: string): Promise<{ ok: string } | { error: string }> {
    const head = body === undefined ? 'GET / HTTP/1.1\r\nhost: t\r\n\r\n' : `POST / HTTP/1.1\r\nhost: t\r\ncontent-length: ${body.length}\r\n\r\n`;
    return new Promise((resolve) => {
      let text = '';
      const req = pool.request({ address: '127.0.0.1', port }, head, body === undefined ? 'GET' : 'POST', body === undefined, {
        head: () => 'raw',
        data: (c) => (text += c.toString()),
        end: () => resolve({ ok: text }),
        error: (kind) => resolve({ error: kind }),
      });
      if (body !== undefined) {
        req.write(Buffer.from(body));
        req.end();
      }
    });
  }

  it.each([
    ['a bodyless request is sent again on a fresh connection', undefined, { ok: 'ok' }, 2],
    ['a request with a body is not (it may have been processed): reset', 'data', { error: 'reset' }, 1],
  ] as const)('%s', async (_name, body, want, newConnections) => {
    const pool = new UpstreamPool();
    try {
      const before = connections;
      expect(await send(pool)).toEqual({ ok: 'ok' });
      expect(await send(pool, body)).toEqual(want);
      expect(connections - before).toBe(newConnections);
    } finally {
      pool.destroy();
    }
  });
});
