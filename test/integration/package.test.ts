/**
 * The package as a user gets it: `npm pack` (which builds), installed with `npm i -D` into an
 * empty project, and `npx lab validate/analyze/verify` run there on a copy of the chapter's
 * manifests and scenarios, with no repository and no dev dependencies. One live scenario proves the
 * demo services are in the package too.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';
import { ROOT } from '../helpers/lab.js';

const tmp = mkdtempSync(join(tmpdir(), 'lab-pack-'));
const proj = join(tmp, 'project');

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function npx(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await execa('npx', ['--no', 'lab', ...args], { cwd: proj, env: { ...process.env, LAB_HOME: join(tmp, 'no-lab'), NO_COLOR: '1' }, reject: false });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe('npm pack -> npm i -D -> npx lab', () => {
  test(
    'installs into an empty project and works there',
    async () => {
      const packed = await execa('npm', ['pack', '--pack-destination', tmp], { cwd: ROOT });
      const tgz = join(tmp, String(packed.stdout).trim().split('\n').pop()!);
      expect(tgz).toMatch(/istio-lab-[\d.]+\.tgz$/);

      mkdirSync(proj);
      await execa('npm', ['init', '-y'], { cwd: proj });
      await execa('npm', ['i', '-D', tgz, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: proj });
      const pkg = join(proj, 'node_modules', 'istio-lab');
      // Run-time needs only "dependencies": no compiler, no test runner was installed.
      expect(existsSync(join(proj, 'node_modules', 'typescript'))).toBe(false);
      expect(existsSync(join(proj, 'node_modules', 'vitest'))).toBe(false);
      expect(existsSync(join(pkg, 'dist', 'src', 'cli', 'main.js'))).toBe(true);
      expect(existsSync(join(pkg, 'schemas', 'verify-scenario.schema.json'))).toBe(true);

      // The user's repository: the chapter's manifests and scenarios, copied out of the package.
      const rules = join(proj, 'mesh');
      for (const d of ['ch5', 'services', 'examples']) cpSync(join(pkg, d), join(rules, d), { recursive: true });

      const valid = await npx('validate', '-f', 'mesh/ch5');
      expect(valid.stdout).toMatch(/objects in \d+ files: valid/);
      expect(valid.code).toBe(0);

      const analyzed = await npx('analyze', '-f', 'mesh/ch5/catalog-vs.yaml');
      expect(analyzed.stdout).toContain('Error [IST0101] (VirtualService catalog-vs-from-gw.istioinaction mesh/ch5/catalog-vs.yaml:9) Referenced gateway not found: "catalog-gateway"');
      expect(analyzed.code).toBe(1);

      const scenarios = readdirSync(join(rules, 'examples', 'verify')).map((f) => join('mesh', 'examples', 'verify', f));
      const verified = await npx('verify', ...scenarios, '--junit', 'report.xml');
      expect(verified.stdout).toMatch(/cases: \d+ passed, 0 failed/);
      expect(verified.code).toBe(0);
      expect(readFileSync(join(proj, 'report.xml'), 'utf8')).toMatch(/<testsuites name="lab verify" tests="\d+" failures="0" errors="0"/);

      // A user's own wrong expectation fails CI.
      writeFileSync(
        join(rules, 'mine.yaml'),
        'scenario: mine\nmanifests: [ch5/catalog-gateway.yaml]\ncases:\n  - name: routed\n    request: { from: ingress, url: "http://catalog.istioinaction.io/" }\n    expect: { code: 200 }\n',
      );
      const mine = await npx('verify', 'mesh/mine.yaml');
      expect(mine.stdout).toMatch(/FAIL routed: 404, flags NR/);
      expect(mine.code).toBe(1);

      // Live, from the installed package: it starts a lab of its own (demo services included) and stops it.
      const live = await npx('verify', 'mesh/examples/verify/5.5-egress-policy.yaml', '--live');
      expect(live.stdout).toMatch(/\(live, .*\)\n.*PASS ALLOW_ANY passes the external call through.*\n.*PASS REGISTRY_ONLY blocks it/);
      expect(live.code).toBe(0);
    },
    360_000,
  );
});
