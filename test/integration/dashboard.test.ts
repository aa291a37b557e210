/**
 * The dashboard in a real browser (Debian's chromium driven by playwright-core; no browser
 * download) against a real lab with real traffic, on each runtime that is there: the graph shows
 * the gateway, webapp and catalog v1/v2; after the book's 90/10 rule and 200 requests the catalog
 * edges show a split within exact binomial bounds; a canary's weight chart advances as Flagger's
 * analysis steps the weight, and its checks show the lab's metrics provider's answers. Screenshots go to test-output/dashboard/ (CI keeps them).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processAlive } from '../../src/controlplane/lab-home.js';
import { pingDocker } from '../../src/runtime/docker/engine.js';
import { binomialBounds } from '../../lab/lib/stats.js';
import { ROOT, TestLab, waitFor } from '../helpers/lab.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p));
if (!CHROMIUM) console.warn('[dashboard.test] skipped: no chromium binary (/usr/bin/chromium; .ci/run installs Debian\'s chromium, or set CHROMIUM_PATH)');
const engine = CHROMIUM ? await pingDocker() : { ok: false, reason: 'no chromium' };
if (CHROMIUM && !engine.ok) console.warn(`[dashboard.test] Docker runtime skipped: ${engine.reason}`);

const OUT = join(ROOT, 'test-output', 'dashboard');
const NS = ['-n', 'istioinaction'];
const WEBAPP = { Host: 'webapp.istioinaction.io' };

/** Requests through the ingress gateway to webapp's /api/catalog, `concurrency` at a time. */
async function traffic(lab: TestLab, n: number, concurrency = 4): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        statuses.push((await lab.ingress('/api/catalog', WEBAPP)).status);
      }
    }),
  );
  return statuses;
}

/** Background traffic until stopped (bounded by `maxMs`), for the canary's checks to have data. */
function steadyLoad(lab: TestLab, workers = 3, everyMs = 20, maxMs = 360_000): { stop: () => Promise<number[]> } {
  let stopped = false;
  const statuses: number[] = [];
  const deadline = Date.now() + maxMs;
  const done = Promise.all(
    Array.from({ length: workers }, async () => {
      while (!stopped && Date.now() < deadline) {
        statuses.push((await lab.ingress('/api/catalog', WEBAPP)).status);
        await new Promise((r) => setTimeout(r, everyMs));
      }
    }),
  );
  return {
    stop: async () => {
      stopped = true;
      await done;
      return statuses;
    },
  };
}

interface EdgeView {
  requests: number;
  label: string;
}

async function edge(page: Page, source: string, target: string): Promise<EdgeView | undefined> {
  return page.evaluate(
    ([s, t]) => {
      const g = document.querySelector(`.edge[data-source="${s}"][data-target="${t}"][data-kind="traffic"]`) as SVGGElement | null;
      return g ? { requests: Number(g.dataset.requests), label: [...g.querySelectorAll('text')].map((x) => x.textContent).join(' | ') } : undefined;
    },
    [source, target],
  );
}

const runtimes = [
  { name: 'local', args: [] as string[], enabled: !!CHROMIUM },
  { name: 'docker', args: ['--runtime', 'docker'], enabled: engine.ok },
];

