/**
 * Locked down: the control plane API answers only requests with the lab's token (`$LAB_HOME/token`,
 * mode 0600, which `lab` sends), each proxy's admin endpoint listens on its pod's own address, and
 * a store.json that does not load stops `lab up` with a message naming it, and is kept byte for byte.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest, ROOT, TestLab, waitFor, type HttpReply } from '../helpers/lab.js';

const lab = new TestLab();

function api(): { host: string; port: number } {
  const u = new URL(lab.labInfo().api);
  return { host: u.hostname, port: Number(u.port) };
}

function token(): string {
  return readFileSync(join(lab.home, 'token'), 'utf8').trim();
}

/** A request to the control plane API with the given Authorization header (none if undefined). */
function callApi(method: string, path: string, authorization?: string, body?: unknown): Promise<HttpReply> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== undefined) headers.authorization = authorization;
  return httpRequest({ ...api(), method, path, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** Everything the API can change, read with the token: the objects (Pods aside) and the mesh config. */
async function state(): Promise<string> {
  const auth = `Bearer ${token()}`;
  const objects = JSON.parse((await callApi('GET', '/objects?namespace=*', auth)).body) as { items: Array<{ kind: string; metadata: { namespace?: string; name: string; resourceVersion?: string } }> };
  const mesh = (await callApi('GET', '/meshconfig', auth)).body;
  const keys = objects.items.filter((o) => o.kind !== 'Pod').map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}@${o.metadata.resourceVersion}`);
  return JSON.stringify({ keys: keys.sort(), mesh });
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

const newVs = {
  apiVersion: 'networking.istio.io/v1beta1',
  kind: 'VirtualService',
  metadata: { name: 'intruder' },
  spec: { hosts: ['catalog'], http: [{ route: [{ destination: { host: 'catalog' } }] }] },
};

/** Waits until neither the API's state nor store.json changed for a moment (statuses settle after an apply). */
async function settled(): Promise<void> {
  let last = '';
  await waitFor(async () => {
    await new Promise((r) => setTimeout(r, 150));
    const now = `${await state()} ${sha(join(lab.home, 'store.json'))}`;
    const same = now === last;
    last = now;
    return same ? true : undefined;
  }, 'the lab state to settle');
}

beforeAll(async () => {
  await lab.up();
  await lab.ok('apply', '-f', 'services/catalog/kubernetes/catalog.yaml', '-f', 'ch5/catalog-gateway.yaml', '-f', 'ch5/catalog-vs.yaml');
});
afterAll(async () => {
  await lab.down();
  lab.destroy();
});

describe('the control plane API needs the lab token', () => {
  it('the token is 32 random bytes in hex, in $LAB_HOME/token with mode 0600', () => {
    expect(token()).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(lab.home, 'token')).mode & 0o777).toBe(0o600);
  });

  const wrongs: Array<[string, string | undefined]> = [
    ['no Authorization header', undefined],
    ['a wrong token', `Bearer ${'0'.repeat(64)}`],
    ['a token one character short', 'TRUNCATED'],
    ['the token with another scheme', 'BASIC'],
    ['an empty bearer', 'Bearer '],
  ];
  const auth = (w: string | undefined): string | undefined => (w === 'TRUNCATED' ? `Bearer ${token().slice(0, -1)}` : w === 'BASIC' ? `Basic ${token()}` : w);

  it.each(wrongs)('with %s: 401 on every route that changes something, and nothing changes', async (_what, wrong) => {
    await settled();
    const before = await state();
    const storeBefore = sha(join(lab.home, 'store.json'));
    const requests: Array<[string, string, unknown]> = [
      ['POST', '/apply', { documents: [{ object: newVs, source: { file: 'x.yaml', index: 0 } }], namespace: 'istioinaction' }],
      ['POST', '/delete', { items: [{ kind: 'VirtualService', namespace: 'istioinaction', name: 'catalog-vs-from-gw' }] }],
      ['POST', '/delete', { all: { kinds: ['Deployment', 'Service', 'Gateway', 'VirtualService'], namespace: 'istioinaction' } }],
      ['POST', '/meshconfig', { set: ['meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY'] }],
      ['POST', '/shutdown', {}],
      ['GET', '/objects?namespace=*', undefined],
      ['GET', '/proxies', undefined],
      ['GET', '/nope', undefined],
    ];
    for (const [method, path, body] of requests) {
      const r = await callApi(method, path, auth(wrong), body);
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer realm="lab"');
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'LAB_ERR_UNAUTHORIZED' } });
      expect(r.body).not.toContain(token());
    }
    expect(await state()).toBe(before);
    expect(sha(join(lab.home, 'store.json'))).toBe(storeBefore);
    // Still up (the refused /shutdown did nothing) and still serving.
    expect((await lab.cli('status')).code).toBe(0);
    expect((await lab.ingress('/items', { host: 'catalog.istioinaction.io' })).status).toBe(200);
  });

  it('/healthz answers without it; with the token the same requests work', async () => {
    expect((await callApi('GET', '/healthz')).status).toBe(200);
    const good = `Bearer ${token()}`;
    const applied = await callApi('POST', '/apply', good, { documents: [{ object: newVs, source: { file: 'x.yaml', index: 0 } }], namespace: 'istioinaction' });
    expect(applied.status, applied.body).toBe(200);
    expect(await lab.ok('get', 'vs')).toContain('intruder');
    // The scheme is case-insensitive, as RFC 7235 has it.
    const deleted = await callApi('POST', '/delete', `bearer ${token()}`, { items: [{ kind: 'VirtualService', namespace: 'istioinaction', name: 'intruder' }] });
    expect(deleted.status, deleted.body).toBe(200);
    expect(await lab.ok('get', 'vs')).not.toContain('intruder');
    const mesh = await callApi('POST', '/meshconfig', good, { set: ['meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY'] });
    expect(JSON.parse(mesh.body)).toMatchObject({ mesh: { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } } });
    await lab.ok('install', '--set', 'meshConfig.outboundTrafficPolicy.mode=ALLOW_ANY');
    expect(await lab.ok('get', 'meshconfig', '-o', 'yaml')).toContain('ALLOW_ANY');
  });

  it('the CLI sends it (get, get -w, status, curl, logs); without a readable token it says which file', async () => {
    expect(await lab.ok('get', 'deploy')).toMatch(/catalog\s+1\/1/);
    expect(await lab.ok('status')).toContain('istio-ingressgateway');
    expect(JSON.parse(await lab.ok('curl', 'http://catalog.istioinaction/items'))).toHaveLength(4);
    expect((await lab.cli('logs', 'deploy/catalog', '-c', 'istio-proxy')).code).toBe(0);
    // The watch stream (`get -w`) too: its first rows come, then it is stopped.
    const watch = execa(process.execPath, [join(ROOT, 'bin', 'lab.js'), 'get', 'deploy', '-w'], { env: lab.env, reject: false });
    let seen = '';
    watch.stdout!.on('data', (d: Buffer) => (seen += d.toString()));
    await waitFor(async () => (/catalog\s+1\/1/.test(seen) ? true : undefined), 'lab get deploy -w to list catalog');
    watch.kill();
    await watch;
    const saved = readFileSync(join(lab.home, 'token'));
    try {
      writeFileSync(join(lab.home, 'token'), 'garbage\n');
      const r = await lab.cli('get', 'deploy');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`the lab's API token ${join(lab.home, 'token')} is missing or invalid`);
    } finally {
      writeFileSync(join(lab.home, 'token'), saved, { mode: 0o600 });
    }
    expect((await lab.cli('get', 'deploy')).code).toBe(0);
  });
});

