/**
 * Bad input gets a clear error naming file, document and field, and the running mesh stays as it
 * was; Istio-accepted mistakes pass with istioctl-analyze-style warnings.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestLab } from '../helpers/lab.js';

const lab = new TestLab();
const dir = mkdtempSync(join(tmpdir(), 'lab-bad-'));
const host = { host: 'catalog.istioinaction.io' };

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function stillServing(): Promise<void> {
  const r = await lab.ingress('/items', host);
  expect(r.status).toBe(200);
}

beforeAll(async () => {
  await lab.up();
  await lab.ok('apply', '-f', 'services/catalog/kubernetes/catalog.yaml', '-f', 'ch5/catalog-gateway.yaml', '-f', 'ch5/catalog-vs.yaml');
});
afterAll(async () => {
  await lab.down();
  lab.destroy();
});

describe('bad manifests', () => {
  it('a VirtualService without destination.host is rejected with file, document and field; nothing changes', async () => {
    const bad = file(
      'bad-vs.yaml',
      `apiVersion: v1
kind: ServiceAccount
metadata: { name: ok-account }
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: catalog-vs-from-gw }
spec:
  hosts: [catalog.istioinaction.io]
  gateways: [catalog-gateway]
  http:
  - route:
    - destination: { subset: version-v1 }
`,
    );
    const r = await lab.cli('apply', '-f', bad);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('bad-vs.yaml: document 2 (VirtualService catalog-vs-from-gw)');
    expect(r.stderr).toContain('spec.http[0].route[0].destination.host');
    // All or nothing: the valid first document was not applied either.
    expect((await lab.cli('get', 'sa', 'ok-account')).code).not.toBe(0);
    await stillServing();
  });

  it('invalid YAML names the file, the document and the line', async () => {
    const bad = file('broken.yaml', 'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n   bad: [unclosed\n');
    const r = await lab.cli('apply', '-f', bad);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/broken\.yaml: document 1.*line \d+/s);
    await stillServing();
  });

  it('an unknown kind is rejected and lists what is supported', async () => {
    const bad = file('unknown.yaml', 'apiVersion: networking.istio.io/v1beta1\nkind: VirtualServise\nmetadata: { name: x }\nspec: {}\n');
    const r = await lab.cli('apply', '-f', bad);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('unknown.yaml: document 1');
    expect(r.stderr).toMatch(/VirtualServise/);
    expect(r.stderr).toMatch(/VirtualService/);
    await stillServing();
  });

  it('a misspelt field is an error (strict field validation)', async () => {
    const bad = file('typo.yaml', 'apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: { name: typo }\nspec:\n  hots: [catalog]\n  http:\n  - route:\n    - destination: { host: catalog }\n');
    const r = await lab.cli('apply', '-f', bad);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.hots');
  });

  it('an image the lab cannot run is a clear error at apply', async () => {
    const bad = file(
      'image.yaml',
      `apiVersion: apps/v1
kind: Deployment
metadata: { name: nginx }
spec:
  selector: { matchLabels: { app: nginx } }
  template:
    metadata: { labels: { app: nginx } }
    spec:
      containers: [{ name: nginx, image: nginx:1.25 }]
`,
    );
    const r = await lab.cli('apply', '-f', bad);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.template.spec.containers[0].image');
    expect(r.stderr).toContain('nginx:1.25');
  });

  it('a VirtualService naming a missing subset and gateway is accepted with IST0101 warnings; the request gets 503 NC', async () => {
    const vs = file(
      'missing-refs.yaml',
      `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: catalog-vs-from-gw }
spec:
  hosts: [catalog.istioinaction.io]
  gateways: [catalog-gateway, no-such-gateway]
  http:
  - route:
    - destination: { host: catalog, subset: version-v9 }
`,
    );
    const r = await lab.cli('apply', '-f', vs);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('IST0101');
    expect(r.stderr).toMatch(/no-such-gateway/);
    expect(r.stderr).toMatch(/version-v9/);
    const res = await lab.ingress('/items', { ...host, 'x-request-id': 'nc-1' });
    expect(res.status).toBe(503);
    const [line] = await lab.logFor('istio-ingressgateway', 'nc-1', 'istio-system');
    expect(line).toMatchObject({ responseFlags: 'NC', responseCodeDetails: 'cluster_not_found', upstreamHost: '-' });
    await lab.ok('apply', '-f', 'ch5/catalog-vs.yaml');
    await stillServing();
  });
});

describe('bad requests', () => {
  it('malformed HTTP to the ingress gets 400 and a DPE log line; the gateway keeps serving', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: lab.ingressPort }, () => s.write('GET /items HTTP/1.1\r\nHost catalog.istioinaction.io\r\n\r\n'));
      let data = '';
      s.on('data', (c) => (data += c.toString()));
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    const lines = await lab.accessLog('istio-ingressgateway', 'istio-system');
    expect(lines.some((l) => l.responseCode === '400' && l.responseFlags === 'DPE')).toBe(true);
    await stillServing();
  });

  it('CLI usage errors exit 2 with the usage text', async () => {
    const r = await lab.cli('get');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: lab get');
    const u = await lab.cli('frobnicate');
    expect(u.code).toBe(1);
    expect(u.stderr).toContain('unknown command');
  });
});
