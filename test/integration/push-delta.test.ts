/**
 * Pushes from the control plane to a real proxy over its admin endpoint: the whole table first,
 * then only the sections that changed (like an RDS-only xDS update), and the whole table again
 * when the proxy no longer serves what a delta was built against.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSnapshot, type ProxyNode, type Snapshot } from '../../src/compiler/snapshot.js';
import { deltaJson, PushController } from '../../src/controlplane/push.js';
import { PushCompiler } from '../../src/compiler/compile.js';
import type { KubeObject } from '../../src/model/objects.js';
import { DEFAULT_MESH_CONFIG } from '../../src/model/specs.js';
import type { ProxyTable, ProxyTableDelta } from '../../src/model/table.js';
import { Proxy } from '../../src/proxy/proxy.js';
import { freePort } from '../../src/runtime/addresses.js';
import { objects, pod } from '../helpers/sim.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const SERVICE = `
apiVersion: v1
kind: Service
metadata: { name: catalog }
spec: { selector: { app: catalog }, ports: [{ name: http, port: 80, targetPort: 3000 }] }
`;

function virtualService(cohort: string): string {
  return `
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: catalog }
spec:
  hosts: [catalog]
  http:
  - name: ${cohort}
    match: [{ headers: { x-cohort: { exact: ${cohort} } } }]
    route: [{ destination: { host: catalog } }]
  - name: default
    route: [{ destination: { host: catalog } }]
`;
}

async function sidecarNode(): Promise<ProxyNode> {
  return {
    role: 'sidecar',
    pod: 'webapp-abc',
    namespace: 'istioinaction',
    ip: '127.0.0.1',
    labels: { app: 'webapp' },
    workload: 'webapp',
    inbound: [{ port: 8080, bindAddress: '127.0.0.1', bindPort: await freePort(), appAddress: '127.0.0.1', appPort: 8080 }],
    outbound: { bindAddress: '127.0.0.1', bindPort: await freePort() },
  };
}

/** A proxy whose applied pushes are recorded as 'full' or the list of sections in a delta. */
async function startProxy(adminPort = 0): Promise<{ proxy: Proxy; pushes: string[] }> {
  const proxy = new Proxy({ adminHost: '127.0.0.1', adminPort, write: () => undefined });
  const pushes: string[] = [];
  const apply = proxy.apply.bind(proxy);
  proxy.apply = (p: ProxyTable | ProxyTableDelta) => {
    pushes.push('base' in p ? Object.keys(p).filter((k) => k !== 'version' && k !== 'base').join(',') : 'full');
    return apply(p);
  };
  await proxy.start();
  return { proxy, pushes };
}

function snapshotOf(objs: KubeObject[]): Snapshot {
  return createSnapshot(objs, DEFAULT_MESH_CONFIG, { hosts: {}, gatewayPorts: () => undefined });
}

async function setup() {
  let objs = [...objects(SERVICE), ...objects(virtualService('v1')), pod('catalog-1', { app: 'catalog' }, '127.0.0.11')];
  const push = new PushController(() => snapshotOf(objs), () => undefined);
  const { proxy, pushes } = await startProxy();
  cleanups.push(() => proxy.stop());
  const node = await sidecarNode();
  const handle = { key: 'istioinaction/webapp-abc', node, adminUrl: `http://127.0.0.1:${proxy.adminPort}` };
  push.register(handle);
  await push.converged();
  const change = async (next: KubeObject[]) => {
    objs = next;
    push.trigger();
    await push.converged();
  };
  return { push, proxy, pushes, handle, node, change, objs: () => objs };
}

describe('delta pushes', () => {
  it('sends the whole table first, then only the changed sections; the proxy serves what the control plane compiled', async () => {
    const { push, proxy, pushes, handle, change } = await setup();
    expect(pushes).toEqual(['full']);
    await change([...objects(SERVICE), ...objects(virtualService('v2')), pod('catalog-1', { app: 'catalog' }, '127.0.0.11')]);
    expect(pushes).toEqual(['full', 'routeConfigs']);
    const want = push.tableFor(handle.key)!;
    expect(handle.version).toBe(want.version);
    expect(proxy.state.current?.version).toBe(want.version);
    expect(JSON.parse(JSON.stringify(proxy.state.current?.table))).toEqual(JSON.parse(JSON.stringify(want)));
  });

  it('keeps unchanged clusters (and their balancers) across a routes-only delta, and rebuilds them when endpoints change', async () => {
    const { proxy, pushes, change } = await setup();
    const name = 'outbound|80||catalog.istioinaction.svc.cluster.local';
    const before = proxy.state.current!.clusters.get(name);
    expect(before?.cluster.endpoints.map((e) => e.address)).toEqual(['127.0.0.11']);
    await change([...objects(SERVICE), ...objects(virtualService('v2')), pod('catalog-1', { app: 'catalog' }, '127.0.0.11')]);
    expect(proxy.state.current!.clusters.get(name)).toBe(before);
    await change([...objects(SERVICE), ...objects(virtualService('v2')), pod('catalog-1', { app: 'catalog' }, '127.0.0.11'), pod('catalog-2', { app: 'catalog' }, '127.0.0.12')]);
    expect(pushes.at(-1)).toBe('clusters');
    const after = proxy.state.current!.clusters.get(name);
    expect(after).not.toBe(before);
    expect(after?.cluster.endpoints.map((e) => e.address).sort()).toEqual(['127.0.0.11', '127.0.0.12']);
  });

  it('a proxy that restarted answers a delta with 409 and is sent the whole table', async () => {
    const { proxy, handle, change, objs } = await setup();
    const port = proxy.adminPort!;
    await proxy.stop();
    const restarted = await startProxy(port);
    cleanups.push(() => restarted.proxy.stop());
    await change([...objs().filter((o) => o.kind !== 'VirtualService'), ...objects(virtualService('v3'))]);
    // The delta reached the new process and was refused; the whole table followed.
    expect(restarted.pushes).toEqual(['routeConfigs', 'full']);
    expect(restarted.proxy.state.current?.version).toBe(handle.version);
  });
});

