/**
 * The CLI contract other tools rely on: kubectl-like get/delete/logs output and `lab curl` from
 * outside and inside the mesh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TestLab } from '../helpers/lab.js';

const lab = new TestLab();

beforeAll(async () => {
  await lab.up();
  await lab.ok('apply', '-f', 'services/catalog/kubernetes/catalog.yaml', '-f', 'services/webapp/kubernetes/webapp.yaml', '-f', 'ch5/catalog-dest-rule.yaml', '-f', 'ch5/catalog-vs-v1-mesh.yaml');
});
afterAll(async () => {
  await lab.down();
  lab.destroy();
});

describe('lab get', () => {
  it('tables with kubectl columns, short names, label selectors and --show-labels', async () => {
    const deploy = await lab.ok('get', 'deploy');
    expect(deploy.split('\n')[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    expect(deploy).toMatch(/catalog\s+1\/1\s+1\s+1\s+/);
    const pods = await lab.ok('get', 'po', '-l', 'app=catalog', '--show-labels');
    expect(pods).toMatch(/catalog-[0-9a-f]{10}-[0-9a-f]{5}\s+2\/2\s+Running\s+0\s+\S+\s+app=catalog,version=v1,pod-template-hash=/);
    expect(await lab.ok('get', 'po', '-l', 'app=nothing')).toBe('');
  });

  it('-o yaml gives the object back as applied; a missing name is NotFound', async () => {
    const vs = parse(await lab.ok('get', 'vs', 'catalog', '-o', 'yaml')) as { kind: string; spec: { hosts: string[]; gateways: string[] } };
    expect(vs.kind).toBe('VirtualService');
    expect(vs.spec).toMatchObject({ hosts: ['catalog'], gateways: ['mesh'] });
    const missing = await lab.cli('get', 'vs', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('"nope" not found');
  });

  it('-A lists every namespace (the gateway lives in istio-system)', async () => {
    expect(await lab.ok('get', 'deploy', '-A')).toContain('istio-ingressgateway');
    expect(await lab.ok('get', 'deploy')).not.toContain('istio-ingressgateway');
  });
});

describe('lab curl', () => {
  it('without --from: a client outside the mesh reaches a catalog pod directly', async () => {
    const out = await lab.ok('curl', 'http://catalog.istioinaction/items');
    expect(JSON.parse(out)).toHaveLength(4);
  });

  it('--from webapp: through webapp\'s sidecar, so its VirtualService applies and its log shows the call', async () => {
    const out = await lab.ok('curl', '--from', 'webapp', '-i', '-H', 'x-request-id: cli-1', 'http://catalog.istioinaction/items');
    expect(out).toMatch(/^HTTP\/1\.1 200/);
    const [line] = await lab.logFor('webapp', 'cli-1');
    expect(line).toMatchObject({ upstreamCluster: 'outbound|80|version-v1|catalog.istioinaction.svc.cluster.local', userAgent: 'curl/lab', authority: 'catalog.istioinaction' });
  });

  it('-w prints the status; an unknown host is an error', async () => {
    expect(await lab.ok('curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://catalog.istioinaction/items/9')).toBe('404');
    const r = await lab.cli('curl', 'http://nothing.istioinaction/');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('nothing.istioinaction');
  });
});

describe('lab logs and delete', () => {
  it('logs: the app container by default, -c istio-proxy, --tail, and a clear error for a wrong container', async () => {
    expect(await lab.ok('logs', 'deploy/catalog')).toContain('JSON Server is running');
    const tail = await lab.ok('logs', 'deploy/catalog', '-c', 'istio-proxy', '--tail', '1');
    expect(tail.trim().split('\n')).toHaveLength(1);
    const bad = await lab.cli('logs', 'deploy/catalog', '-c', 'nginx');
    expect(bad.stderr).toContain('choose one of: [catalog istio-proxy]');
  });

  it('delete by kind and name, by file, and --ignore-not-found', async () => {
    expect(await lab.ok('delete', 'vs', 'catalog')).toContain('virtualservice.networking.istio.io "catalog" deleted');
    const again = await lab.cli('delete', 'vs', 'catalog');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('not found');
    expect((await lab.cli('delete', 'vs', 'catalog', '--ignore-not-found')).code).toBe(0);
    expect(await lab.ok('delete', '-f', 'ch5/catalog-dest-rule.yaml')).toContain('destinationrule.networking.istio.io "catalog" deleted');
  });

  it('deleting a pod makes its Deployment replace it', async () => {
    const before = (await lab.ok('get', 'po', '-l', 'app=catalog', '-o', 'name')).trim();
    await lab.ok('delete', 'po', before.split('/')[1]!);
    const after = (await lab.ok('get', 'po', '-l', 'app=catalog', '-o', 'name')).trim();
    expect(after).not.toBe(before);
    expect(after).toMatch(/^pod\/catalog-/);
    expect(JSON.parse(await lab.ok('curl', 'http://catalog.istioinaction/items'))).toHaveLength(4);
  });
});
