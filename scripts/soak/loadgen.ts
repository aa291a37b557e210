/**
 * The soak's load: a child process of its own (so the runner's sampling and applies never delay
 * a send), an open loop at a fixed rate over keep-alive connections. Request i is due at
 * start + i/rate whatever the responses do; its latency counts from that due time (a request
 * queued behind busy connections is charged its wait, as wrk2 does). A request that would exceed
 * `maxOutstanding` is not sent and is counted as `skipped`: the system (or this machine) did not
 * keep up, which the runner reports against the target rate instead of silently sending less.
 *
 * Every answer is checked, not only its status: the call graph's route is catalog v1 in both
 * tables the soak applies, with v2 receiving mirrored copies only, so an item carrying v2's
 * `imageUrl` means a mirror's answer reached a client.
 *
 * Messages to the parent (IPC): {type:'second', ...} once a second, then {type:'result', ...}.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

export interface SoakLoadJob {
  host: string;
  port: number;
  path: string;
  hostHeader: string;
  rate: number;
  durationMs: number;
  connections: number;
  /** A request without a complete answer after this long fails as `timeout`. */
  timeoutMs: number;
  maxOutstanding: number;
  /** x-request-id prefix, so a failure can be found in the proxies' access logs. */
  idPrefix: string;
}

/** One second of the run, as the loop saw it. */
export interface LoadSecond {
  type: 'second';
  second: number;
  sent: number;
  ok: number;
  failed: number;
  skipped: number;
  outstanding: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** This process's CPU over the second / 1 s: near 1 means the generator itself was the limit. */
  clientCpu: number;
}

export interface LoadFailure {
  id: string;
  atMs: number;
  kind: string;
  detail?: string;
}

export interface LoadResult {
  type: 'result';
  scheduled: number;
  sent: number;
  ok: number;
  failed: number;
  skipped: number;
  /** Failures by kind: `HTTP 503`, `ECONNRESET`, `timeout`, `v2 answer`, ... */
  failures: Record<string, number>;
  /** The first failures, for the report. */
  examples: LoadFailure[];
  seconds: number;
  achievedRps: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Sockets the agent opened over the run (keep-alive: about `connections`, unless some closed). */
  socketsOpened: number;
}

const MAX_EXAMPLES = 20;

function percentile(sorted: Float64Array | number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** What is wrong with a 200 answer's body, if anything (see the header comment). */
export function bodyProblem(body: string): string | undefined {
  let items: unknown;
  try {
    items = JSON.parse(body);
  } catch {
    return 'unparsable body';
  }
  if (!Array.isArray(items) || items.length === 0) return 'not a list of items';
  if (items.some((i) => i && typeof i === 'object' && 'imageUrl' in i)) return 'v2 answer';
  return undefined;
}

/** A latency histogram in 0.1 ms buckets up to 60 s: a 10-minute run is 300,000 samples. */
class Histogram {
  private readonly buckets = new Uint32Array(600_001);
  count = 0;
  max = 0;
  add(ms: number): void {
    this.buckets[Math.min(this.buckets.length - 1, Math.round(ms * 10))]!++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const want = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!;
      if (seen >= want) return i / 10;
    }
    return this.max;
  }
}