describe('a proxy that cannot read a delta', () => {
  it('is sent the whole table after a 400, and a 422 is not retried', async () => {
    // A stand-in admin endpoint: whole tables are served, deltas answered with `deltaStatus`.
    let deltaStatus = 400;
    let serving = '';
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const push = JSON.parse(text) as { version: string; base?: string };
        bodies.push(push.base === undefined ? 'full' : 'delta');
        const status = push.base === undefined ? 200 : deltaStatus;
        if (status === 200) serving = push.version;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status === 200 ? { version: serving, errors: [] } : { version: serving, error: 'no', errors: ['no'] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }));
    let objs = [...objects(SERVICE), ...objects(virtualService('v1'))];
    const push = new PushController(() => snapshotOf(objs), () => undefined);
    const handle = { key: 'istioinaction/webapp-abc', node: await sidecarNode(), adminUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    push.register(handle);
    await push.converged();
    objs = [...objects(SERVICE), ...objects(virtualService('v2'))];
    push.trigger();
    await push.converged();
    expect(bodies).toEqual(['full', 'delta', 'full']);
    expect(handle.version).toBe(push.tableFor(handle.key)!.version);

    deltaStatus = 422;
    objs = [...objects(SERVICE), ...objects(virtualService('v3'))];
    push.trigger();
    await push.converged();
    expect(bodies.slice(3)).toEqual(['delta']);
    expect(handle.version).toBe(serving);
  });
});

describe('the admin endpoint', () => {
  async function post(port: number, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`http://127.0.0.1:${port}/config`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  it('refuses bad bodies and stale deltas with a status that says why, and keeps serving the last table', async () => {
    const { proxy } = await startProxy();
    cleanups.push(() => proxy.stop());
    const port = proxy.adminPort!;
    const table = new PushCompiler(snapshotOf([...objects(SERVICE), ...objects(virtualService('v1'))])).compile(await sidecarNode());
    expect((await post(port, JSON.stringify(table))).status).toBe(200);

    const cases: Array<[string, string, number, RegExp]> = [
      ['not JSON', '{"version":', 400, /not JSON/],
      ['not an object', '[1,2]', 400, /not a ProxyTable/],
      ['a table without listeners', JSON.stringify({ ...table, listeners: undefined }), 400, /listeners must be a list/],
      ['a table whose clusters is a list', JSON.stringify({ ...table, clusters: [] }), 400, /clusters must be an object/],
      ['a delta whose base is not a string', JSON.stringify({ version: 'x', base: 7 }), 400, /base must be a string/],
      ['a delta with a bad section', JSON.stringify({ version: 'x', base: table.version, listeners: {} }), 400, /listeners must be a list/],
      ['a delta against another table', JSON.stringify({ version: 'x', base: 'not-served', routeConfigs: {} }), 409, /serving/],
    ];
    for (const [what, body, status, message] of cases) {
      const r = await post(port, body);
      expect(r.status, what).toBe(status);
      expect(String(r.json.error ?? (r.json.errors as string[] | undefined)?.join(';')), what).toMatch(message);
      expect(proxy.state.current?.version, what).toBe(table.version);
    }
    const unknown = await fetch(`http://127.0.0.1:${port}/nope`);
    expect(unknown.status).toBe(404);
    expect(await (await fetch(`http://127.0.0.1:${port}/version`)).json()).toEqual({ version: table.version });
  });

  it('a delta that breaks a route config is rejected with 422 and the previous table stays', async () => {
    const { proxy } = await startProxy();
    cleanups.push(() => proxy.stop());
    const table = new PushCompiler(snapshotOf([...objects(SERVICE), ...objects(virtualService('v1'))])).compile(await sidecarNode());
    await proxy.apply(table);
    const bad = { version: 'bad', base: table.version, routeConfigs: { '80': { name: '80', virtualHosts: [{ name: 'x', domains: ['x'], routes: [{ name: 'r', action: { kind: 'teleport' } }] }] } } };
    const r = await post(proxy.adminPort!, JSON.stringify(bad));
    expect(r.status).toBe(422);
    expect(String((r.json.errors as string[])[0])).toMatch(/unknown action kind/);
    expect(proxy.state.current?.version).toBe(table.version);
  });
});

describe('deltaJson', () => {
  it('names the base version and carries exactly the sections whose hash differs', () => {
    const sections = { node: '{"n":1}', hosts: '{"h":1}', telemetry: '{"a":true}', listeners: '[]', routeConfigs: '{"r":2}', clusters: '{"c":1}' };
    const hashes = { node: 'n', hosts: 'h', telemetry: 't', listeners: 'l', routeConfigs: 'r', clusters: 'c' };
    const t = { table: { version: 'v2' } as ProxyTable, json: '', sections, hashes: { ...hashes, routeConfigs: 'r2', hosts: 'h2' } };
    const d = JSON.parse(deltaJson(t, { version: 'v1', hashes })) as Record<string, unknown>;
    expect(d).toEqual({ version: 'v2', base: 'v1', hosts: { h: 1 }, routeConfigs: { r: 2 } });
  });
});
