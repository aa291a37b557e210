/**
 * `lab verify` as a user runs it: offline on the chapter's scenario files (exit codes, JUnit), and
 * --live against a running lab, where real requests must give the same verdict per case as the
 * offline tables, including for expectations that are wrong.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT, TestLab } from '../helpers/lab.js';

const EXAMPLES = join(ROOT, 'examples', 'verify');
const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).map((f) => join('examples', 'verify', f));
const dir = mkdtempSync(join(tmpdir(), 'verify-it-'));

/** Right and wrong expectations side by side, on the chapter's 5.2 edge configuration. */
const MIXED = join(dir, 'mixed.yaml');
writeFileSync(
  MIXED,
  `scenario: mixed
manifests:
  - ${join(ROOT, 'services/catalog/kubernetes/catalog.yaml')}
  - ${join(ROOT, 'services/catalog/kubernetes/catalog-deployment-v2.yaml')}
  - ${join(ROOT, 'services/webapp/kubernetes/webapp.yaml')}
  - ${join(ROOT, 'ch5/catalog-gateway.yaml')}
  - ${join(ROOT, 'ch5/catalog-dest-rule.yaml')}
  - ${join(ROOT, 'ch5/catalog-vs-v2-request.yaml')}
  - ${join(ROOT, 'ch5/catalog-vs-v2-50-50-mesh.yaml')}
cases:
  - name: right - cohort to v2
    request: { from: ingress, url: "http://catalog.istioinaction.io/items", headers: { x-istio-cohort: internal } }
    expect: { code: 200, subset: version-v2 }
  - name: wrong - cohort to v1
    request: { from: ingress, url: "http://catalog.istioinaction.io/items", headers: { x-istio-cohort: internal } }
    expect: { subset: version-v1 }
  - name: right - unknown host is 404 NR
    request: { from: ingress, url: "http://nothing.istioinaction.io/" }
    expect: { code: 404, flags: NR }
  - name: wrong - unknown host is 200
    request: { from: ingress, url: "http://nothing.istioinaction.io/" }
    expect: { code: 200 }
  - name: right - 50/50 from webapp
    request: { from: webapp, url: "http://catalog.istioinaction/items" }
    count: 100
    expect: { split: { version-v1: 50, version-v2: 50 } }
  - name: wrong - 90/10 from webapp
    request: { from: webapp, url: "http://catalog.istioinaction/items" }
    count: 100
    expect: { split: { version-v1: 90, version-v2: 10 } }
`,
);

interface JsonResult {
  passed: boolean;
  mode: string;
  cases: Array<{ name: string; ok: boolean; failures: string[]; observed: string }>;
}

describe('offline', () => {
  const lab = new TestLab();
  afterAll(() => lab.destroy());

  test('the chapter\'s scenarios pass, with a JUnit report', async () => {
    const junit = join(dir, 'junit.xml');
    const r = await lab.cli('verify', ...examples, '--junit', junit);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${examples.length} scenarios, \\d+ cases: (\\d+) passed, 0 failed`));
    const xml = readFileSync(junit, 'utf8');
    expect(xml.match(/<testsuite /g)).toHaveLength(examples.length);
    expect(xml).toMatch(/<testsuites name="lab verify" tests="\d+" failures="0" errors="0"/);
    expect(xml).not.toContain('<failure');
  });

  test('wrong expectations fail the run (exit 1) and name the case', async () => {
    const r = await lab.cli('verify', MIXED);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL wrong - cohort to v1: .*\n\s+- subset: expected "version-v1", got "version-v2"/);
    expect(r.stdout).toMatch(/6 cases: 3 passed, 3 failed/);
  });

  test('an invalid scenario file is a usage error (exit 2) naming file, line and field', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'scenario: x\nmanifests: [a.yaml]\ncases:\n  - name: a\n    request: { from: ingress, url: "http://a/" }\n    expect: { code: "200" }\n');
    const r = await lab.cli('verify', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:6: cases[0].expect.code: expected integer, got string`);
  });

  test('--help', async () => {
    const r = await lab.cli('verify', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: lab verify SCENARIO\.yaml/);
  });
});

describe('--live against a running lab', () => {
  const lab = new TestLab();
  beforeAll(async () => {
    await lab.up();
  }, 120_000);
  afterAll(async () => {
    await lab.down();
    lab.destroy();
  }, 60_000);

  test(
    'real traffic gives the offline verdict for every case, right or wrong',
    async () => {
      const offline = await lab.cli('verify', MIXED, '-o', 'json');
      const junit = join(dir, 'live.xml');
      const live = await lab.cli('verify', MIXED, '--live', '-o', 'json', '--junit', junit);
      expect(live.code).toBe(1);
      const [off] = JSON.parse(offline.stdout) as JsonResult[];
      const [on] = JSON.parse(live.stdout) as JsonResult[];
      expect(on!.mode).toBe('live');
      expect(on!.cases.map((c) => [c.name, c.ok])).toEqual(off!.cases.map((c) => [c.name, c.ok]));
      expect(on!.cases.map((c) => c.ok)).toEqual([true, false, true, false, true, false]);
      expect(on!.cases[3]!.failures).toEqual(['code: expected 200, got 404']);
      // Live counts come from the access log of webapp's sidecar.
      expect(on!.cases[4]!.observed).toMatch(/^version-v1 \d+\/100, version-v2 \d+\/100$/);
      expect(readFileSync(junit, 'utf8')).toMatch(/<testsuite name="mixed \(live\)"[^>]* tests="6" failures="3"/);
    },
    180_000,
  );

  test(
    'the chapter\'s mirror and egress scenarios pass live',
    async () => {
      const r = await lab.cli('verify', 'examples/verify/5.4-mirror.yaml', 'examples/verify/5.5-egress-policy.yaml', '--live');
      expect(r.stdout).toMatch(/2 scenarios, 3 cases: 3 passed, 0 failed/);
      expect(r.code).toBe(0);
    },
    180_000,
  );
});
