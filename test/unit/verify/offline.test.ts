/**
 * Offline verify on the book's manifests: the shipped example scenarios pass, and each kind of
 * wrong expectation fails with a message that says what the tables decide.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { verifyOffline } from '../../../src/verify/offline.js';
import { junitReport, textReport } from '../../../src/verify/report.js';
import { loadScenario, parseScenario } from '../../../src/verify/scenario.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const EXAMPLES = join(ROOT, 'examples', 'verify');
const m = (p: string) => JSON.stringify(join(ROOT, p));
const EDGE = [m('services/catalog/kubernetes/catalog.yaml'), m('services/catalog/kubernetes/catalog-deployment-v2.yaml'), m('ch5/catalog-gateway.yaml'), m('ch5/catalog-dest-rule.yaml')];
const MESH = [m('services/catalog/kubernetes/catalog.yaml'), m('services/catalog/kubernetes/catalog-deployment-v2.yaml'), m('services/webapp/kubernetes/webapp.yaml'), m('ch5/catalog-dest-rule.yaml')];

function run(manifests: string[], cases: string, head = '') {
  return verifyOffline(parseScenario(`scenario: t\n${head}manifests: [${manifests.join(', ')}]\ncases:\n${cases}`, join(ROOT, 't.yaml')));
}

describe('the chapter\'s example scenarios', () => {
  test.each(readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')))('%s passes offline', (f) => {
    const r = verifyOffline(loadScenario(join(EXAMPLES, f)));
    expect(r.setupError).toBeUndefined();
    expect(r.cases.filter((c) => !c.ok)).toEqual([]);
    expect(r.cases.length).toBeGreaterThan(0);
  });

  test('deterministic: the same seed gives the same counts', () => {
    const a = verifyOffline(loadScenario(join(EXAMPLES, '5.3-traffic-shifting.yaml')));
    const b = verifyOffline(loadScenario(join(EXAMPLES, '5.3-traffic-shifting.yaml')));
    expect(a.cases[0]!.observed).toBe(b.cases[0]!.observed);
    expect(a.cases[0]!.observed).toMatch(/^version-v1 \d+\/300, version-v2 \d+\/300$/);
  });
});

describe('wrong expectations fail, saying what the tables decide', () => {
  test.each<[string, string[], string, RegExp]>([
    [
      'the header route is v2, not v1',
      [...EDGE, m('ch5/catalog-vs-v2-request.yaml')],
      `  - name: c\n    request: { from: ingress, url: "http://catalog.istioinaction.io/items", headers: { x-istio-cohort: internal } }\n    expect: { subset: version-v1 }\n`,
      /subset: expected "version-v1", got "version-v2"/,
    ],
    [
      'no VirtualService for the host yet: 404 NR, not 200',
      EDGE,
      `  - name: c\n    request: { from: ingress, url: "http://catalog.istioinaction.io/items" }\n    expect: { code: 200 }\n`,
      /code: expected 200, got 404/,
    ],
    [
      'a Gateway port nobody declared refuses the connection',
      [...EDGE, m('ch5/catalog-vs-v2-request.yaml')],
      `  - name: c\n    request: { from: ingress, host: catalog.istioinaction.io, port: 8081 }\n    expect: { code: 404 }\n`,
      /connection was refused/,
    ],
    [
      '90/10 is not 50/50',
      [...MESH, m('ch5/catalog-vs-v2-10-90-mesh.yaml')],
      `  - name: c\n    request: { from: webapp, url: "http://catalog.istioinaction/items" }\n    count: 200\n    expect: { split: { version-v1: 50, version-v2: 50 } }\n`,
      /version-v1: the route's weights give 90%, expected 50%/,
    ],
    [
      'the mirror goes to v2, not v1',
      [...MESH, m('ch5/catalog-vs-v2-mirror.yaml')],
      `  - name: c\n    request: { from: webapp, url: "http://catalog.istioinaction/items" }\n    expect: { mirror: [version-v1] }\n`,
      /mirror: expected \[version-v1\], got \[outbound\|80\|version-v2\|catalog/,
    ],
    [
      'ALLOW_ANY passes through, it does not block',
      [m('services/forum/kubernetes/forum-all.yaml')],
      `  - name: c\n    request: { from: forum, url: "http://jsonplaceholder.typicode.com/users" }\n    expect: { egress: blocked }\n`,
      /egress: expected blocked, got passthrough/,
    ],
    [
      'a subset without its DestinationRule is 503 NC',
      [m('services/catalog/kubernetes/catalog.yaml'), m('services/webapp/kubernetes/webapp.yaml'), m('ch5/catalog-vs-v1-mesh.yaml')],
      `  - name: c\n    request: { from: webapp, url: "http://catalog.istioinaction/items" }\n    expect: { code: 200 }\n`,
      /code: expected 200, got 503/,
    ],
    [
      'a sender that is not among the manifests',
      EDGE,
      `  - name: c\n    request: { from: sleep, url: "http://catalog.istioinaction/items" }\n    expect: { code: 200 }\n`,
      /request.from: no Deployment "sleep" in namespace istioinaction among the manifests \(workloads: istioinaction\/catalog, istioinaction\/catalog-v2; or "ingress"\)/,
    ],
  ])('%s', (_name, manifests, cases, message) => {
    const r = run(manifests, cases);
    expect(r.setupError).toBeUndefined();
    expect(r.cases[0]!.ok).toBe(false);
    expect(r.cases[0]!.failures.join('\n')).toMatch(message);
  });

  test('invalid manifests fail the scenario, naming file and field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-'));
    writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: { name: x }\nspec:\n  hosts: [catalog]\n  http: [{ route: [{ destination: { hots: catalog } }] }]\n');
    const r = run([JSON.stringify(join(dir, 'bad.yaml'))], `  - name: c\n    request: { from: ingress, url: "http://a/" }\n    expect: { code: 404 }\n`);
    expect(r.setupError).toMatch(/bad\.yaml: document 1 \(VirtualService x\): spec\.http\[0\]\.route\[0\]\.destination/);
    expect(textReport([r])).toMatch(/ERROR the manifests are invalid/);
    expect(junitReport([r])).toMatch(/<testsuite [^>]*tests="1" failures="0" errors="1">/);
  });
});

describe('rewrites, senders in other namespaces', () => {
  const dir = mkdtempSync(join(tmpdir(), 'verify-rw-'));
  writeFileSync(
    join(dir, 'rules.yaml'),
    `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: catalog, namespace: istioinaction}
spec:
  hosts: [catalog.istioinaction.svc.cluster.local]
  http:
  - name: legacy
    match: [{uri: {prefix: /v1/items}}]
    rewrite: {uri: /items, authority: catalog-legacy}
    route: [{destination: {host: catalog.istioinaction.svc.cluster.local}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: sleep, namespace: tools}
spec:
  selector: {matchLabels: {app: sleep}}
  template:
    metadata: {labels: {app: sleep}}
    spec: {containers: [{name: sleep, image: istioinaction/webapp:latest}]}
`,
  );
  const manifests = [m('services/catalog/kubernetes/catalog.yaml'), JSON.stringify(join(dir, 'rules.yaml'))];

  test.each<[string, string, boolean, RegExp | undefined]>([
    ['the prefix is replaced, the rest kept', `{ from: tools/sleep, url: "http://catalog.istioinaction/v1/items/3?x=1" }
    expect: { route: legacy, rewrite: { path: "/items/3?x=1", authority: catalog-legacy } }`, true, undefined],
    ['a wrong rewrite expectation fails', `{ from: tools/sleep, url: "http://catalog.istioinaction/v1/items" }
    expect: { rewrite: { path: /v1/items } }`, false, /rewrite.path: expected "\/v1\/items", upstream got "\/items"/],
    // The VirtualService owns the host and has no catch-all: Istio answers 404 NR, not the Service's default route.
    ['outside the prefix: no route matches', `{ from: tools/sleep, url: "http://catalog.istioinaction/items" }\n    expect: { code: 404, flags: NR }`, true, undefined],
    ['a sender missing from that namespace', `{ from: istioinaction/sleep, url: "http://catalog.istioinaction/items" }
    expect: { code: 200 }`, false, /no Deployment "sleep" in namespace istioinaction/],
  ])('%s', (_name, rest, ok, message) => {
    const r = run(manifests, `  - name: c
    request: ${rest}
`);
    expect(r.setupError).toBeUndefined();
    expect(r.cases[0]!.ok).toBe(ok);
    if (message) expect(r.cases[0]!.failures.join('\n')).toMatch(message);
  });
});

describe('a gateway of the user\'s own', () => {
  test('a Deployment running the proxy image is a gateway: its Gateway\'s hosts route there, not at the ingress', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-gw-'));
    writeFileSync(
      join(dir, 'gw.yaml'),
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: edge-gateway, namespace: edge}
spec:
  selector: {matchLabels: {istio: edge-gateway}}
  template:
    metadata: {labels: {istio: edge-gateway}}
    spec: {containers: [{name: istio-proxy, image: "docker.io/istio/proxyv2:1.16.1"}]}
---
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: edge, namespace: edge}
spec:
  selector: {istio: edge-gateway}
  servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["shop.example.com"]}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: shop, namespace: edge}
spec:
  hosts: [shop.example.com]
  gateways: [edge]
  http: [{route: [{destination: {host: catalog.istioinaction.svc.cluster.local}}]}]
`,
    );
    const r = run([m('services/catalog/kubernetes/catalog.yaml'), JSON.stringify(join(dir, 'gw.yaml'))], `  - name: own gateway
    request: { from: edge/edge-gateway, host: shop.example.com, port: 8080 }
    expect: { code: 200, cluster: "outbound|80||catalog.istioinaction.svc.cluster.local" }
  - name: the ingress gateway does not serve it
    request: { from: ingress, host: shop.example.com, port: 8080 }
    expect: { code: 404 }
`);
    expect(r.cases.map((c) => [c.name, c.ok, c.failures])).toEqual([
      ['own gateway', true, []],
      ['the ingress gateway does not serve it', false, ['the connection was refused: no listener on that port (no Gateway server for it)']],
    ]);
  });
});

describe('reports', () => {
  test('JUnit: a testsuite per scenario, failures with their messages, XML escaped', () => {
    const r = run(EDGE, `  - name: "a <b> & 'c'"\n    request: { from: ingress, url: "http://catalog.istioinaction.io/items" }\n    expect: { code: 200 }\n  - name: ok\n    request: { from: ingress, url: "http://catalog.istioinaction.io/items" }\n    expect: { code: 404, flags: NR }\n`);
    const xml = junitReport([r]);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="lab verify" tests="2" failures="1" errors="0"/);
    expect(xml).toContain('<testcase name="a &lt;b&gt; &amp; &apos;c&apos;"');
    expect(xml).toMatch(/<failure message="code: expected 200, got 404">/);
    expect(xml.match(/<testcase /g)).toHaveLength(2);
    expect(textReport([r])).toMatch(/FAIL a <b> & 'c': 404, flags NR\n\s+- code: expected 200, got 404\n\s+PASS ok/);
    expect(textReport([r])).toMatch(/1 scenario, 2 cases: 1 passed, 1 failed$/);
  });
});
