/**
 * Chapter 5.4, steps 20-21: mirroring. Clients only ever see v1; catalog-v2 gets one shadow copy of
 * each request, with `-shadow` on the authority; a slow mirror slows nobody.
 */
import { accessLog, describe } from '../lib/logs.js';
import { countVersions, http, repeat } from '../lib/http.js';
import { Scenario, type StepContext } from '../lib/scenario.js';
import { callGraphSetup } from '../lib/setup.js';
import type { LabRun } from '../lib/lab-run.js';

const NS = ['-n', 'istioinaction'];

async function shadowLines(ctx: StepContext): Promise<string[]> {
  const out = await ctx.labOut(['logs', 'deploy/catalog-v2', ...NS]);
  return out.split('\n').filter((l) => / catalog\.istioinaction-shadow:80 \/items /.test(l));
}

async function podIP(ctx: StepContext, selector: string): Promise<string> {
  const out = await ctx.labOut(['get', 'po', '-l', selector, '-o', 'json', ...NS], true);
  return (JSON.parse(out) as { items: Array<{ status: { podIP: string } }> }).items[0]!.status.podIP;
}

export function scenario54(run: LabRun): Scenario {
  const url = `http://127.0.0.1:${run.ingressPort}/api/catalog`;
  const headers = { Host: 'webapp.istioinaction.io' };
  const s = new Scenario('5.4', 'Traffic mirroring');

  s.step({
    id: '20',
    title: 'Setup: catalog Service, v1 and v2 Deployments, DestinationRule, catalog-vs-v1-mesh; only v1 gets traffic',
    act: [
      ...callGraphSetup(['services/catalog/kubernetes/catalog-svc.yaml', 'services/catalog/kubernetes/catalog-deployment.yaml', 'services/catalog/kubernetes/catalog-deployment-v2.yaml']),
      { lab: ['apply', '-f', 'ch5/catalog-vs-v1-mesh.yaml', ...NS] },
    ],
    check: async (ctx) => {
      const c = countVersions(await repeat(5, url, { headers }));
      const v2log = await accessLog(ctx, 'catalog-v2');
      ctx.observe(`v1: ${c.v1}/5; catalog-v2 sidecar log: ${v2log.length} requests`);
      ctx.split(c, { v1: 100, v2: 0 });
      ctx.expect(c.v1 === 5, '5 of 5 v1', `v1 ${c.v1}, v2 ${c.v2}`);
      ctx.expect(v2log.length === 0, 'no traffic to catalog-v2', `${v2log.length} lines`);
    },
  });

  s.step({
    id: '21',
    title: 'catalog-vs-v2-mirror: clients get v1; catalog-v2 logs one -shadow copy per request',
    act: [{ lab: ['apply', '-f', 'ch5/catalog-vs-v2-mirror.yaml', ...NS] }],
    check: async (ctx) => {
      const n = 10;
      const results = await repeat(n, url, { headers });
      const c = countVersions(results);
      // Mirrors are fire-and-forget: wait (bounded) until the copies have been logged.
      let shadows: string[] = [];
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && (shadows = await shadowLines(ctx)).length < n) await new Promise((r) => setTimeout(r, 100));
      const lines = (await accessLog(ctx, 'catalog-v2')).filter((l) => l.authority === 'catalog.istioinaction-shadow:80');
      ctx.observe(`client: v1 ${c.v1}/${n}, v2 ${c.v2}/${n}; catalog-v2 app log: ${shadows.length} lines with catalog.istioinaction-shadow:80`);
      if (shadows[0]) ctx.observe(`e.g. ${shadows[0]}`);
      ctx.observe(`catalog-v2 sidecar: ${describe(lines[0])}, x-forwarded-for "${lines[0]?.xForwardedFor}"`);
      ctx.split(c, { v1: 100, v2: 0 });
      ctx.logLine('catalog-v2 (the mirrored copy)', lines[0]);
      ctx.expect(c.v1 === n, `${n} of ${n} v1 responses`, `v1 ${c.v1}, v2 ${c.v2}, other ${c.other}`);
      ctx.expect(shadows.length === n, `exactly ${n} shadow requests at catalog-v2`, String(shadows.length));
      ctx.expect(lines.length === n, `${n} shadow lines in catalog-v2's sidecar log`, String(lines.length));
    },
  });

  s.step({
    id: '21b',
    title: 'A mirror that answers after 2 s does not slow or fail the client',
    act: [
      {
        show: "curl -X POST -d '{\"type\":\"latency\",\"latencyMs\":2000,\"volatile\":false}' http://<catalog-v2 pod>:3000/blowup",
        run: async (ctx) => {
          const v2 = await podIP(ctx, 'version=v2');
          // The book's failure injection, sent straight to the v2 pod.
          const inject = await http(`http://${v2}:3000/blowup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"latency","latencyMs":2000,"volatile":false}' });
          ctx.expect(inject.status === 200, 'blowup accepted', `HTTP ${inject.status} ${inject.body}`);
        },
      },
    ],
    check: async (ctx) => {
      const v2 = await podIP(ctx, 'version=v2');
      const times: number[] = [];
      let ok = 0;
      console.log(`    $ for i in $(seq 5); do curl -s -o /dev/null -w '%{http_code} %{time_total}\\n' -H 'Host: webapp.istioinaction.io' ${url}; done`);
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const r = await http(url, { headers, print: false });
        times.push(performance.now() - t0);
        if (r.status === 200 && countVersions([r]).v1 === 1) ok++;
      }
      await http(`http://${v2}:3000/blowup`, { method: 'DELETE' });
      const worst = Math.max(...times);
      ctx.observe(`5 calls: ${ok} x 200 v1; slowest ${worst.toFixed(0)} ms (the mirror takes 2000 ms)`);
      ctx.expect(ok === 5, '5 successful v1 responses', `${ok}`);
      ctx.expect(worst < 1000, 'every call well under the mirror latency of 2 s', `${worst.toFixed(0)} ms`);
    },
  });
  return s;
}
