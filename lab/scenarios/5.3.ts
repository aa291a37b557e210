/**
 * Chapter 5.3: steps 12-14 shift traffic by weights (random as Envoy's is, but seeded, and asserted
 * with exact binomial bounds whose false-failure chance is below one in a million); steps 15-19
 * automate the canary with Flagger's semantics, 45x faster than real time by default.
 */
import { countVersions, http, repeat } from '../lib/http.js';
import { SteadyLoad } from '../lib/load.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { LAB_BIN, ROOT } from '../lib/paths.js';
import { readLabInfo, readToken } from '../../src/controlplane/lab-home.js';
import { apiAuthHeaders } from '../../src/cli/client.js';
import { Scenario, dim, type StepContext } from '../lib/scenario.js';
import { callGraphSetup } from '../lib/setup.js';
import { binomialBounds } from '../lib/stats.js';
import type { LabRun } from '../lib/lab-run.js';

const NS = ['-n', 'istioinaction'];

export function scenario53(run: LabRun): Scenario {
  const url = `http://127.0.0.1:${run.ingressPort}/api/catalog`;
  const headers = { Host: 'webapp.istioinaction.io' };
  const s = new Scenario('5.3', 'Traffic shifting, manual and automated (Flagger)');

  s.step({
    id: 'setup',
    title: 'Where 5.2 ended: catalog v1 and v2, webapp behind the gateway, the DestinationRule',
    act: callGraphSetup(),
    check: async (ctx) => {
      const c = countVersions(await repeat(10, url, { headers }));
      ctx.observe(`v1: ${c.v1}/10, v2: ${c.v2}/10, other: ${c.other}`);
      ctx.split(c);
      ctx.expect(c.other === 0, 'every response v1 or v2', `${c.other} other responses`);
    },
  });

  s.step({
    id: '12',
    title: 'catalog-vs-v1-mesh: 10 of 10 responses are v1',
    act: [{ lab: ['apply', '-f', 'ch5/catalog-vs-v1-mesh.yaml', ...NS] }],
    check: async (ctx) => {
      const c = countVersions(await repeat(10, url, { headers }));
      ctx.observe(`v1: ${c.v1}/10, v2: ${c.v2}/10`);
      ctx.split(c, { v1: 100, v2: 0 });
      ctx.expect(c.v1 === 10, '10 of 10 v1', `v1 ${c.v1}, v2 ${c.v2}, other ${c.other}`);
    },
  });

  for (const [step, file, pct] of [
    ['13', 'ch5/catalog-vs-v2-10-90-mesh.yaml', 10],
    ['14', 'ch5/catalog-vs-v2-50-50-mesh.yaml', 50],
  ] as const) {
    s.step({
      id: step,
      title: `${file.slice(4)}: about ${pct} of 100 calls go to v2`,
      act: [{ lab: ['apply', '-f', file, ...NS] }, { lab: ['get', 'vs', 'catalog', '-o', 'yaml', ...NS] }],
      check: async (ctx) => {
        const n = 100;
        const c = countVersions(await repeat(n, url, { headers }));
        const { lo, hi } = binomialBounds(n, pct / 100);
        ctx.observe(`v2: ${c.v2}/${n} (expected ${pct}%; accepted ${lo}..${hi}, false-failure chance < 1e-6), v1: ${c.v1}, other: ${c.other}`);
        ctx.split(c, { v1: 100 - pct, v2: pct });
        ctx.expect(c.other === 0, 'every response v1 or v2', `${c.other} other responses`);
        ctx.expect(c.v2 >= lo && c.v2 <= hi, `v2 count within ${lo}..${hi}`, String(c.v2));
      },
    });
  }
  canarySteps(s, run, url, headers);
  return s;
}

interface CanaryView {
  phase?: string;
  canaryWeight?: number;
  failedChecks?: number;
}

async function canaryStatus(ctx: StepContext): Promise<CanaryView> {
  const out = await ctx.labOut(['get', 'canary', 'catalog-release', '-o', 'json', ...NS], true);
  return ((JSON.parse(out) as { status?: CanaryView }).status ?? {}) as CanaryView;
}

/**
 * `lab get canary catalog-release -w`, kept running: every status the controller writes arrives as
 * a row, so no (phase, weight) is missed however slowly a CLI process starts (at 45x an analysis
 * interval is one second; polling with a new CLI process per look missed steps on a loaded machine).
 */
class CanaryWatch {
  readonly seen: string[] = [];
  latest: CanaryView = {};
  private readonly child: ChildProcess;
  private waiters: Array<() => void> = [];

