/**
 * Egress end to end: ALLOW_ANY, REGISTRY_ONLY and REGISTRY_ONLY + ServiceEntry through forum's
 * sidecar, a Sidecar resource overriding the mesh default, and raw-socket attempts to bypass
 * REGISTRY_ONLY that must never reach the external stand-in.
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestLab, waitFor } from '../helpers/lab.js';

const lab = new TestLab();
const webapp = { host: 'webapp.istioinaction.io' };
let forumProxy: { host: string; port: number };

function standInRequests(): number {
  const f = join(lab.home, 'logs', 'external', 'jsonplaceholder.log');
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter((l) => l.includes(' /users')).length : 0;
}

/** Sends raw bytes to forum's outbound listener; returns the status line. */
function raw(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(forumProxy, () => s.write(text));
    let data = '';
    s.on('data', (c) => {
      data += c.toString();
      if (data.includes('\r\n\r\n')) s.destroy();
    });
    s.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
    s.on('error', reject);
  });
}

beforeAll(async () => {
  await lab.up();
  await lab.ok('apply', '-f', 'services/webapp/kubernetes/webapp.yaml', '-f', 'services/forum/kubernetes/forum-all.yaml', '-f', 'services/webapp/istio/webapp-catalog-gw-vs.yaml');
  const pods = JSON.parse(await lab.ok('get', 'po', '-l', 'app=forum', '-o', 'json')) as { items: Array<{ status: { outboundProxy: string } }> };
  const u = new URL(pods.items[0]!.status.outboundProxy);
  forumProxy = { host: u.hostname, port: Number(u.port) };
});
afterAll(async () => {
  await lab.down();
  lab.destroy();
});

describe('outbound traffic policy', () => {
  it('ALLOW_ANY (default): the external call passes through PassthroughCluster / allow_any', async () => {
    expect(await lab.ok('get', 'meshconfig')).toContain('mode: ALLOW_ANY');
    const r = await lab.ingress('/api/users', { ...webapp, 'x-request-id': 'allow-1' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toHaveLength(10);
    const lines = await lab.logFor('forum', 'allow-1', 'istioinaction', 2);
    expect(lines.find((l) => l.path === '/users')).toMatchObject({ upstreamCluster: 'PassthroughCluster', routeName: 'allow_any', authority: 'jsonplaceholder.typicode.com' });
  });

  it('REGISTRY_ONLY: blocked at forum\'s sidecar with 502 direct_response block_all; the edge sees 500', async () => {
    const before = standInRequests();
    await lab.ok('install', '--set', 'meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY');
    const r = await lab.ingress('/api/users', { ...webapp, 'x-request-id': 'block-1' });
    expect(r.status).toBe(500);
    expect(r.body).toBe('error calling Forum service');
    const lines = await lab.logFor('forum', 'block-1', 'istioinaction', 2);
    expect(lines.find((l) => l.path === '/users')).toMatchObject({ responseCode: '502', responseFlags: '-', responseCodeDetails: 'direct_response', upstreamHost: '-', upstreamCluster: '-', routeName: 'block_all' });
    expect(standInRequests()).toBe(before);
  });

  it.each([
    ['absolute-form URI, Host names a registered service', 'GET http://jsonplaceholder.typicode.com/users HTTP/1.1\r\nHost: webapp.istioinaction\r\n\r\n'],
    ['IP literal of the stand-in', 'GET http://{standin}/users HTTP/1.1\r\nHost: {standin}\r\n\r\n'],
    ['trailing dot', 'GET http://jsonplaceholder.typicode.com./users HTTP/1.1\r\nHost: jsonplaceholder.typicode.com.\r\n\r\n'],
    ['mixed case', 'GET http://JsonPlaceholder.TYPICODE.com/users HTTP/1.1\r\nHost: JsonPlaceholder.TYPICODE.com\r\n\r\n'],
    ['explicit :80', 'GET http://jsonplaceholder.typicode.com:80/users HTTP/1.1\r\nHost: jsonplaceholder.typicode.com:80\r\n\r\n'],
    ['CONNECT tunnel', 'CONNECT jsonplaceholder.typicode.com:80 HTTP/1.1\r\nHost: jsonplaceholder.typicode.com:80\r\n\r\n'],
    ['CONNECT to the stand-in IP', 'CONNECT {standin} HTTP/1.1\r\nHost: {standin}\r\n\r\n'],
    ['HTTP/1.0 without Host', 'GET /users HTTP/1.0\r\n\r\n'],
    ['duplicate Host headers', 'GET /users HTTP/1.1\r\nHost: webapp.istioinaction\r\nHost: jsonplaceholder.typicode.com\r\n\r\n'],
  ])('REGISTRY_ONLY, no bypass: %s', async (_name, template) => {
    const standin = JSON.parse(readFileSync(join(lab.home, 'lab.json'), 'utf8')) as { block: number; addressMode: string };
    // The stand-in's address, as a client that knew it would try.
    const addr = standin.addressMode === 'loopback-ips' ? `127.${standin.block}.0.3:8080` : 'jsonplaceholder.typicode.com';
    const before = standInRequests();
    const status = await raw(template.replaceAll('{standin}', addr));
    expect(status).toMatch(/^HTTP\/1\.[01] (400|404|502)/);
    expect(standInRequests()).toBe(before);
  });

  it('REGISTRY_ONLY + ServiceEntry: allowed again through outbound|80||jsonplaceholder.typicode.com', async () => {
    await lab.ok('apply', '-f', 'ch5/forum-serviceentry.yaml');
    const r = await lab.ingress('/api/users', { ...webapp, 'x-request-id': 'se-1' });
    expect(r.status).toBe(200);
    const lines = await lab.logFor('forum', 'se-1', 'istioinaction', 2);
    expect(lines.find((l) => l.path === '/users')).toMatchObject({ upstreamCluster: 'outbound|80||jsonplaceholder.typicode.com', routeName: 'default' });
    // A CONNECT to the registered host on its port is now allowed.
    expect(await raw('CONNECT jsonplaceholder.typicode.com:80 HTTP/1.1\r\nHost: jsonplaceholder.typicode.com:80\r\n\r\n')).toMatch(/^HTTP\/1\.1 200/);
    await lab.ok('delete', 'se', 'jsonplaceholder');
  });

  it('a Sidecar resource overrides the mesh policy for the workloads it selects, without restarts', async () => {
    const pod = (await lab.ok('get', 'po', '-l', 'app=forum', '-o', 'name')).trim();
    await lab.ok('install', '--set', 'meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY');
    const sidecar = join(lab.home, 'sidecar.yaml');
    (await import('node:fs')).writeFileSync(
      sidecar,
      'apiVersion: networking.istio.io/v1beta1\nkind: Sidecar\nmetadata: { name: forum-egress }\nspec:\n  workloadSelector: { labels: { app: forum } }\n  outboundTrafficPolicy: { mode: ALLOW_ANY }\n',
    );
    await lab.ok('apply', '-f', sidecar);
    const r = await lab.ingress('/api/users', webapp);
    expect(r.status).toBe(200);
    expect((await lab.ok('get', 'po', '-l', 'app=forum', '-o', 'name')).trim()).toBe(pod);
    await lab.ok('delete', 'sidecar', 'forum-egress');
    await waitFor(async () => ((await lab.ingress('/api/users', webapp)).status === 500 ? true : undefined), 'the mesh default to apply again');
  });
});
