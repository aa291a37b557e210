/**
 * `npm run bench` — what the sidecar costs, how fast configuration converges, how the lab scales.
 *
 *   --quick           a few seconds per row, one run (CI)
 *   --runs N          interleaved runs of the overhead rows (default 3; --quick: 1)
 *   --only LIST       sections: overhead,convergence,scale,lab,docker (default: all; --quick skips lab,
 *                     and runs docker's short form without lab:all)
 *   --rows LIST       overhead rows by id (see `--list`)
 *   --out DIR         where latest.md / latest.json go (default bench/results)
 *   --list            print the overhead rows and exit
 *
 * Everything it measures it starts itself on loopback (127.0.0.1, 127.250.x.x, a lab's 127.B.x.x)
 * and stops afterwards. See bench/README.md for the method.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runConvergence, type ConvergenceResult } from './convergence.js';
import { dockerDerived, dockerMarkdown, LAB_ALL_GOAL_SECONDS, runDocker, type DockerResult } from './docker.js';
import { runLabTime, type LabTimeResult } from './labtime.js';
import { findNginx, ROWS, runOverhead, type Durations, type RowResult, type RowRun } from './overhead.js';
import { runScale, type ScaleResult } from './scale.js';
import { runTelemetryCost, type TelemetryCost } from './telemetry.js';
import { cell, markdownTable, num, spread, type Spread } from './lib/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const SECTIONS = ['overhead', 'convergence', 'scale', 'lab', 'docker'] as const;
type Section = (typeof SECTIONS)[number];

const GOALS = {
  cpuVsNginx: 2,
  addedP50Ms: 0.25,
  addedP99Ms: 1,
  rps: 20_000,
  rssMB: 60,
  convergenceP99Ms: 50,
  compile1000Ms: 200,
  labSeconds: 90,
  labDockerSeconds: LAB_ALL_GOAL_SECONDS,
};

interface Derived {
  id: string;
  rps?: Spread;
  p50?: Spread;
  p90?: Spread;
  p99?: Spread;
  addedP50?: Spread;
  addedP90?: Spread;
  addedP99?: Spread;
  cpuPer1000?: Spread;
  cpuPer1000AtMax?: Spread;
  cpuVsNginx?: Spread;
  rpsVsNginx?: Spread;
  peakRssMB?: Spread;
  privateRssMB?: Spread;
  errors: number;
}

/** Per-run differences and ratios (same run only), then min/median/max over runs. */
function derive(rows: RowResult[]): Derived[] {
  const byId = new Map(rows.map((r) => [r.id, r] as const));
  const sameRun = (id: string, run: number): RowRun | undefined => byId.get(id)?.runs.find((x) => x.run === run);
  return rows.map((r) => {
    const over = (f: (x: RowRun) => number | undefined) => spread(r.runs.map(f).filter((v): v is number => v !== undefined));
    return {
      id: r.id,
      rps: over((x) => x.rps),
      p50: over((x) => x.p50),
      p90: over((x) => x.p90),
      p99: over((x) => x.p99),
      addedP50: r.id === 'direct' ? undefined : over((x) => (sameRun('direct', x.run) ? x.p50 - sameRun('direct', x.run)!.p50 : undefined)),
      addedP90: r.id === 'direct' ? undefined : over((x) => (sameRun('direct', x.run) ? x.p90 - sameRun('direct', x.run)!.p90 : undefined)),
      addedP99: r.id === 'direct' ? undefined : over((x) => (sameRun('direct', x.run) ? x.p99 - sameRun('direct', x.run)!.p99 : undefined)),
      cpuPer1000: over((x) => x.cpuPer1000),
      cpuPer1000AtMax: over((x) => x.cpuPer1000AtMax),
      cpuVsNginx: r.id === 'direct' ? undefined : over((x) => (sameRun('nginx', x.run) ? x.cpuPer1000 / sameRun('nginx', x.run)!.cpuPer1000 : undefined)),
      rpsVsNginx: r.id === 'direct' ? undefined : over((x) => (sameRun('nginx', x.run) ? x.rps / sameRun('nginx', x.run)!.rps : undefined)),
      peakRssMB: over((x) => x.peakRss / 2 ** 20),
      privateRssMB: over((x) => (x.privateRss ? x.privateRss / 2 ** 20 : undefined)),
      errors: r.runs.reduce((s, x) => s + x.errors + x.non2xx, 0),
    };
  });
}

