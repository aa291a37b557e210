/**
 * `lab validate` and `lab analyze` as a CI job runs them: exit codes, istioctl-style lines with
 * file:line, JSON output; and `lab analyze` against a running lab's objects.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TestLab } from '../helpers/lab.js';

const dir = mkdtempSync(join(tmpdir(), 'analyze-it-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

// istio.io ist0101's example: a VirtualService bound to a gateway that does not exist.
const BOGUS_GW = file(
  'bogus-gateway.yaml',
  `apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: catalog-vs
spec:
  hosts: [catalog]
  gateways:
  - catalog-gateway-bogus
  http:
  - route:
    - destination: {host: catalog}
`,
);
// istio.io ist0104's example: port 8004 is not a port of the ingress gateway.
const PORT_8004 = file(
  'gw-8004.yaml',
  `apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata:
  name: httpbin-gateway
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 8004, name: http2, protocol: HTTP}
    hosts: ["*"]
`,
);
const INVALID = file('invalid.yaml', 'apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata:\n  name: v\nspec:\n  hosts: [catalog]\n  htp: []\n');

describe('offline', () => {
  const lab = new TestLab();
  afterAll(() => lab.destroy());

  test('validate: the chapter\'s manifests are valid; a typo is an error with its line', async () => {
    const ok = await lab.cli('validate', '-f', 'ch5', '-f', 'services');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^\d+ objects in \d+ files: valid$/m);
    const bad = await lab.cli('validate', '-f', INVALID, '-o', 'json');
    expect(bad.code).toBe(1);
    const json = JSON.parse(bad.stdout) as { valid: boolean; errors: Array<{ file: string; line: number; path: string; message: string }> };
    expect(json.valid).toBe(false);
    expect(json.errors[0]).toMatchObject({ file: INVALID, line: 7, path: 'spec.htp' });
    expect(json.errors[0]!.message).toMatch(/unknown field/);
  });

  test('analyze: the book\'s steps are clean (exit 0)', async () => {
    const r = await lab.cli('analyze', '-f', 'services/catalog/kubernetes/catalog.yaml', '-f', 'services/catalog/kubernetes/catalog-deployment-v2.yaml', '-f', 'ch5/catalog-gateway.yaml', '-f', 'ch5/catalog-dest-rule.yaml', '-f', 'ch5/catalog-vs-v2-request.yaml');
    expect(r.stdout).toMatch(/No validation issues found/);
    expect(r.code).toBe(0);
  });

  test('analyze: an Error exits 1, with file:line', async () => {
    const r = await lab.cli('analyze', '-f', 'services/catalog/kubernetes/catalog.yaml', '-f', BOGUS_GW);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual([`Error [IST0101] (VirtualService catalog-vs.istioinaction ${BOGUS_GW}:8) Referenced gateway not found: "catalog-gateway-bogus"`]);
    expect(r.stderr).toMatch(/Analyzers found issues/);
  });

  test('analyze: only Warnings exit 3, or 0 with --failure-threshold Error; -o json', async () => {
    const r = await lab.cli('analyze', '-f', PORT_8004);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`Warning [IST0104] (Gateway httpbin-gateway.istioinaction ${PORT_8004}:9) The gateway refers to a port that is not exposed on the workload (pod selector istio=ingressgateway; port 8004)`);
    expect((await lab.cli('analyze', '-f', PORT_8004, '--failure-threshold', 'Error')).code).toBe(0);
    const json = JSON.parse((await lab.cli('analyze', '-f', PORT_8004, '-o', 'json')).stdout) as Array<Record<string, unknown>>;
    expect(json).toEqual([expect.objectContaining({ code: 'IST0104', name: 'GatewayPortNotOnWorkload', level: 'Warning', kind: 'Gateway', objectName: 'httpbin-gateway', line: 9 })]);
  });

  test('analyze: a schema error is IST0106', async () => {
    const r = await lab.cli('analyze', '-f', INVALID);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^Error \[IST0106\] \(VirtualService v .*invalid\.yaml:7\) Schema validation error: spec\.htp: unknown field/);
  });

  test('usage errors exit 2', async () => {
    expect((await lab.cli('analyze', '--failure-threshold', 'Fatal', '-f', PORT_8004)).code).toBe(2);
    expect((await lab.cli('validate')).code).toBe(2);
  });
});

describe('against a running lab', () => {
  const lab = new TestLab();
  beforeAll(async () => {
    await lab.up();
  }, 120_000);
  afterAll(async () => {
    await lab.down();
    lab.destroy();
  }, 60_000);

  test(
    'the lab\'s objects, and files over them with --use-lab',
    async () => {
      await lab.ok('apply', '-f', 'services/catalog/kubernetes/catalog.yaml', '-f', 'ch5/catalog-gateway.yaml', '-f', 'ch5/catalog-vs.yaml');
      const clean = await lab.cli('analyze');
      expect(clean.stdout).toMatch(/No validation issues found when analyzing the running lab/);
      expect(clean.code).toBe(0);
      // catalog-vs-v1 names subset version-v1, and no DestinationRule defines it in the lab.
      const over = await lab.cli('analyze', '-f', 'ch5/catalog-vs-v1.yaml', '--use-lab');
      expect(over.code).toBe(1);
      expect(over.stdout).toMatch(/^Error \[IST0101\] \(VirtualService catalog-vs-from-gw\.istioinaction ch5\/catalog-vs-v1\.yaml:\d+\) Referenced host\+subset in destinationrule not found: "catalog\+version-v1"$/m);
      // Without the lab, the same file lacks the Service and the Gateway too.
      const alone = await lab.cli('analyze', '-f', 'ch5/catalog-vs-v1.yaml');
      expect(alone.stdout).toMatch(/Referenced gateway not found: "catalog-gateway"/);
    },
    120_000,
  );
});
