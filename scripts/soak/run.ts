/**
 * `npm run test:soak` — the soak test (issue 15, "Reliability"): a real lab with the chapter's
 * call graph (ingress gateway -> webapp -> catalog v1, every request mirrored to catalog v2),
 * an open-loop load at a fixed rate for a long time, the catalog VirtualService applied again
 * and again (two valid tables in turn, both mirroring), and every proxy's resident memory and
 * open descriptors sampled from its admin endpoint throughout. It passes when, after the
 * warm-up, no proxy's memory grows beyond the bound (scripts/soak/analysis.ts says why a fitted
 * line), every proxy is back to the descriptors it held before the load (plus a small slack)
 * once the load has stopped and idle connections have timed out, no proxy restarted, no apply
 * failed, no request failed, and at least 95% of the target rate was answered; it exits non-zero
 * otherwise and says which.
 *
 *   --duration D      how long the load runs (Go duration; default $SOAK_DURATION or 10m; CI: 75s)
 *   --rate N          requests per second (default $SOAK_RATE or 500)
 *   --runtime R       local or docker (default $LAB_RUNTIME or local)
 *   --apply-every D   time between VirtualService applies (default 2s)
 *   --sample-every D  time between samples of every proxy (default 2s)
 *   --warmup F        share of the run before growth counts (default 0.2; at least 40 s, or half
 *                     of a shorter run)
 *   --connections N   keep-alive connections of the load (default 32)
 *   --out DIR         where soak.json goes (default: a new folder in the system's temp dir)
 *   --keep            keep the lab's folder (logs) even when the soak passes
 *
 * Everything runs on loopback (or the lab's own containers) and is torn down afterwards.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseGoDuration } from '../../src/config/duration.js';
import { loadManifestPaths } from '../../src/config/manifest.js';
import { readLabInfo } from '../../src/controlplane/lab-home.js';
import { readAgentInfo } from '../../src/runtime/local/agent-protocol.js';
import { DEFAULT_BOUNDS, judgeLoad, judgeProcess, type ProcessSample, type ProcessVerdict } from './analysis.js';
import { cpuByProcess, cpuReport, cpuSeconds, labProcesses, machineTicks, procSample, type CpuSnapshot, type LabProcess } from './lab-processes.js';
import type { LoadResult, LoadSecond, SoakLoadJob } from './loadgen.js';
import {
  CALL_GRAPH,
  getThroughIngress,
  halfMirrorFile,
  MIRROR_VS,
  PATH,
  podRestarts,
  proxies,
  proxyStats,
  ROOT,
  settleFds,
  sleep,
  SoakLab,
  waitFor,
  WEBAPP_HOST,
  type ProxyStats,
} from './soak-lab.js';

const HERE = dirname(fileURLToPath(import.meta.url));

const USAGE = `Usage: npm run test:soak [-- --duration 10m] [--rate 500] [--runtime local|docker] [--apply-every 2s]
       [--sample-every 2s] [--warmup 0.2] [--connections 32] [--out DIR] [--keep]`;

const MIN_WARMUP_SECONDS = 40;
interface Options {
  durationMs: number;
  rate: number;
  runtime: 'local' | 'docker';
  applyEveryMs: number;
  sampleEveryMs: number;
  warmup: number;
  connections: number;
  out: string;
  keep: boolean;
}

function duration(name: string, text: string): number {
  const ms = parseGoDuration(text);
  if (ms === undefined || ms <= 0) throw new Error(`--${name}: ${JSON.stringify(text)} is not a positive duration (e.g. 90s, 10m)`);
  return ms;
}

function options(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: process.env.SOAK_DURATION ?? '10m' },
      rate: { type: 'string', default: process.env.SOAK_RATE ?? '500' },
      runtime: { type: 'string', default: process.env.LAB_RUNTIME ?? 'local' },
      'apply-every': { type: 'string', default: '2s' },
      'sample-every': { type: 'string', default: '2s' },
      warmup: { type: 'string', default: '0.2' },
      connections: { type: 'string', default: '32' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return undefined;
  }
  const rate = Number(values.rate);
  const warmup = Number(values.warmup);
  const connections = Number(values.connections);
  if (!(rate > 0)) throw new Error(`--rate: ${values.rate} is not a positive number`);
  if (!(warmup >= 0 && warmup < 0.9)) throw new Error(`--warmup: ${values.warmup} is not a share between 0 and 0.9`);
  if (!Number.isInteger(connections) || connections < 1) throw new Error(`--connections: ${values.connections} is not a positive integer`);
  if (values.runtime !== 'local' && values.runtime !== 'docker') throw new Error(`--runtime: ${values.runtime} is neither local nor docker`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    durationMs: duration('duration', values.duration!),
    rate,
    runtime: values.runtime,
    applyEveryMs: duration('apply-every', values['apply-every']!),
    sampleEveryMs: duration('sample-every', values['sample-every']!),
    warmup,
    connections,
    out: resolve(values.out ?? join(tmpdir(), `istio-lab-soak-${stamp}`)),
    keep: values.keep!,
  };
}


function startLoad(job: SoakLoadJob, onSecond: (s: LoadSecond) => void): { child: ChildProcess; result: Promise<LoadResult> } {
  const child = fork(join(HERE, 'loadgen.js'), [JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = new Promise<LoadResult>((resolveResult, reject) => {
    child.on('message', (m: LoadSecond | LoadResult | { type: 'error'; message: string }) => {
      if (m.type === 'second') onSecond(m);
      else if (m.type === 'result') resolveResult(m);
      else reject(new Error(`load generator: ${m.message}`));
    });
    child.once('exit', (code) => reject(new Error(`load generator exited (code ${code}) without a result`)));
  });
  return { child, result };
}

const mb = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(1));
const n = (v: number | undefined) => (v === undefined ? '-' : String(v));

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const o = options(process.argv.slice(2));
  if (!o) return 0;
  mkdirSync(o.out, { recursive: true });
  const seconds = o.durationMs / 1000;
  // A fresh proxy's RSS climbs for its first 30-40 s under load (heap and code caches filling, the
  // old generation's first cycles) before it levels off; a short run's window starts after that.
  const warmupSeconds = Math.max(seconds * o.warmup, Math.min(MIN_WARMUP_SECONDS, seconds / 2));
  console.log(
    `soak: ${seconds} s at ${o.rate} req/s on the ${o.runtime} runtime, VirtualService applied every ${o.applyEveryMs / 1000} s, ` +
      `samples every ${o.sampleEveryMs / 1000} s, warm-up ${warmupSeconds.toFixed(0)} s; ${cpus().length} cores, load average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
  );

  const lab = new SoakLab();
  let passed = false;
  let load: ChildProcess | undefined;
  const interrupted = () => {
    load?.kill('SIGKILL');
    void lab.down().then(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await lab.up(o.runtime);
    const applyArgs = CALL_GRAPH.flatMap((f) => ['-f', f]);
    await lab.cli('apply', ...applyArgs, '-n', 'istioinaction');
    await waitFor('the call graph to answer through the ingress', 120_000, async () => {
      const res = await getThroughIngress(lab.ingressPort);
      return res.status === 200 && res.body.startsWith('[') ? true : undefined;
    });
    const mesh = await proxies(lab);
    const webapp = mesh.find((p) => p.key.includes('webapp'));
    if (!webapp) throw new Error(`no webapp proxy among ${mesh.map((p) => p.key).join(', ')}`);
    // Mirroring is on: webapp's sidecar has sent copies of the requests above.
    await waitFor("webapp's sidecar to mirror a request", 30_000, async () => {
      await getThroughIngress(lab.ingressPort);
      return (await proxyStats(webapp)).mirror_sent! > 0 ? true : undefined;
    });
    const restartsBefore = await podRestarts(lab);
    const fdsBefore = new Map<string, number | undefined>();
    for (const p of mesh) fdsBefore.set(p.key, (await proxyStats(p)).process_open_fds);
    console.log(`lab ${lab.home}: ${mesh.length} proxies (${mesh.map((p) => p.key).join(', ')}), ${restartsBefore.size} pods`);

    const tables = [loadManifestPaths([join(ROOT, MIRROR_VS)]), loadManifestPaths([halfMirrorFile(lab.home)])];
    for (const t of tables) if (t.errors.length > 0) throw new Error(t.errors.map((e) => e.message).join('\n'));

    // The run: load, applies and samples side by side until the load's last answer.
    const samples = new Map<string, ProcessSample[]>(mesh.map((p) => [p.key, []]));
    const controlPlane: ProcessSample[] = [];
    const cpPid = o.runtime === 'local' ? readLabInfo(lab.home)?.pid : undefined;
    const firstStats = new Map<string, ProxyStats>();
    const lastStats = new Map<string, ProxyStats>();
    const counterWentBack = new Set<string>();
    const sampleErrors: string[] = [];
    const applies: Array<{ t: number; ms: number; table: number; error?: string }> = [];
    const timeline: LoadSecond[] = [];
    const t0 = performance.now();
    const since = () => (performance.now() - t0) / 1000;
    let running = true;

    const job: SoakLoadJob = {
      host: '127.0.0.1',
      port: lab.ingressPort,
      path: PATH,
      hostHeader: WEBAPP_HOST,
      rate: o.rate,
      durationMs: o.durationMs,
      connections: o.connections,
      timeoutMs: 10_000,
      maxOutstanding: Math.max(1000, o.rate * 2),
      idPrefix: 'soak',
    };
    // Local runtime: every process of the lab, for what a request costs in CPU after the warm-up.
    const agentPid = cpPid ? readAgentInfo(lab.home)?.pid : undefined;
    const procs: LabProcess[] = cpPid ? labProcesses(cpPid, agentPid) : [];
    let cpuAtWarmup: CpuSnapshot | undefined;
    const snapshot = (t: number): CpuSnapshot => ({
      t,
      byProcess: cpuByProcess(procs),
      generator: load?.pid ? cpuSeconds(load.pid) : undefined,
      machine: machineTicks(),
    });
    const started = startLoad(job, (s) => {
      timeline.push(s);
      if (s.second % 30 === 29) {
        const rss = [...samples.entries()].map(([k, v]) => `${k.split('/').pop()!.replace(/-[a-z0-9]+-[a-z0-9]+$/, '')} ${mb((v.at(-1)?.rssBytes ?? NaN) / 2 ** 20)}`);
        console.log(`  ${s.second + 1} s: ${s.ok} ok, ${s.failed} failed, ${s.skipped} not sent, p99 ${s.p99Ms.toFixed(1)} ms; applies ${applies.length}; RSS MB ${rss.join(', ')}`);
      }
    });
    load = started.child;

    const sampling = (async () => {
      while (running) {
        const t = since();
        await Promise.all(
          mesh.map(async (p) => {
            try {
              const s = await proxyStats(p);
              const before = lastStats.get(p.key);
              // A counter going backwards is a new process: a restart the samples would hide.
              if (before && (s.mirror_sent ?? 0) < (before.mirror_sent ?? 0)) counterWentBack.add(p.key);
              if (!firstStats.has(p.key)) firstStats.set(p.key, s);
              lastStats.set(p.key, s);
              samples.get(p.key)!.push({ t, rssBytes: s.process_resident_memory_bytes!, heapUsedBytes: s.process_heap_used_bytes, fds: s.process_open_fds });
            } catch (err) {
              sampleErrors.push(`${t.toFixed(0)} s ${p.key}: ${(err as Error).message}`);
            }
          }),
        );
        if (cpPid) {
          const s = procSample(cpPid, t);
          if (s) controlPlane.push(s);
          if (!cpuAtWarmup && t >= warmupSeconds) cpuAtWarmup = snapshot(t);
        }
        await sleep(Math.max(0, o.sampleEveryMs - (since() - t) * 1000));
      }
    })();

    const applying = (async () => {
      for (let i = 0; running; i++) {
        await sleep(o.applyEveryMs);
        if (!running) break;
        const t = since();
        const which = (i + 1) % 2;
        try {
          await lab.api.call('POST', '/apply', { documents: tables[which]!.documents, namespace: 'istioinaction' });
          applies.push({ t, ms: (since() - t) * 1000, table: which });
        } catch (err) {
          applies.push({ t, ms: (since() - t) * 1000, table: which, error: (err as Error).message });
        }
      }
    })();

    const result = await started.result;
    const cpuAtEnd = cpPid ? snapshot(since()) : undefined;
    running = false;
    await Promise.all([sampling, applying]);
    const loadEnded = since();
    const fdsSettled = await settleFds(mesh, fdsBefore, DEFAULT_BOUNDS.fdSlack);
    const settleSeconds = since() - loadEnded;
    const restartsAfter = await podRestarts(lab);
    const finalMesh = await proxies(lab);

    // Verdicts.
    const restarted = new Set<string>(counterWentBack);
    for (const [pod, r] of restartsAfter) if (r > (restartsBefore.get(pod) ?? 0)) restarted.add(pod);
    // A proxy's key is its pod's namespace/name.
    const verdicts: ProcessVerdict[] = mesh.map((p) =>
      judgeProcess(p.key, samples.get(p.key)!, warmupSeconds, DEFAULT_BOUNDS, {
        restarted: restarted.has(p.key),
        fdsBefore: fdsBefore.get(p.key),
        fdsSettled: fdsSettled.get(p.key),
      }),
    );
    const cpVerdict = controlPlane.length > 0 ? judgeProcess('control plane (not judged)', controlPlane, warmupSeconds) : undefined;
    const problems: string[] = [];
    problems.push(
      ...judgeLoad({ targetRps: o.rate, seconds: result.seconds, scheduled: result.scheduled, ok: result.ok, failed: result.failed, skipped: result.skipped, failures: result.failures }),
    );
    for (const v of verdicts) for (const p of v.problems) problems.push(`${v.name}: ${p}`);
    const failedApplies = applies.filter((a) => a.error);
    if (failedApplies.length > 0) problems.push(`${failedApplies.length} of ${applies.length} applies failed (first: ${failedApplies[0]!.error})`);
    if (applies.length === 0) problems.push('no VirtualService was applied during the run');
    if (finalMesh.some((p) => p.lastError)) problems.push(`proxies with push errors: ${finalMesh.filter((p) => p.lastError).map((p) => `${p.key}: ${p.lastError}`).join('; ')}`);
    if (sampleErrors.length > 0) problems.push(`${sampleErrors.length} samples could not be read (first: ${sampleErrors[0]})`);
    const mirrors = {
      sent: (lastStats.get(webapp.key)?.mirror_sent ?? 0) - (firstStats.get(webapp.key)?.mirror_sent ?? 0),
      dropped: (lastStats.get(webapp.key)?.mirror_dropped ?? 0) - (firstStats.get(webapp.key)?.mirror_dropped ?? 0),
    };
    if (mirrors.sent === 0) problems.push('no request was mirrored during the run');
    passed = problems.length === 0;

    // Report.
    const takes = applies.map((a) => a.ms).sort((a, b) => a - b);
    console.log('');
    console.log(
      `requests: ${result.scheduled} scheduled, ${result.ok} answered 200 with a v1 body, ${result.failed} failed, ${result.skipped} not sent; ` +
        `${result.achievedRps.toFixed(1)} req/s over ${result.seconds.toFixed(0)} s (target ${o.rate}); latency p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, ` +
        `p99.9 ${result.p999Ms.toFixed(1)} ms, max ${result.maxMs.toFixed(0)} ms; ${result.socketsOpened} client connections opened`,
    );
    if (result.failed > 0) console.log(`failures: ${JSON.stringify(result.failures)}; first: ${JSON.stringify(result.examples.slice(0, 5))}`);
    console.log(
      `applies: ${applies.length} (${failedApplies.length} failed), p50 ${mb(takes[Math.floor(takes.length / 2)])} ms, max ${mb(takes.at(-1))} ms; ` +
        `webapp's sidecar mirrored ${mirrors.sent} requests to catalog v2 (${mirrors.dropped} dropped at its bound)`,
    );
    const cpu =
      cpuAtWarmup && cpuAtEnd
        ? cpuReport(
            cpuAtWarmup,
            cpuAtEnd,
            timeline.filter((s) => s.second >= Math.ceil(cpuAtWarmup!.t)).reduce((sum, s) => sum + s.ok, 0),
            cpus().length,
          )
        : undefined;
    if (cpu) {
      const top = cpu.msPerRequest.filter((r) => r.ms >= 0.01).map((r) => `${r.name.replace(/^istio[a-z-]*\//, '').replace(/-[0-9a-f]{10}-[0-9a-z]{5}\//, '/')} ${r.ms.toFixed(2)}`);
      console.log(
        `CPU after the warm-up: the lab used ${cpu.labCores.toFixed(2)} cores, the load generator ${cpu.generatorCores?.toFixed(2) ?? '-'}, ` +
          `the whole machine ${cpu.machineBusyCores?.toFixed(2) ?? '-'} of ${cpus().length} (the rest is other work on it); ` +
          `${cpu.totalMsPerRequest.toFixed(2)} ms of lab CPU per request: ${top.join(', ')}`,
      );
    }
    const maxCpu = Math.max(0, ...timeline.map((s) => s.clientCpu));
    if (maxCpu > 0.8) console.log(`note: the load generator itself used up to ${(maxCpu * 100).toFixed(0)}% of a core in a second`);
    console.log('');
    const rows = [...verdicts, ...(cpVerdict ? [cpVerdict] : [])].map((v) => [
      v.name,
      mb(v.rssStartMB),
      mb(v.rssEndMB),
      mb(v.rssMaxMB),
      `${v.rssGrowthMB >= 0 ? '+' : ''}${v.rssGrowthMB.toFixed(1)}`,
      v.rssSlopeMBPerMin.toFixed(2),
      mb(v.rssBoundMB),
      `${n(v.fdsStart)} -> ${n(v.fdsEnd)} (max ${n(v.fdsMax)})`,
      `${n(v.fdsBefore)} / ${n(v.fdsSettled)}`,
      v.name.includes('not judged') ? '' : v.problems.length ? 'FAIL' : 'ok',
    ]);
    console.log(
      `after the warm-up (${warmupSeconds.toFixed(0)} s), RSS in MB (growth: the fitted line over the window) and open fds under load; ` +
        `open fds before the load / once idle after it (${settleSeconds.toFixed(0)} s after the load stopped; allowed +${DEFAULT_BOUNDS.fdSlack}):`,
    );
    console.log(table(['process', 'RSS start', 'end', 'max', 'growth', 'MB/min', 'bound', 'fds under load', 'before / idle', ''], rows));
    console.log('');
    const out = join(o.out, 'soak.json');
    writeFileSync(
      out,
      JSON.stringify(
        {
          passed,
          problems,
          options: { ...o, out: undefined },
          machine: { cores: cpus().length, loadavgAtEnd: loadavg(), node: process.version },
          bounds: DEFAULT_BOUNDS,
          warmupSeconds,
          fdsSettleSeconds: settleSeconds,
          load: result,
          applies: { count: applies.length, failed: failedApplies.length, p50Ms: takes[Math.floor(takes.length / 2)], maxMs: takes.at(-1), errors: failedApplies.slice(0, 10) },
          mirrors,
          restarted: [...restarted],
          proxies: verdicts,
          controlPlane: cpVerdict,
          cpu,
          samples: Object.fromEntries(samples),
          controlPlaneSamples: controlPlane,
          timeline,
          sampleErrors: sampleErrors.slice(0, 20),
        },
        null,
        1,
      ),
    );
    console.log(`results: ${out}`);
    if (passed) console.log('PASS');
    else {
      console.log(`FAIL:\n  ${problems.join('\n  ')}`);
      console.log(`lab state (logs) kept in ${lab.home}`);
    }
    return passed ? 0 : 1;
  } finally {
    load?.kill('SIGKILL');
    await lab.down();
    if (passed && !o.keep) rmSync(lab.home, { recursive: true, force: true });
    else if (passed) console.log(`lab state kept in ${lab.home}`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`soak: ${err.message}`);
    process.exit(1);
  },
);
