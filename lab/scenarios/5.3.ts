/**
 * Chapter 5.3, steps 12-14: shifting traffic by weights. The split is random (as Envoy's is) but
 * the lab's proxies are seeded, and the assertion is an exact binomial bound whose false-failure
 * chance is below one in a million.
 */
import { countVersions, repeat } from '../lib/http.js';
import { Scenario } from '../lib/scenario.js';
import { callGraphSetup } from '../lib/setup.js';
import { binomialBounds } from '../lib/stats.js';
import type { LabRun } from '../lib/lab-run.js';

const NS = ['-n', 'istioinaction'];

export function scenario53(run: LabRun): Scenario {
  const url = `http://127.0.0.1:${run.ingressPort}/api/catalog`;
  const headers = { Host: 'webapp.istioinaction.io' };
  const s = new Scenario('5.3', 'Traffic shifting');

  s.step('setup', 'Where 5.2 ended: catalog v1 and v2, webapp behind the gateway, the DestinationRule', async (ctx) => {
    await callGraphSetup(ctx);
  });

  s.step('12', 'catalog-vs-v1-mesh: 10 of 10 responses are v1', async (ctx) => {
    await ctx.lab(['apply', '-f', 'ch5/catalog-vs-v1-mesh.yaml', ...NS]);
    const c = countVersions(await repeat(10, url, { headers }));
    ctx.observe(`v1: ${c.v1}/10, v2: ${c.v2}/10`);
    ctx.expect(c.v1 === 10, '10 of 10 v1', `v1 ${c.v1}, v2 ${c.v2}, other ${c.other}`);
  });

  for (const [step, file, pct] of [
    ['13', 'ch5/catalog-vs-v2-10-90-mesh.yaml', 10],
    ['14', 'ch5/catalog-vs-v2-50-50-mesh.yaml', 50],
  ] as const) {
    s.step(step, `${file.slice(4)}: about ${pct} of 100 calls go to v2`, async (ctx) => {
      await ctx.lab(['apply', '-f', file, ...NS]);
      await ctx.lab(['get', 'vs', 'catalog', '-o', 'yaml', ...NS]);
      const n = 100;
      const c = countVersions(await repeat(n, url, { headers }));
      const { lo, hi } = binomialBounds(n, pct / 100);
      ctx.observe(`v2: ${c.v2}/${n} (expected ${pct}%; accepted ${lo}..${hi}, false-failure chance < 1e-6), v1: ${c.v1}, other: ${c.other}`);
      ctx.expect(c.other === 0, 'every response v1 or v2', `${c.other} other responses`);
      ctx.expect(c.v2 >= lo && c.v2 <= hi, `v2 count within ${lo}..${hi}`, String(c.v2));
    });
  }
  return s;
}