  constructor(ctx: StepContext) {
    console.log(dim('    $ lab get canary catalog-release -w -n istioinaction'));
    this.child = spawn(process.execPath, [LAB_BIN, 'get', 'canary', 'catalog-release', '-w', ...NS], { cwd: ROOT, env: ctx.env, stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        this.row(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
  }

  /** Rows have fixed-width columns (NAME, STATUS, WEIGHT, ...: 19 characters each). */
  private row(line: string): void {
    if (!line.startsWith('catalog-release')) return;
    const phase = line.slice(19, 38).trim();
    const weight = Number(line.slice(38, 57).trim() || 0);
    this.latest = { phase: phase || undefined, canaryWeight: weight };
    const label = `${phase || '-'} ${weight}`;
    if (this.seen[this.seen.length - 1] !== label) {
      this.seen.push(label);
      console.log(dim(`      ${line.trimEnd()}`));
    }
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once the latest status satisfies `until`, or at the deadline (bounded). */
  async until(until: (v: CanaryView) => boolean, timeoutMs: number): Promise<CanaryView> {
    const deadline = Date.now() + timeoutMs;
    while (!until(this.latest) && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(0, Math.min(1000, deadline - Date.now())));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.latest;
  }

  stop(): void {
    this.child.kill();
  }
}

/**
 * The control plane's pod watch (what `lab get po -w` reads), followed in-process: it hands over
 * the canary pod's address (catalog-<hash>-..., not the primary) the moment the pod is ready. At
 * 45x the canary moves a step a second; looking for the pod with repeated `lab get po` on a loaded
 * machine found it only near the canary's last step, and the failure was injected too late.
 */
class CanaryPodWatch {
  private readonly abort = new AbortController();
  private ip = '';
  private waiters: Array<() => void> = [];

  constructor(home: string) {
    const info = readLabInfo(home);
    if (!info) throw new Error(`no lab in ${home}`);
    void (async () => {
      const res = await fetch(`${info.api}/watch?${new URLSearchParams({ kind: 'Pod', namespace: 'istioinaction' })}`, { headers: apiAuthHeaders(readToken(home)), signal: this.abort.signal });
      let buf = '';
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const ev = JSON.parse(buf.slice(0, nl)) as { type: string; object: { metadata: { name: string }; status?: { podIP?: string; ready?: boolean } } };
          buf = buf.slice(nl + 1);
          const { metadata, status } = ev.object;
          if (ev.type !== 'DELETED' && /^catalog-(?!primary-|v2-)/.test(metadata.name) && status?.ready && status.podIP) {
            this.ip = status.podIP;
            for (const w of this.waiters.splice(0)) w();
          }
        }
      }
    })().catch(() => {});
  }

  /** The ready canary pod's address, or '' at the deadline. */
  async readyPodIP(timeoutMs: number): Promise<string> {
    if (!this.ip) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, timeoutMs);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.ip;
  }

  stop(): void {
    this.abort.abort();
  }
}

async function followCanary(ctx: StepContext, until: (v: CanaryView) => boolean, timeoutMs: number): Promise<{ final: CanaryView; seen: string[] }> {
  const w = new CanaryWatch(ctx);
  try {
    const final = await w.until(until, timeoutMs);
    return { final, seen: w.seen };
  } finally {
    w.stop();
  }
}

async function names(ctx: StepContext, kinds: string): Promise<string[]> {
  return (await ctx.labOut(['get', kinds, '-o', 'name', ...NS], true)).split('\n').filter(Boolean);
}

function canarySteps(s: Scenario, run: LabRun, url: string, headers: Record<string, string>): void {
  const scaled = (ms: number) => ms / run.timeScale;

  s.step({
    id: '15',
    title: 'Reset for Flagger: delete the catalog VirtualService, catalog-v2, the catalog Service and DestinationRule; install the canary controller',
    act: [
      { lab: ['delete', 'virtualservice', 'catalog', ...NS] },
      { lab: ['delete', 'deploy', 'catalog-v2', ...NS] },
      { lab: ['delete', 'service', 'catalog', ...NS] },
      { lab: ['delete', 'destinationrule', 'catalog', ...NS] },
      { lab: ['install', 'flagger'] },
    ],
    check: async (ctx) => {
      const deploys = await names(ctx, 'deploy');
      ctx.observe(deploys.join(', '));
      ctx.expect(deploys.includes('deployment.apps/catalog') && !deploys.includes('deployment.apps/catalog-v2'), 'catalog kept, catalog-v2 gone', deploys.join(', '));
    },
  });

  s.step({
    id: '16',
    title: 'Canary catalog-release: the controller generates primary, services, DestinationRules and the VirtualService; status Initialized',
    act: [{ lab: ['apply', '-f', 'ch5/flagger/catalog-release.yaml', ...NS] }],
    check: async (ctx) => {
      const { final } = await followCanary(ctx, (v) => v.phase === 'Initialized', scaled(60_000) + 15_000);
      const objs = await names(ctx, 'deploy,svc,dr,vs');
      const vs = JSON.parse(await ctx.labOut(['get', 'vs', 'catalog', '-o', 'json', ...NS])) as { spec: { http: Array<{ match?: unknown[]; route: Array<{ destination: { host: string }; weight: number }> }> } };
      const catalog = JSON.parse(await ctx.labOut(['get', 'deploy', 'catalog', '-o', 'json', ...NS], true)) as { spec: { replicas: number } };
      ctx.observe(`status ${final.phase}; ${objs.join(', ')}`);
      ctx.observe(`VirtualService catalog: ${JSON.stringify(vs.spec.http)}`);
      ctx.expect(final.phase === 'Initialized', 'status Initialized', String(final.phase));
      for (const want of ['deployment.apps/catalog-primary', 'service/catalog', 'service/catalog-primary', 'service/catalog-canary', 'destinationrule.networking.istio.io/catalog-primary', 'destinationrule.networking.istio.io/catalog-canary', 'virtualservice.networking.istio.io/catalog']) {
        ctx.expect(objs.includes(want), `${want} generated`, objs.join(', '));
      }
      const [matched, rest] = vs.spec.http;
      ctx.expect(
        JSON.stringify(matched?.match) === JSON.stringify([{ sourceLabels: { app: 'webapp' } }]) && matched!.route.map((r) => `${r.destination.host}:${r.weight}`).join(',') === 'catalog-primary:100,catalog-canary:0' && rest?.route[0]?.weight === 100,
        'a sourceLabels app=webapp route with primary 100 / canary 0, then primary 100',
        JSON.stringify(vs.spec.http),
      );
      ctx.expect(catalog.spec.replicas === 0, 'catalog scaled to 0', String(catalog.spec.replicas));
    },
  });

  // Steps 17 and 18 act under steady load while following the canary; their checks read what the
  // act recorded, so they are watched rather than done by hand.
  let load: SteadyLoad | undefined;
  let final: CanaryView = {};
  let seen: string[] = [];
  s.step({
    id: '17',
    title: 'New revision under steady load: Progressing 10..50, Promoting, Finalising, Succeeded; then every response is v2',
    act: [
      {
        show: 'lab apply -f ch5/flagger/catalog-deployment-v2.yaml   # under steady load, following the canary',
        run: async (ctx) => {
          load = new SteadyLoad(url, { headers }, 50);
          try {
            const watch = new CanaryWatch(ctx);
            try {
              await watch.until((v) => v.phase !== undefined, 20_000);
              await ctx.lab(['apply', '-f', 'ch5/flagger/catalog-deployment-v2.yaml', ...NS]);
              // The controller notices the new revision at its next tick; only then can it finish.
              await watch.until((v) => v.phase === 'Progressing', scaled(2 * 45_000) + 20_000);
              final = await watch.until((v) => v.phase === 'Succeeded' || v.phase === 'Failed', scaled(12 * 45_000) + 20_000);
              seen = watch.seen;
            } finally {
              watch.stop();
            }
            ctx.observe(`transitions: ${seen.join(' -> ')}`);
            const events = (await ctx.labOut(['logs', 'deploy/flagger', '-n', 'istio-system'])).split('\n').map((l) => (l ? (JSON.parse(l) as { msg: string }).msg : ''));
            const wanted = ['New revision detected! Scaling up catalog.istioinaction', 'Starting canary analysis for catalog.istioinaction', 'Advance catalog-release.istioinaction canary weight 10', 'Advance catalog-release.istioinaction canary weight 50', 'Copying catalog.istioinaction template spec to catalog-primary.istioinaction', 'Routing all traffic to primary', 'Promotion completed! Scaling down catalog.istioinaction'];
            for (const w of wanted) ctx.expect(events.includes(w), `flagger log: "${w}"`, events.filter(Boolean).slice(-8).join(' | '));
            ctx.expect(final.phase === 'Succeeded', 'status Succeeded', `${final.phase} (${seen.join(' -> ')})`);
            for (const w of ['Progressing 10', 'Progressing 20', 'Progressing 30', 'Progressing 40', 'Progressing 50', 'Promoting 50', 'Finalising 0', 'Succeeded 0']) {
              ctx.expect(seen.includes(w), `a "${w}" transition`, seen.join(' -> '));
            }
          } finally {
            await load.stop();
          }
        },
      },
    ],
    check: async (ctx) => {
      const results = load?.results ?? [];
      const failed = results.filter((r) => r.status !== 200).length;
      ctx.observe(`${results.length} requests during the rollout, ${failed} failed`);
      const c = countVersions(await repeat(10, url, { headers }));
      ctx.observe(`after promotion: v2 ${c.v2}/10`);
      ctx.split(c, { v1: 0, v2: 100 });
      ctx.expect(failed === 0, 'no failed request during the rollout', String(failed));
      ctx.expect(c.v2 === 10, 'every response v2', `v1 ${c.v1}, v2 ${c.v2}, other ${c.other}`);
    },
  });

  s.step({
    id: '18',
    title: 'A failing revision (the catalog\'s /blowup answers 500 for 75% of requests): checks fail up to the threshold, rollback, status Failed',
    act: [
      {
        show: 'lab apply -f ch5/flagger/catalog-deployment-v1.yaml   # under steady load; then the canary pod answers 500 to 75%',
        run: async (ctx) => {
          const load = new SteadyLoad(url, { headers }, 50);
          const watch = new CanaryWatch(ctx);
          const pods = new CanaryPodWatch(run.home);
          try {
            await watch.until((v) => v.phase !== undefined, 20_000);
            await ctx.lab(['apply', '-f', 'ch5/flagger/catalog-deployment-v1.yaml', ...NS]);
            // Until the controller's next tick the status still says Succeeded (step 17's); wait for it to
            // pick up the new revision first.
            const started = await watch.until((v) => v.phase === 'Progressing', scaled(2 * 45_000) + 20_000);
            ctx.expect(started.phase === 'Progressing', 'the new revision detected (Progressing)', String(started.phase));
            // The new revision's pod, then the book's failure injection sent to it.
            console.log(dim('    $ lab get po -w -n istioinaction   # until the canary pod is ready'));
            const ip = await pods.readyPodIP(20_000);
            ctx.expect(ip !== '', 'a ready canary pod', 'none');
            const inject = await http(`http://${ip}:3000/blowup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"500","percentage":75}' });
            ctx.expect(inject.status === 200, 'blowup accepted', `${inject.status} ${inject.body}`);
            await watch.until((v) => v.phase === 'Failed' || v.phase === 'Succeeded', scaled(15 * 45_000) + 20_000);
            seen = watch.seen;
            // The whole status (failed checks and all), as -o json shows it.
            final = await canaryStatus(ctx);
          } finally {
            pods.stop();
            watch.stop();
            await load.stop();
          }
        },
      },
    ],
    check: async (ctx) => {
      const events = (await ctx.labOut(['logs', 'deploy/flagger', '-n', 'istio-system', '--tail', '12'])).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { msg: string }).msg);
      const catalog = JSON.parse(await ctx.labOut(['get', 'deploy', 'catalog', '-o', 'json', ...NS], true)) as { spec: { replicas: number } };
      ctx.observe(`transitions: ${seen.join(' -> ')}; failed checks ${final.failedChecks}`);
      ctx.observe(`flagger: ${events.filter((e) => e.startsWith('Halt') || e.startsWith('Rolling') || e.startsWith('Canary failed')).slice(-3).join(' | ')}`);
      ctx.expect(final.phase === 'Failed' && final.canaryWeight === 0, 'status Failed with weight 0', `${final.phase} ${final.canaryWeight}`);
      ctx.expect((final.failedChecks ?? 0) >= 5, 'failed checks reached the threshold (5)', String(final.failedChecks));
      ctx.expect(events.some((e) => e.startsWith('Rolling back catalog.istioinaction failed checks threshold reached')), 'a "Rolling back" event', events.join(' | '));
      ctx.expect(catalog.spec.replicas === 0, 'the canary scaled to 0', String(catalog.spec.replicas));
      const c = countVersions(await repeat(10, url, { headers }));
      ctx.observe(`after rollback: v2 (the primary, the old version) ${c.v2}/10`);
      ctx.split(c, { v1: 0, v2: 100 });
      ctx.expect(c.v2 === 10, 'every response from the primary (v2)', `v1 ${c.v1}, v2 ${c.v2}, other ${c.other}`);
    },
  });

  s.step({
    id: '19',
    title: 'Deleting the Canary removes what the controller generated',
    act: [{ lab: ['delete', 'canary', 'catalog-release', ...NS] }],
    check: async (ctx) => {
      const objs = await names(ctx, 'deploy,svc,dr,vs');
      ctx.observe(objs.join(', '));
      const generated = objs.filter((o) => /catalog-primary|catalog-canary|service\/catalog$|virtualservice.networking.istio.io\/catalog$/.test(o));
      ctx.expect(generated.length === 0, 'no generated objects left', generated.join(', '));
    },
  });
}