export async function runLoad(job: SoakLoadJob, post: (msg: LoadSecond | LoadResult) => void): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.connections, scheduling: 'fifo' });
  let socketsOpened = 0;
  const seenSockets = new WeakSet<Socket>();

  const interval = 1000 / job.rate;
  const total = Math.round((job.durationMs / 1000) * job.rate);
  const all = new Histogram();
  const failures: Record<string, number> = {};
  const examples: LoadFailure[] = [];
  let sent = 0;
  let ok = 0;
  let failed = 0;
  let skipped = 0;
  let outstanding = 0;
  let next = 0;
  const start = performance.now() + 5;

  // This second's figures; reset as each is posted.
  let sec = { sent: 0, ok: 0, failed: 0, skipped: 0, lat: [] as number[] };
  let secIndex = 0;
  let cpu0 = process.cpuUsage();

  const fail = (id: string, due: number, kind: string, detail?: string) => {
    failed++;
    sec.failed++;
    failures[kind] = (failures[kind] ?? 0) + 1;
    if (examples.length < MAX_EXAMPLES) examples.push({ id, atMs: Math.round(due - start), kind, detail });
  };

  let drained: (() => void) | undefined;
  const finish = () => {
    outstanding--;
    if (next >= total && outstanding === 0) drained?.();
  };

  const send = (i: number) => {
    const due = start + i * interval;
    const id = `${job.idPrefix}-${i}`;
    outstanding++;
    sent++;
    sec.sent++;
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
      finish();
    };
    const req = request(
      { host: job.host, port: job.port, path: job.path, agent, headers: { host: job.hostHeader, 'x-request-id': id } },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          settle(() => {
            const ms = performance.now() - due;
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) return fail(id, due, `HTTP ${status}`);
            const problem = bodyProblem(Buffer.concat(chunks).toString('utf8'));
            if (problem) return fail(id, due, problem);
            ok++;
            sec.ok++;
            all.add(ms);
            sec.lat.push(ms);
          }),
        );
        res.on('error', (e: NodeJS.ErrnoException) => settle(() => fail(id, due, e.code ?? 'response error', e.message)));
      },
    );
    req.on('socket', (s: Socket) => {
      if (seenSockets.has(s)) return;
      seenSockets.add(s);
      socketsOpened++;
    });
    req.setTimeout(job.timeoutMs, () => req.destroy(Object.assign(new Error(`no answer in ${job.timeoutMs} ms`), { code: 'timeout' })));
    req.on('error', (e: NodeJS.ErrnoException) => settle(() => fail(id, due, e.code ?? 'request error', e.message)));
    req.end();
  };

  const postSecond = () => {
    const lat = sec.lat.sort((a, b) => a - b);
    const c = process.cpuUsage(cpu0);
    cpu0 = process.cpuUsage();
    post({
      type: 'second',
      second: secIndex++,
      sent: sec.sent,
      ok: sec.ok,
      failed: sec.failed,
      skipped: sec.skipped,
      outstanding,
      p50Ms: percentile(lat, 0.5),
      p99Ms: percentile(lat, 0.99),
      maxMs: lat.length ? lat[lat.length - 1]! : NaN,
      clientCpu: (c.user + c.system) / 1e6,
    });
    sec = { sent: 0, ok: 0, failed: 0, skipped: 0, lat: [] };
  };
  const ticker = setInterval(postSecond, 1000);

  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) {
        const i = next++;
        if (outstanding >= job.maxOutstanding) {
          skipped++;
          sec.skipped++;
          continue;
        }
        send(i);
      }
      if (next >= total) return done();
      setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
    };
    setTimeout(tick, 5);
  });
  // The last answers, bounded by the request timeout (each one ends by then, one way or another).
  if (outstanding > 0) await new Promise<void>((r) => (drained = r));
  clearInterval(ticker);
  postSecond();
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return {
    type: 'result',
    scheduled: total,
    sent,
    ok,
    failed,
    skipped,
    failures,
    examples,
    seconds,
    achievedRps: ok / seconds,
    p50Ms: all.quantile(0.5),
    p99Ms: all.quantile(0.99),
    p999Ms: all.quantile(0.999),
    maxMs: all.max,
    socketsOpened,
  };
}

// Run as the runner's child (not when imported): the job comes as argv[2], results go back over IPC.
if (process.send && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const job = JSON.parse(process.argv[2]) as SoakLoadJob;
  const post = (m: unknown) => process.send!(m);
  runLoad(job, post).then(
    (r) => {
      post(r);
      process.disconnect?.();
    },
    (err: Error) => {
      post({ type: 'error', message: err.message });
      process.disconnect?.();
    },
  );
}
