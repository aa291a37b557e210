import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bypassesProxy, HttpClient, noProxyFromEnv, parseHttpUrl, parseProxy, proxyFromEnv } from '../../../services/shared/src/http-client.js';
import { closedPort, startForwardProxy, type TestProxy } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('parseHttpUrl', () => {
  it('keeps an explicit default port in the authority', () => {
    const u = parseHttpUrl('http://catalog.istioinaction:80/items');
    expect(u).toEqual({
      authority: 'catalog.istioinaction:80',
      hostname: 'catalog.istioinaction',
      port: 80,
      explicitPort: true,
      path: '/items',
      href: 'http://catalog.istioinaction:80/items',
    });
  });
  it('handles no port, no path, queries and IPv6', () => {
    expect(parseHttpUrl('http://jsonplaceholder.typicode.com/users')).toMatchObject({ authority: 'jsonplaceholder.typicode.com', port: 80, explicitPort: false });
    expect(parseHttpUrl('http://h:81')).toMatchObject({ path: '/', href: 'http://h:81/' });
    expect(parseHttpUrl('http://h?x=1')).toMatchObject({ path: '/?x=1' });
    expect(parseHttpUrl('http://[::1]:3000/items')).toMatchObject({ hostname: '::1', port: 3000, authority: '[::1]:3000' });
    expect(() => parseHttpUrl('https://h/')).toThrow();
    expect(() => parseHttpUrl('http://h:99999/')).toThrow();
  });
});

describe('proxy settings', () => {
  it('reads HTTP_PROXY before http_proxy, and parses with or without scheme', () => {
    expect(proxyFromEnv({ HTTP_PROXY: 'http://127.0.0.1:15001', http_proxy: 'http://x:1' })).toBe('http://127.0.0.1:15001');
    expect(proxyFromEnv({ http_proxy: 'http://x:1' })).toBe('http://x:1');
    expect(proxyFromEnv({ HTTP_PROXY: '' })).toBeUndefined();
    expect(noProxyFromEnv({ no_proxy: 'a,b' })).toBe('a,b');
    expect(parseProxy('127.0.0.1:15001')).toEqual({ host: '127.0.0.1', port: 15001 });
    expect(parseProxy('http://proxy')).toEqual({ host: 'proxy', port: 80 });
    expect(parseProxy('')).toBeUndefined();
    expect(() => parseProxy('socks5://x:1')).toThrow();
  });
  it('NO_PROXY matches hosts, subdomains, ports and *', () => {
    expect(bypassesProxy('catalog.istioinaction', 80, 'istioinaction')).toBe(true);
    expect(bypassesProxy('catalog.istioinaction', 80, '.istioinaction')).toBe(true);
    expect(bypassesProxy('catalog.istioinaction', 80, 'other,catalog.istioinaction:81')).toBe(false);
    expect(bypassesProxy('catalog.istioinaction', 81, 'catalog.istioinaction:81')).toBe(true);
    expect(bypassesProxy('anything', 1, '*')).toBe(true);
    expect(bypassesProxy('127.0.0.1', 80, undefined)).toBe(false);
  });
});

describe('HttpClient', () => {
  async function echoServer(): Promise<{ port: number; seen: http.IncomingHttpHeaders[] }> {
    const seen: http.IncomingHttpHeaders[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers);
      const body = Buffer.from(JSON.stringify({ url: req.url }));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }));
    return { port: (server.address() as AddressInfo).port, seen };
  }

  it('connects directly without a proxy, Host as written', async () => {
    const { port, seen } = await echoServer();
    const client = new HttpClient({ userAgent: 'ua/1' });
    cleanups.push(() => client.close());
    const r = await client.get(`http://127.0.0.1:${port}/a?b=1`, { 'X-Thing': '1' });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ url: '/a?b=1' });
    expect(seen[0]!.host).toBe(`127.0.0.1:${port}`);
    expect(seen[0]!['user-agent']).toBe('ua/1');
    expect(seen[0]!['x-thing']).toBe('1');
  });

  it('goes through the proxy in absolute form unless NO_PROXY exempts the host', async () => {
    const { port } = await echoServer();
    const px: TestProxy = await startForwardProxy({ 'svc.test:80': `127.0.0.1:${port}`, [`127.0.0.1:${port}`]: `127.0.0.1:${port}` });
    cleanups.push(() => px.close());
    const client = new HttpClient({ proxy: px.url, noProxy: 'direct.test' });
    cleanups.push(() => client.close());
    const r = await client.get('http://svc.test:80/x');
    expect(r.json()).toEqual({ url: '/x' });
    expect(px.records[0]!.target).toBe('http://svc.test:80/x');
    expect(px.records[0]!.headers.host).toBe('svc.test:80');
    // Loopback targets still use the proxy (unlike Go's ProxyFromEnvironment).
    await client.get(`http://127.0.0.1:${port}/y`);
    expect(px.records[1]!.target).toBe(`http://127.0.0.1:${port}/y`);
  });

  it('rejects with a code on connection failure', async () => {
    const client = new HttpClient();
    cleanups.push(() => client.close());
    await expect(client.get(`http://127.0.0.1:${await closedPort()}/`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