for (const rt of runtimes) {
  describe.skipIf(!rt.enabled).sequential(`dashboard in chromium (${rt.name} runtime)`, () => {
    const lab = new TestLab();
    let browser: Browser;
    let page: Page;
    let dashboardPid = 0;

    beforeAll(async () => {
      mkdirSync(OUT, { recursive: true });
      // 9x: a 45 s analysis interval takes 5 s, and the checks' windows (1m, 30s) hold enough of the
      // canary's share of the load even on a busy machine (at 45x a 0.7 s window at 10% may see none).
      await lab.up(...rt.args, '--time-scale', '9', '--dashboard');
      browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox'] });
      page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    }, 240_000);

    afterAll(async () => {
      await browser?.close();
      await lab.down();
      if (dashboardPid) expect(processAlive(dashboardPid), 'lab down stops the dashboard').toBe(false);
      lab.destroy();
    }, 120_000);

    it('lab up --dashboard serves the page on 127.0.0.1 with every asset from itself', async () => {
      const record = JSON.parse(readFileSync(join(lab.home, 'dashboard.json'), 'utf8')) as { pid: number; url: string };
      dashboardPid = record.pid;
      expect(record.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(processAlive(record.pid)).toBe(true);
      const requested: string[] = [];
      page.on('request', (r) => requested.push(r.url()));
      await page.goto(record.url);
      await page.waitForSelector('.node[data-node="istio-system/istio-ingressgateway"]', { timeout: 30_000 });
      const origin = new URL(record.url).origin;
      expect(requested.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'))).toEqual([]);
    }, 180_000);

    it('the graph shows the ingress gateway, webapp and catalog v1 and v2', async () => {
      for (const f of ['services/catalog/kubernetes/catalog.yaml', 'services/catalog/kubernetes/catalog-deployment-v2.yaml', 'services/webapp/kubernetes/webapp.yaml', 'services/webapp/istio/webapp-catalog-gw-vs.yaml', 'ch5/catalog-dest-rule.yaml', 'ch5/catalog-vs-v2-10-90-mesh.yaml']) {
        await lab.ok('apply', '-f', f, ...NS);
      }
      // The page updates by itself (no reload) as the workloads appear.
      for (const [id, version] of [['istioinaction/webapp', ''], ['istioinaction/catalog', 'v1'], ['istioinaction/catalog-v2', 'v2']] as const) {
        await page.waitForSelector(`.node[data-node="${id}"][data-version="${version}"]`, { timeout: 60_000 });
      }
      const labels = await page.$$eval('.node', (gs) => gs.map((g) => g.textContent?.replace(/\s+/g, ' ').trim()));
      expect(labels.some((l) => l?.startsWith('istio-ingressgateway'))).toBe(true);
      expect(labels.some((l) => l?.startsWith('webapp'))).toBe(true);
      expect(labels.some((l) => l?.startsWith('catalog') && l.includes('v1'))).toBe(true);
      expect(labels.some((l) => l?.startsWith('catalog') && l.includes('v2'))).toBe(true);
    }, 180_000);

    it('after the 90/10 rule and 200 requests, the catalog edges show a split within exact binomial bounds', async () => {
      const statuses = await traffic(lab, 200);
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      // The page shows all 200 once the proxies' counters have been scraped and streamed.
      await page.waitForFunction(
        () => {
          const n = (t: string) => Number((document.querySelector(`.edge[data-source="istioinaction/webapp"][data-target="${t}"][data-kind="traffic"]`) as SVGGElement | null)?.dataset.requests ?? 0);
          return n('istioinaction/catalog') + n('istioinaction/catalog-v2') === 200;
        },
        undefined,
        { timeout: 60_000 },
      );
      const v1 = (await edge(page, 'istioinaction/webapp', 'istioinaction/catalog'))!;
      const v2 = (await edge(page, 'istioinaction/webapp', 'istioinaction/catalog-v2'))!;
      // 99.9% two-sided: a correct 10% picker lands outside with probability below 1e-3.
      const { lo, hi } = binomialBounds(200, 0.1, 1e-3);
      console.log(`[dashboard.test ${rt.name}] catalog split on the page: v1 ${v1.requests}, v2 ${v2.requests} (accepted v2 ${lo}..${hi}); labels "${v1.label}" / "${v2.label}"`);
      expect(v2.requests).toBeGreaterThanOrEqual(lo);
      expect(v2.requests).toBeLessThanOrEqual(hi);
      // What a person reads: each edge's share of webapp's calls to catalog.
      expect(v2.label).toContain(`${Math.round((100 * v2.requests) / 200)}%`);
      expect(v1.label).toContain(`${Math.round((100 * v1.requests) / 200)}%`);
      // ... beside the weight the VirtualService asks for.
      expect(v2.label).toContain('(rule 10%)');
      expect(v1.label).toContain('(rule 90%)');
      const ingress = (await edge(page, 'istio-system/istio-ingressgateway', 'istioinaction/webapp'))!;
      expect(ingress.requests).toBe(200);
      expect(ingress.label).toContain('100% ok');
      await page.screenshot({ path: join(OUT, `${rt.name}-traffic-split.png`), fullPage: true });
    }, 180_000);

    it('the workload panel shows the access log and the VirtualService that splits the traffic', async () => {
      await page.click('.tabs button[data-workload="istioinaction/catalog"]');
      await page.waitForSelector('#workload-detail[data-workload="istioinaction/catalog"]');
      await page.waitForFunction(() => document.querySelector('#workload-detail pre.logs')?.textContent?.includes('"GET /items HTTP/1.1" 200'), undefined, { timeout: 30_000 });
      const summaries = await page.$$eval('#workload-detail summary', (s) => s.map((x) => x.textContent));
      expect(summaries).toContain('VirtualService istioinaction/catalog');
      expect(summaries).toContain('DestinationRule istioinaction/catalog');
    }, 180_000);

    it("a canary's weight chart advances while Flagger's analysis steps the weight", async () => {
      // As the chapter does before Flagger (step 15): the manual routing and catalog-v2 go.
      await lab.ok('delete', 'virtualservice', 'catalog', ...NS);
      await lab.ok('delete', 'deploy', 'catalog-v2', ...NS);
      await lab.ok('delete', 'service', 'catalog', ...NS);
      await lab.ok('delete', 'destinationrule', 'catalog', ...NS);
      await lab.ok('apply', '-f', 'ch5/flagger/catalog-release.yaml', ...NS);
      await page.waitForSelector('#canary-catalog-release[data-phase="Initialized"]', { timeout: 90_000 });
      const load = steadyLoad(lab);
      let statuses: number[] = [];
      try {
        await lab.ok('apply', '-f', 'ch5/flagger/catalog-deployment-v2.yaml', ...NS);
        // While the analysis runs, the page's checks are the lab's metrics provider's answers to the
        // controller's queries (embedded here): the load is all 200s, so the success rate is 100%.
        const checked = page.waitForFunction(
          () => {
            const c = document.querySelector('#canary-catalog-release') as HTMLElement | null;
            const row = (name: string) => c?.querySelector(`tr[data-check="${name}"]`) as HTMLElement | null;
            const sr = row('request-success-rate')?.dataset.value;
            const p99 = row('request-duration')?.dataset.value;
            return c?.dataset.phase === 'Progressing' && sr && p99 ? { provider: c.dataset.provider, sr: Number(sr), srOk: row('request-success-rate')!.dataset.ok, p99: Number(p99), heading: c.querySelector('h3')?.textContent ?? '' } : undefined;
          },
          undefined,
          { timeout: 180_000 },
        );
        // The chart's line steps up: weights 10 and then 20 or more appear in it, in the page itself.
        await page.waitForFunction(
          () => {
            const w = (document.querySelector('#canary-catalog-release svg.chart') as SVGSVGElement | null)?.dataset.weights?.split(',').map(Number) ?? [];
            const first = w.indexOf(10);
            return first >= 0 && w.slice(first + 1).some((x) => x >= 20);
          },
          undefined,
          { timeout: 180_000 },
        );
        await page.screenshot({ path: join(OUT, `${rt.name}-canary-progressing.png`), fullPage: true });
        const seen = (await (await checked).jsonValue())!;
        console.log(`[dashboard.test ${rt.name}] checks on the page while progressing: ${JSON.stringify(seen)}`);
        expect(seen).toMatchObject({ provider: 'embedded', sr: 100, srOk: 'true' });
        expect(seen.p99).toBeGreaterThan(0);
        expect(seen.heading).toContain('embedded metrics provider');
        await page.waitForSelector('#canary-catalog-release[data-phase="Succeeded"]', { timeout: 180_000 });
      } finally {
        statuses = await load.stop();
      }
      const weights = await page.$eval('#canary-catalog-release svg.chart', (svg) => (svg as SVGSVGElement).dataset.weights!.split(',').map(Number));
      console.log(`[dashboard.test ${rt.name}] weight chart: ${weights.join(' -> ')}; ${statuses.length} requests during the rollout`);
      for (const w of [10, 20, 30, 40, 50]) expect(weights).toContain(w);
      expect(weights[weights.length - 1]).toBe(0);
      const checks = await page.$$eval('#canary-catalog-release tr[data-check]', (rows) => rows.map((r) => r.getAttribute('data-check')));
      expect(checks).toEqual(['request-success-rate', 'request-duration']);
      const events = await page.$eval('#canary-catalog-release .events', (e) => e.textContent ?? '');
      expect(events).toContain('Promotion completed! Scaling down catalog.istioinaction');
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      await page.screenshot({ path: join(OUT, `${rt.name}-canary-succeeded.png`), fullPage: true });
      await waitFor(async () => (existsSync(join(OUT, `${rt.name}-canary-succeeded.png`)) ? true : undefined), 'the screenshot file');
    }, 420_000);
  });
}
