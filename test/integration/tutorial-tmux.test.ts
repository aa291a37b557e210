/**
 * The tutorial as a person uses it, through a real terminal: tmux runs `lab tutorial` in one
 * window and the learner's shell in another; keys go in with send-keys, the screen is read with
 * capture-pane. A wrong attempt (the VirtualService without its DestinationRule) gets the subset
 * hint from the lab's state and the NC flag; the corrected attempt passes; q and Ctrl-C leave no
 * lab behind and say how to resume.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const SOCKET = `lab-tutorial-test-${process.pid}`;

/** tmux, installed here if missing and we are allowed to (as .ci/run does); else the reason why not. */
function tmuxMissing(): string | undefined {
  if (spawnSync('tmux', ['-V']).status === 0) return undefined;
  if (process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0) {
    spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux'], { stdio: 'ignore' });
    if (spawnSync('tmux', ['-V']).status === 0) return undefined;
  }
  return 'tmux is not installed and could not be installed (apt-get install tmux needs root and Debian/Ubuntu)';
}

const missing = tmuxMissing();
if (missing) console.log(`tutorial-tmux.test.ts skipped: ${missing}`);

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8' });
const screen = (target: string) => tmux('capture-pane', '-p', '-J', '-S', '-400', '-t', target);
const flat = (text: string) => text.replace(/\s+/g, ' ');
const keys = (target: string, ...k: string[]) => tmux('send-keys', '-t', target, ...k);

/** Waits until the pane shows `pattern` after the `since`-th character of its history (bounded). */
async function waitFor(target: string, pattern: RegExp, timeoutMs = 120_000, since = 0): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = screen(target).slice(since);
    const m = text.match(pattern);
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in ${target}; the screen shows:\n${text.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs a line in the learner's shell and waits for it to finish. */
async function learner(cmd: string, tag: string): Promise<string> {
  keys('t:learner', `${cmd}; echo "${tag} exit=$?"`, 'Enter');
  const m = await waitFor('t:learner', new RegExp(`^${tag} exit=(\\d+)`, 'm'));
  return m[1]!;
}

describe.skipIf(Boolean(missing))('lab tutorial in a real terminal (tmux)', () => {
  beforeAll(() => {
    tmux('new-session', '-d', '-s', 't', '-n', 'tutorial', '-x', '220', '-y', '60', '-c', ROOT);
    tmux('new-window', '-t', 't:', '-n', 'learner', '-c', ROOT);
    tmux('new-window', '-t', 't:', '-n', 'korean', '-c', ROOT);
  });
  afterAll(() => {
    spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
    // kill-server leaves the socket file behind.
    rmSync(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, SOCKET), { force: true });
  });

  it('do it yourself: a wrong attempt gets the hint that names the missing subset, the fixed one passes; q stops the lab', async () => {
    keys('t:tutorial', 'LANG=C node bin/lab.js tutorial 5.2 --step 7 --lang en', 'Enter');
    await waitFor('t:tutorial', /\[d\] do it yourself/);
    // The step shows the change catalog-vs-v1 makes to catalog-vs: the subset line, added.
    expect(screen('t:tutorial')).toMatch(/\+ +subset: version-v1/);
    keys('t:tutorial', 'd', 'Enter');
    const home = (await waitFor('t:tutorial', /export LAB_HOME=(\S+)/))[1]!;
    await waitFor('t:tutorial', /press \[Enter\] to check/);

    // Wrong: the VirtualService alone. Its route names subset version-v1, which nothing defines.
    expect(await learner(`export LAB_HOME=${home}; node bin/lab.js apply -f ch5/catalog-vs-v1.yaml`, 'WRONG')).toBe('0');
    let mark = screen('t:tutorial').length;
    keys('t:tutorial', 'Enter');
    await waitFor('t:tutorial', /check again/, 120_000, mark);
    // Hints are wrapped to the terminal's width: compare with runs of spaces and line breaks as one.
    let out = flat(screen('t:tutorial').slice(mark));
    expect(out).toMatch(/response flags NC/);
    expect(out).toMatch(/NOT YET: expected 10 of 10 v1 responses/);
    expect(out).toMatch(/hint: VirtualService catalog-vs-from-gw routes to subset version-v1 of catalog, but no DestinationRule defines that subset/);
    expect(out).toMatch(/hint: DestinationRule catalog from ch5\/catalog-dest-rule.yaml is not in the lab/);

    // Right: the DestinationRule too; Enter checks again without repeating the instructions.
    expect(await learner('node bin/lab.js apply -f ch5/catalog-dest-rule.yaml', 'RIGHT')).toBe('0');
    mark = screen('t:tutorial').length;
    keys('t:tutorial', 'Enter');
    await waitFor('t:tutorial', /\[r\] run this step again/, 120_000, mark);
    out = flat(screen('t:tutorial').slice(mark));
    expect(out).toMatch(/PASS/);
    expect(out).toMatch(/responses 10 \(100%\) 0 \(0%\) 0/);
    expect(out).toMatch(/upstream cluster outbound\|80\|version-v1\|catalog\.istioinaction\.svc\.cluster\.local/);
    expect(out).not.toMatch(/hint:/);

    // Running the step again (watched this time) is harmless: the same applies, the same outcome.
    mark = screen('t:tutorial').length;
    keys('t:tutorial', 'r', 'Enter');
    await waitFor('t:tutorial', /\[r\] run this step again/, 120_000, mark);
    out = flat(screen('t:tutorial').slice(mark));
    expect(out).toMatch(/destinationrule.networking.istio.io\/catalog unchanged/);
    expect(out).toMatch(/responses 10 \(100%\) 0 \(0%\) 0 .*PASS/);

    keys('t:tutorial', 'q', 'Enter');
    await waitFor('t:tutorial', /Resume there with: npx lab tutorial 5.2 --step 8 --lang en/);
    keys('t:tutorial', 'echo "TUTORIAL exit=$?"', 'Enter');
    expect((await waitFor('t:tutorial', /^TUTORIAL exit=(\d+)/m))[1]).toBe('130');
    expect(existsSync(home)).toBe(false);
  }, 300_000);

  it('Ctrl-C in Korean: says where it stopped, how to resume, and leaves no lab', async () => {
    keys('t:korean', 'LANG=ko_KR.UTF-8 node bin/lab.js tutorial 5.5', 'Enter');
    const home = (await waitFor('t:korean', /LAB_HOME=(\S+), ingress gateway/))[1]!;
    await waitFor('t:korean', /\[d\] 직접 해보기/);
    expect(screen('t:korean')).toMatch(/5\.5 실습 setup \(1\/4\)/);
    keys('t:korean', 'C-c');
    await waitFor('t:korean', /이어서 하려면: npx lab tutorial 5\.5 --step setup --lang ko/);
    expect(screen('t:korean')).toMatch(/5\.5 실습 setup 에서 멈췄습니다/);
    keys('t:korean', 'echo "TUTORIAL exit=$?"', 'Enter');
    expect((await waitFor('t:korean', /^TUTORIAL exit=(\d+)/m))[1]).toBe('130');
    expect(existsSync(home)).toBe(false);
  }, 180_000);
});