function machine(): Record<string, unknown> {
  let nginx: string | undefined;
  const bin = findNginx();
  if (bin) {
    try {
      nginx = execFileSync(bin, ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() || undefined;
    } catch (err) {
      nginx = String((err as { stderr?: string }).stderr ?? '').trim();
    }
    if (!nginx) {
      const r = execFileSync('sh', ['-c', `${bin} -v 2>&1`], { encoding: 'utf8' });
      nginx = r.trim();
    }
  }
  return {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    nginx: nginx?.replace(/^nginx version: /, '') ?? 'not installed',
  };
}

function overheadMarkdown(rows: RowResult[], derived: Derived[], d: Durations, runs: number): string {
  const mb = (s?: Spread) => cell(s, 0);
  const lines: string[][] = rows.map((r, i) => {
    const x = derived[i]!;
    if (r.skipped && r.runs.length === 0) return [r.label, r.skipped, '', '', '', '', '', '', '', '', ''];
    const cpuCell = r.id === 'direct' ? `(${cell(x.cpuPer1000, 3)})` : cell(x.cpuPer1000, 3);
    const rss = r.id === 'direct' ? `(${mb(x.peakRssMB)})` : mb(x.peakRssMB);
    const priv = r.id === 'direct' ? `(${mb(x.privateRssMB)})` : mb(x.privateRssMB);
    return [
      r.label + (x.errors > 0 ? ` ⚠ ${x.errors} errors` : ''),
      cell(x.rps, 0),
      cell(x.p50, 3),
      cell(x.p90, 3),
      cell(x.p99, 3),
      r.id === 'direct' ? '-' : `${cell(x.addedP50, 3, '+')} / ${cell(x.addedP90, 3, '+')}`,
      cpuCell,
      r.id === 'direct' ? `(${cell(x.cpuPer1000AtMax, 3)})` : cell(x.cpuPer1000AtMax, 3),
      r.id === 'direct' || r.id === 'nginx' ? '-' : x.cpuVsNginx ? `${cell(x.cpuVsNginx, 2)}x` : '-',
      rss,
      priv,
    ];
  });
  const table = markdownTable(
    ['target', 'max req/s (32 conns)', 'p50 ms', 'p90 ms', 'p99 ms', 'added p50 / p90 ms', 'CPU-s per 1000 req at 1000 req/s', 'CPU-s per 1000 req at max', 'CPU vs nginx (at 1000 req/s)', 'peak RSS MB', 'private MB at end'],
    lines,
  );
  const notes = rows.map((r) => `- **${r.label}**: ${r.note}.`).join('\n');
  return `## Proxy overhead

${runs > 1 ? `Median (min…max) over ${runs} interleaved runs` : 'One run'}. Latency at a fixed ${d.rate} req/s over ${d.connections} keep-alive
connections for ${d.rateMs / 1000} s (coordinated-omission corrected, see README); max req/s with a closed loop on
${d.connections} keep-alive connections for ${d.tputMs / 1000} s. CPU-s per 1000 requests and peak RSS are the proxy
process(es) from /proc (CPU over the measured window of each phase; RSS is VmHWM at the end of the row;
"private" is RssAnon then: RSS without the binary's and libraries' file pages, which processes share).
"Added" (minus the direct row) and "vs nginx" are computed within each run, then summarised.

${table}

${notes}
`;
}

function telemetryMarkdown(derived: Derived[], micro: TelemetryCost[] | undefined): string {
  const g = (id: string) => derived.find((x) => x.id === id);
  const on = g('sidecar');
  const nolog = g('sidecar-nolog');
  const off = g('sidecar-off');
  const sidecarCpu = on?.cpuPer1000AtMax?.median;
  const microTable = micro
    ? `In process (the proxy's TelemetrySink fed a sidecar's completion record; each log line written to a
file with its own write(2), as at low load), per request:

${markdownTable(
  ['telemetry', 'µs per request', 'CPU-s per 1000 req', sidecarCpu ? 'share of the sidecar at max load' : ''],
  micro.map((m) => [m.variant, num(m.ns / 1000, 2), num(m.ns / 1e6, 4), sidecarCpu ? `${((m.ns / 1e6 / sidecarCpu) * 100).toFixed(1)}%` : '']),
)}
`
    : '';
  if (!on?.cpuPer1000 || !nolog?.cpuPer1000 || !off?.cpuPer1000) return microTable ? `## Telemetry cost\n\n${microTable}` : '';
  const pct = (a: number, b: number) => `${(((a - b) / b) * 100).toFixed(0)}%`;
  const m = (s: Spread | undefined) => s?.median ?? NaN;
  const diff = (a: Derived, b: Derived) => [
    `${num(m(a.cpuPer1000) - m(b.cpuPer1000), 3)} (${pct(m(a.cpuPer1000), m(b.cpuPer1000))})`,
    `${num(m(a.cpuPer1000AtMax) - m(b.cpuPer1000AtMax), 3)} (${pct(m(a.cpuPer1000AtMax), m(b.cpuPer1000AtMax))})`,
    num(m(a.p50) - m(b.p50), 3),
    num(m(b.rps) - m(a.rps), 0),
  ];
  const rows = [
    ['access log', ...diff(on, nolog)],
    ['metrics', ...diff(nolog, off)],
  ];
  return `## Telemetry cost

${microTable}
End to end (differences of the medians of the three sidecar rows; on this shared 2-core machine
differences this small are within run-to-run noise, so read them together with the table above):

${markdownTable(['feature', 'CPU-s per 1000 req at 1000 req/s', 'CPU-s per 1000 req at max', 'p50 ms', 'max req/s lost'], rows)}
`;
}

function convergenceMarkdown(c: ConvergenceResult[]): string {
  const rows = c.map((r) => [
    `${r.proxies} (${r.sidecars} sidecars + gateway)`,
    String(r.applies),
    num(r.p50, 1),
    num(r.p99, 1),
    num(r.max, 1),
    num(r.pushP50, 1),
    `${r.mismatches} / ${r.unchanged}`,
    num(r.scaleUpSeconds, 1),
    `${num(r.proxyRssMedian / 2 ** 20, 0)} / ${num(r.proxyRssMax / 2 ** 20, 0)}`,
  ]);
  return `## Convergence

Time from the apply of a VirtualService (bound to the mesh and a Gateway, so every proxy's table
changes) to every proxy serving the new table, on a real lab (local runtime), once the machine is
quiet after the scale-up. 100 applies in the full run, so p99 is the second-slowest (the quick
run's 5 make it the slowest).

${markdownTable(['proxies', 'applies', 'p50 ms', 'p99 ms', 'max ms', 'push p50 ms (control plane)', 'stale / unchanged proxies', 'scale-up s', 'proxy RSS MB median / max'], rows)}
`;
}

function scaleMarkdown(s: ScaleResult[]): string {
  const rows = s.map((r) => [
    r.services.toLocaleString('en-US'),
    num(r.tableBytes / 1024, 0),
    num(r.snapshotMs, 1),
    num(r.compileMs, 1),
    num(r.snapshotMs + r.compileMs, 1),
    num(r.hydrateMs, 1),
    num(r.decideHotNs, 0),
    num(r.decideNs, 0),
    num(r.decideMissNs, 0),
    num(r.proxyRss / 2 ** 20, 0),
  ]);
  return `## Scale

N Services with one Pod and one mesh VirtualService each, compiled for one sidecar (median of
${s[0]?.reps ?? 1}+ repetitions). decide(): one routing decision; "same host" repeats one request (the
algorithmic cost), "random host" cycles through 4096 requests for random hosts (adds cache misses
as the table grows), "miss" is an unknown host (fallback route).

${markdownTable(['services', 'table KB', 'snapshot ms', 'compile ms', 'snapshot + compile ms', 'proxy hydrate ms', 'decide ns (same host)', 'decide ns (random host)', 'decide ns (miss)', 'proxy RSS MB'], rows)}
`;
}

function labMarkdown(l: LabTimeResult): string {
  const rows = l.scenarios.map((s) => [s.name, s.ok ? 'pass' : 'FAIL', `${s.passed}/${s.steps}`, num(s.seconds, 1)]);
  rows.push(['all (runner wall time)', l.exitCode === 0 ? 'pass' : 'FAIL', '', num(l.totalSeconds, 1)]);
  return `## Lab wall time

\`node dist/lab/run.js all\`: every scenario the runner knows, each on a fresh lab.

${markdownTable(['scenario', 'result', 'steps', 'seconds'], rows)}
`;
}

function goalsMarkdown(derived: Derived[], conv: ConvergenceResult[] | undefined, scale: ScaleResult[] | undefined, lab: LabTimeResult | undefined, docker: DockerResult | undefined): string {
  const side = derived.find((x) => x.id === 'sidecar');
  const mesh = derived.find((x) => x.id === 'mesh');
  const rows: string[][] = [];
  const check = (ok: boolean | undefined) => (ok === undefined ? '-' : ok ? 'met' : '**not met**');
  if (side) {
    rows.push(['sidecar CPU per request vs nginx', `<= ${GOALS.cpuVsNginx}x`, side.cpuVsNginx ? `${num(side.cpuVsNginx.median, 2)}x` : 'no nginx', check(side.cpuVsNginx ? side.cpuVsNginx.median <= GOALS.cpuVsNginx : undefined)]);
    rows.push(['sidecar added p50 per hop', `<= ${GOALS.addedP50Ms} ms`, num(side.addedP50?.median, 3), check(side.addedP50 ? side.addedP50.median <= GOALS.addedP50Ms : undefined)]);
    rows.push(['sidecar added p99 per hop', `<= ${GOALS.addedP99Ms} ms`, num(side.addedP99?.median, 3), check(side.addedP99 ? side.addedP99.median <= GOALS.addedP99Ms : undefined)]);
    if (mesh) rows.push(['mesh hop added p50 (two proxies)', `<= ${2 * GOALS.addedP50Ms} ms`, num(mesh.addedP50?.median, 3), check(mesh.addedP50 ? mesh.addedP50.median <= 2 * GOALS.addedP50Ms : undefined)]);
    rows.push(['sidecar max throughput', `>= ${GOALS.rps.toLocaleString('en-US')} req/s`, num(side.rps?.median, 0), check(side.rps ? side.rps.median >= GOALS.rps : undefined)]);
    rows.push(['sidecar peak RSS', `<= ${GOALS.rssMB} MB`, num(side.peakRssMB?.median, 0), check(side.peakRssMB ? side.peakRssMB.median <= GOALS.rssMB : undefined)]);
  }
  for (const c of conv ?? []) rows.push([`convergence p99, ${c.proxies} proxies`, `<= ${GOALS.convergenceP99Ms} ms`, num(c.p99, 1), check(c.p99 <= GOALS.convergenceP99Ms)]);
  const s1000 = scale?.find((s) => s.services === 1000);
  if (s1000) rows.push(['compile 1,000 services (snapshot + compile)', `<= ${GOALS.compile1000Ms} ms`, num(s1000.snapshotMs + s1000.compileMs, 1), check(s1000.snapshotMs + s1000.compileMs <= GOALS.compile1000Ms)]);
  if (scale && scale.length > 1) {
    const first = scale[0]!;
    const last = scale[scale.length - 1]!;
    const ratio = last.decideHotNs / first.decideHotNs;
    rows.push([`decide() flat in hosts (same host, ${last.services.toLocaleString('en-US')} vs ${first.services})`, '~1x', `${num(ratio, 2)}x`, check(ratio < 2)]);
  }
  if (lab && lab.scenarios.length > 0) {
    const total = lab.scenarios.reduce((s, x) => s + x.seconds, 0);
    const names = lab.scenarios.map((s) => s.name).join(', ');
    rows.push([`lab wall time (${names})`, `<= ${GOALS.labSeconds} s for 5.2-5.5`, num(total, 1), lab.scenarios.length >= 4 ? check(total <= GOALS.labSeconds) : 'partial: not all scenarios exist yet']);
  }
  const labAll = docker?.labAll;
  if (docker?.skipped) rows.push(['lab:all on Docker', `<= ${GOALS.labDockerSeconds} s`, `skipped: ${docker.skipped}`, '-']);
  else if (labAll && 'skipped' in labAll) rows.push(['lab:all on Docker', `<= ${GOALS.labDockerSeconds} s`, 'not run (quick)', '-']);
  else if (labAll) {
    const l = labAll;
    rows.push(['lab:all on Docker (all scenarios pass)', `<= ${GOALS.labDockerSeconds} s`, num(l.totalSeconds, 1), l.exitCode !== 0 ? '**not met** (a scenario failed)' : check(l.totalSeconds <= GOALS.labDockerSeconds)]);
  }
  if (docker && !docker.skipped) {
    const x = dockerDerived(docker);
    const perHop = x.ip.perHopVsLocalP50;
    if (perHop) rows.push(['proxy hop in a container: added p50 vs local (container addresses)', 'reported', `${perHop.median >= 0 ? '+' : ''}${num(perHop.median, 3)} ms`, '-']);
  }
  return `## Goals (issue 5)

${markdownTable(['goal', 'target', 'measured (median)', ''], rows)}
`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      runs: { type: 'string' },
      only: { type: 'string' },
      rows: { type: 'string' },
      out: { type: 'string' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('Usage: npm run bench [-- --quick] [--runs N] [--only overhead,convergence,scale,lab,docker] [--rows id,...] [--out DIR] [--list]');
    return 0;
  }
  if (values.list) {
    for (const r of ROWS) console.log(`${r.id.padEnd(16)} ${r.label}`);
    return 0;
  }
  const quick = Boolean(values.quick);
  const runs = Number(values.runs ?? (quick ? 1 : 3));
  const sections = new Set<Section>(
    values.only ? (values.only.split(',') as Section[]) : SECTIONS.filter((s) => !(quick && s === 'lab')),
  );
  for (const s of sections) if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s}; sections: ${SECTIONS.join(', ')}`);
  const rowIds = values.rows?.split(',');
  const outDir = resolve(values.out ?? join(ROOT, 'bench', 'results'));
  const durations: Durations = quick
    ? { tputWarmupMs: 300, tputMs: 1500, rateWarmupMs: 300, rateMs: 2000, rate: 1000, connections: 32 }
    : { tputWarmupMs: 1000, tputMs: 5000, rateWarmupMs: 1000, rateMs: 8000, rate: 1000, connections: 32 };
  const work = mkdtempSync(join(tmpdir(), 'istio-lab-bench-'));
  const t0 = performance.now();
  const log = (s: string) => console.log(s);
  const meta = { date: new Date().toISOString(), mode: quick ? 'quick' : 'full', runs, durations, machine: machine(), loadavgBefore: loadavg() };
  log(`bench: ${meta.mode} mode, ${runs} run(s); ${meta.machine.cores} cores, node ${process.version}, nginx ${meta.machine.nginx}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  let overhead: RowResult[] | undefined;
  let telemetryCost: TelemetryCost[] | undefined;
  let derived: Derived[] = [];
  let convergence: ConvergenceResult[] | undefined;
  let scale: ScaleResult[] | undefined;
  let labTime: LabTimeResult | undefined;
  let docker: DockerResult | undefined;
  try {
    if (sections.has('overhead')) {
      log('\n# proxy overhead');
      overhead = await runOverhead({ runs, durations, dir: join(work, 'overhead'), only: rowIds, log });
      derived = derive(overhead);
      telemetryCost = runTelemetryCost({ iterations: quick ? 100_000 : 500_000 });
      for (const t of telemetryCost) log(`  telemetry in process: ${t.variant}: ${(t.ns / 1000).toFixed(2)} µs per request`);
    }
    if (sections.has('convergence')) {
      log('\n# convergence');
      // 100 applies, so p99 is a 99th percentile (the second-largest) rather than the maximum.
      convergence = await runConvergence({ sizes: [10, 50], applies: quick ? 5 : 100, log });
    }
    if (sections.has('scale')) {
      log('\n# scale');
      mkdirSync(join(work, 'scale'), { recursive: true });
      scale = await runScale({ sizes: [10, 100, 1000, 10_000], quick, dir: join(work, 'scale'), log });
    }
    if (sections.has('lab')) {
      log('\n# lab wall time');
      labTime = await runLabTime({ timeoutMs: 10 * 60_000, log });
    }
    if (sections.has('docker')) {
      log('\n# docker');
      const ts = performance.now();
      mkdirSync(join(work, 'docker'), { recursive: true });
      docker = await runDocker({
        quick,
        pods: quick ? 3 : 10,
        runs,
        // A lower fixed rate than the overhead section's: through docker-proxy the Docker path
        // serves only a few thousand req/s on 2 cores, so 1000 req/s would time queueing there.
        durations: quick
          ? { tputWarmupMs: 500, tputMs: 2000, rateWarmupMs: 500, rateMs: 3000, rate: 250, connections: 32 }
          : { tputWarmupMs: 1000, tputMs: 3000, rateWarmupMs: 1000, rateMs: 8000, rate: 250, connections: 32 },
        upSamples: quick ? 1 : 3,
        labAll: !quick,
        dir: join(work, 'docker'),
        log,
      });
      docker.seconds = (performance.now() - ts) / 1000;
      log(`  (the Docker section took ${docker.seconds.toFixed(0)} s)`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const seconds = (performance.now() - t0) / 1000;
  const parts = [
    `# Benchmark results (${meta.mode})\n\n${meta.date}; ${meta.machine.cores} x ${meta.machine.cpu}, ${meta.machine.memoryGB} GB; node ${process.version}; nginx ${meta.machine.nginx}; ` +
      `load average before ${meta.loadavgBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadavg().map((x) => x.toFixed(2)).join(' ')}; took ${seconds.toFixed(0)} s.\n` +
      `Produced by \`npm run bench${quick ? ' -- --quick' : ''}\`; method in bench/README.md.\n`,
  ];
  if (overhead || convergence || scale || labTime || docker) parts.push(goalsMarkdown(derived, convergence, scale, labTime, docker));
  if (overhead) parts.push(overheadMarkdown(overhead, derived, durations, runs), telemetryMarkdown(derived, telemetryCost));
  if (convergence) parts.push(convergenceMarkdown(convergence));
  if (scale) parts.push(scaleMarkdown(scale));
  if (labTime) parts.push(labMarkdown(labTime));
  if (docker) parts.push(dockerMarkdown(docker));
  const md = parts.filter(Boolean).join('\n');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.md'), md);
  writeFileSync(
    join(outDir, 'latest.json'),
    JSON.stringify({ meta: { ...meta, seconds, loadavgAfter: loadavg() }, goals: GOALS, overhead: overhead && { rows: overhead, derived }, telemetryCost, convergence, scale, labTime, docker }, null, 2) + '\n',
  );
  console.log(`\n${md}`);
  console.log(`bench: wrote ${join(outDir, 'latest.md')} and latest.json (${seconds.toFixed(0)} s)`);
  const failedRows = overhead?.filter((r) => r.skipped?.startsWith('failed')) ?? [];
  if (docker && docker.errors.length > 0) console.log(`bench: Docker phases not measured: ${docker.errors.join('; ')}`);
  return failedRows.length > 0 || (docker?.errors.length ?? 0) > 0 ? 1 : 0;
}

process.exitCode = await main();