describe.runIf(process.platform === 'linux')('proxy admin endpoints (loopback-ips mode)', () => {
  interface Pod {
    metadata: { name: string; namespace: string };
    status: { podIP: string; adminUrl: string };
  }

  it("listen on the pod's own address (127.B.1.x), not on every address", async () => {
    const pods = [
      ...(JSON.parse(await lab.ok('get', 'po', '-o', 'json')) as { items: Pod[] }).items,
      ...(JSON.parse(await lab.ok('get', 'po', '-n', 'istio-system', '-o', 'json')) as { items: Pod[] }).items,
    ];
    expect(pods.length).toBeGreaterThanOrEqual(2);
    const block = Number(new URL(lab.labInfo().api).hostname.split('.')[1]);
    for (const pod of pods) {
      const admin = new URL(pod.status.adminUrl);
      expect(pod.status.podIP).toMatch(new RegExp(`^127\\.${block}\\.1\\.\\d+$`));
      expect(admin.hostname).toBe(pod.status.podIP);
      const port = Number(admin.port);
      const own = await httpRequest({ host: admin.hostname, port, path: '/version' });
      expect(own.status, `${pod.metadata.name} admin on ${admin.host}`).toBe(200);
      // An address of the lab's block no pod has: a wildcard listener would answer there.
      const unused = await httpRequest({ host: `127.${block}.0.200`, port, path: '/version' });
      expect(unused.error).toBe('ECONNREFUSED');
      // 127.0.0.1: refused, unless something outside the lab has the port; never this proxy.
      const local = await httpRequest({ host: '127.0.0.1', port, path: '/version' });
      if (!local.error) expect(local.body).not.toBe(own.body);
      else expect(local.error).toBe('ECONNREFUSED');
    }
  });
});

describe('a store that does not load', () => {
  it('makes lab up fail, naming the file and how to recover, and keeps it byte for byte', async () => {
    const other = new TestLab();
    try {
      const file = join(other.home, 'store.json');
      const whole = JSON.stringify({ objects: [JSON.parse(JSON.stringify(newVs))] }, null, 1);
      const truncated = whole.slice(0, Math.floor(whole.length / 2));
      writeFileSync(file, truncated);
      const r = await other.cli('up', '--ingress-port', '1');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`the store ${file} cannot be loaded`);
      expect(r.stderr).toContain(`mv ${file} ${file}.bad`);
      expect(readFileSync(file, 'utf8')).toBe(truncated);
      expect(existsSync(join(other.home, 'lab.json'))).toBe(false);

      // The control plane itself (as compose.yaml starts it, without lab up) refuses too, says so in
      // its log and leaves the file alone.
      const cp = spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'controlplane', 'main.js')], {
        env: { ...other.env, LAB_CP_OPTIONS: JSON.stringify({ ingressPort: 1, runtime: 'local' }) },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(cp.status).toBe(1);
      expect(cp.stdout).toContain(`fatal: the store ${file} cannot be loaded`);
      expect(readFileSync(file, 'utf8')).toBe(truncated);
      expect(existsSync(join(other.home, 'lab.json'))).toBe(false);

      // Objects that are not objects: the same.
      const invalid = JSON.stringify({ objects: [{ apiVersion: 'v1', metadata: { name: 'x' } }] });
      writeFileSync(file, invalid);
      const r2 = await other.cli('up', '--ingress-port', '1');
      expect(r2.code).toBe(1);
      expect(r2.stderr).toContain('objects[0] has no kind');
      expect(readFileSync(file, 'utf8')).toBe(invalid);
    } finally {
      await other.down();
      other.destroy();
    }
  });

  it('an interrupted write (a temp file left beside it) does not corrupt the store', async () => {
    const other = new TestLab();
    try {
      await other.up();
      await other.ok('apply', '-f', 'ch5/catalog-gateway.yaml', '-f', 'ch5/catalog-vs.yaml');
      await other.ok('down');
      const file = join(other.home, 'store.json');
      const before = readFileSync(file, 'utf8');
      // What a writer killed between writing and renaming leaves: a partial temp file.
      writeFileSync(`${file}.99999.0badf00d.tmp`, before.slice(0, 50));
      writeFileSync(`${file}.tmp`, '{"objects": [');
      expect(readFileSync(file, 'utf8')).toBe(before);
      await other.up();
      expect(await other.ok('get', 'vs')).toContain('catalog-vs-from-gw');
      expect(readdirSync(other.home).filter((n) => n.startsWith('store.json.'))).toEqual([]);
      expect(() => JSON.parse(readFileSync(file, 'utf8')) as unknown).not.toThrow();
    } finally {
      await other.down();
      other.destroy();
    }
  });
});
