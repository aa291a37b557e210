/**
 * The load generator: a process of its own (forked by the benchmark) so it never shares an event
 * loop with what it measures. Raw keep-alive TCP connections and a minimal HTTP/1.1 response
 * parser (status line, Content-Length or chunked), because node's http client costs more CPU per
 * request than the proxies we measure and would cap the closed-loop numbers far below nginx.
 *
 * Two modes:
 *   closed  N connections, each sends its next request when the previous response is complete;
 *           the completed requests per second are the maximum throughput.
 *   rate    an open loop at a fixed rate (requests are due at start + i/rate, whatever the
 *           responses do). Latency is measured from the request's intended send time whenever
 *           it had to wait for the system under test (no free connection at its due time): the
 *           coordinated-omission correction of wrk2. When a connection was free and only this
 *           process's own timer was late (node's timers have 1 ms granularity), latency counts from
 *           the actual send, so the generator's timer slack is not charged to the proxy; that
 *           slack is reported separately (`lagP99Ms`).
 *
 * Messages to the parent (IPC): {type:'window', phase:'start'|'end'} at the edges of the
 * measured window (the parent samples /proc then), then {type:'result', ...}.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface LoadJob {
  mode: 'closed' | 'rate';
  host: string;
  port: number;
  /** The whole request, head and (empty) body, sent as is. */
  request: string;
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** rate mode: requests per second. */
  rate?: number;
  /** How long to wait for outstanding responses after the window (they count as errors after). */
  drainMs?: number;
}

export interface ClosedResult {
  mode: 'closed';
  completed: number;
  errors: number;
  non2xx: number;
  seconds: number;
  rps: number;
  /** CPU this generator used in the window / wall time: near 1.0 means the client was the limit. */
  clientCpu: number;
}

export interface RateResult {
  mode: 'rate';
  scheduled: number;
  completed: number;
  errors: number;
  non2xx: number;
  seconds: number;
  achievedRps: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  /** Requests charged from their intended time because every connection was busy. */
  coCorrected: number;
  /** The generator's own lateness (actual send - intended) for requests that had a free connection. */
  lagP50Ms: number;
  lagP99Ms: number;
  clientCpu: number;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('0\r\n\r\n');

class Conn {
  sock!: Socket;
  busy = false;
  private pending: Buffer | undefined;
  /** Bytes of body still expected; -1 = reading the head; -2 = chunked, until CHUNKED_END. */
  private remaining = -1;
  private status = 0;
  /** The server said `Connection: close`: reconnect before the next request. */
  closing = false;
  /** rate mode: when this request's latency starts counting. */
  chargeFrom = 0;
  /** rate mode: the request's index in the schedule. */
  index = -1;

  constructor(
    private readonly job: LoadJob,
    private readonly payload: Buffer,
    private readonly onResponse: (c: Conn, status: number) => void,
    private readonly onBroken: (c: Conn) => void,
  ) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: this.job.host, port: this.job.port });
      s.setNoDelay(true);
      this.sock = s;
      this.pending = undefined;
      this.remaining = -1;
      s.once('connect', () => resolve());
      s.on('data', (d: Buffer) => this.onData(d));
      s.once('error', (err) => {
        reject(err);
      });
      s.once('close', () => {
        if (this.sock === s) this.onBroken(this);
      });
    });
  }

  send(): void {
    this.busy = true;
    if (this.closing) {
      // The server ends this connection after its response (nginx's keepalive_requests, ...):
      // open a new one and send there; the old socket's close is not a failure.
      this.closing = false;
      const old = this.sock;
      this.open().then(
        () => this.sock.write(this.payload),
        () => this.onBroken(this),
      );
      old.destroy();
      return;
    }
    this.sock.write(this.payload);
  }

  private onData(d: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, d]) : d;
    this.pending = undefined;
    for (;;) {
      if (this.remaining === -1) {
        const end = buf.indexOf(CRLFCRLF);
        if (end < 0) {
          this.pending = buf;
          return;
        }
        // "HTTP/1.1 200 OK": the status is bytes 9..11.
        this.status = (buf[9]! - 48) * 100 + (buf[10]! - 48) * 10 + (buf[11]! - 48);
        const head = buf.toString('latin1', 0, end).toLowerCase();
        this.closing = head.includes('\r\nconnection: close');
        const cl = head.indexOf('\r\ncontent-length:');
        if (cl >= 0) {
          // parseInt skips the leading blanks and stops at the CR.
          this.remaining = parseInt(head.slice(cl + 17, cl + 40), 10);
        } else if (head.includes('\r\ntransfer-encoding: chunked')) {
          this.remaining = -2;
        } else {
          this.remaining = 0;
        }
        buf = buf.subarray(end + 4);
      }
      if (this.remaining === -2) {
        const end = buf.indexOf(CHUNKED_END);
        if (end < 0) {
          // Keep the tail: the terminator may straddle two reads.
          this.pending = buf.subarray(Math.max(0, buf.length - 4));
          return;
        }
        buf = buf.subarray(end + CHUNKED_END.length);
        this.complete();
      } else if (buf.length >= this.remaining) {
        buf = buf.subarray(this.remaining);
        this.complete();
      } else {
        this.remaining -= buf.length;
        return;
      }
      if (buf.length === 0) return;
    }
  }

  private complete(): void {
    this.remaining = -1;
    this.busy = false;
    this.onResponse(this, this.status);
  }
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function post(msg: unknown): void {
  process.send?.(msg);
}

async function runClosed(job: LoadJob): Promise<ClosedResult> {
  const payload = Buffer.from(job.request, 'latin1');
  let measuring = false;
  let stopping = false;
  let completed = 0;
  let errors = 0;
  let non2xx = 0;
  const conns: Conn[] = [];
  const onResponse = (c: Conn, status: number) => {
    if (measuring) {
      completed++;
      if (status < 200 || status > 299) non2xx++;
    }
    if (!stopping) c.send();
  };
  const onBroken = (c: Conn) => {
    if (stopping) return;
    if (measuring) errors++;
    c.open().then(
      () => c.send(),
      () => undefined,
    );
  };
  for (let i = 0; i < job.connections; i++) conns.push(new Conn(job, payload, onResponse, onBroken));
  await Promise.all(conns.map((c) => c.open()));
  for (const c of conns) c.send();
  await new Promise((r) => setTimeout(r, job.warmupMs));
  measuring = true;
  post({ type: 'window', phase: 'start' });
  const t0 = performance.now();
  const c0 = cpuNow();
  await new Promise((r) => setTimeout(r, job.durationMs));
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuNow() - c0;
  post({ type: 'window', phase: 'end' });
  stopping = true;
  for (const c of conns) c.sock.destroy();
  return { mode: 'closed', completed, errors, non2xx, seconds, rps: completed / seconds, clientCpu: cpu / seconds };
}

async function runRate(job: LoadJob): Promise<RateResult> {
  const payload = Buffer.from(job.request, 'latin1');
  const rate = job.rate ?? 1000;
  const interval = 1000 / rate;
  const warmN = Math.round((job.warmupMs / 1000) * rate);
  const measuredN = Math.round((job.durationMs / 1000) * rate);
  const total = warmN + measuredN;
  const latency = new Float64Array(measuredN);
  const lag = new Float64Array(measuredN);
  let lagN = 0;
  let completed = 0;
  let errors = 0;
  let non2xx = 0;
  let coCorrected = 0;
  let outstanding = 0;
  let stopping = false;

  const free: Conn[] = [];
  /** Requests due while every connection was busy: [index, intended time]. */
  const queue: number[] = [];
  let start = 0;
  const intended = (i: number) => start + i * interval;
  let resolveDrained: (() => void) | undefined;

  const record = (c: Conn, status: number, now: number) => {
    const i = c.index;
    if (i >= warmN) {
      latency[i - warmN] = now - c.chargeFrom;
      completed++;
      if (status < 200 || status > 299) non2xx++;
    }
  };
  const dispatch = (c: Conn, i: number, chargeFrom: number) => {
    c.index = i;
    c.chargeFrom = chargeFrom;
    outstanding++;
    c.send();
  };
  const release = (c: Conn) => {
    if (queue.length > 0) {
      // A request waited for the system: its latency starts at its intended time.
      const i = queue.shift()!;
      if (i >= warmN) coCorrected++;
      dispatch(c, i, intended(i));
      return;
    }
    free.push(c);
  };
  const onResponse = (c: Conn, status: number) => {
    const now = performance.now();
    outstanding--;
    record(c, status, now);
    if (stopping) {
      if (outstanding === 0) resolveDrained?.();
      return;
    }
    release(c);
  };
  const onBroken = (c: Conn) => {
    if (stopping) return;
    if (c.busy) {
      outstanding--;
      if (c.index >= warmN) errors++;
      c.busy = false;
    }
    const i = free.indexOf(c);
    if (i >= 0) free.splice(i, 1);
    c.open().then(
      () => release(c),
      () => undefined,
    );
  };
  const conns: Conn[] = [];
  for (let i = 0; i < job.connections; i++) conns.push(new Conn(job, payload, onResponse, onBroken));
  await Promise.all(conns.map((c) => c.open()));
  free.push(...conns);

  let next = 0;
  let windowOpen = false;
  let c0 = 0;
  let t0 = 0;
  await new Promise<void>((done) => {
    start = performance.now() + 5;
    const tick = () => {
      const now = performance.now();
      if (!windowOpen && next >= warmN && intended(next) <= now) {
        windowOpen = true;
        post({ type: 'window', phase: 'start' });
        c0 = cpuNow();
        t0 = now;
      }
      while (next < total && intended(next) <= now) {
        const i = next++;
        const due = intended(i);
        const c = free.shift();
        if (!c) {
          queue.push(i);
          continue;
        }
        if (i >= warmN) {
          lag[lagN++] = now - due;
        }
        dispatch(c, i, now);
      }
      if (next >= total) {
        done();
        return;
      }
      setTimeout(tick, Math.max(0, intended(next) - performance.now()));
    };
    setTimeout(tick, 5);
  });
  // Wait for the last responses, bounded.
  if (outstanding > 0 || queue.length > 0) {
    await new Promise<void>((r) => {
      resolveDrained = r;
      setTimeout(r, job.drainMs ?? 2000);
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuNow() - c0;
  post({ type: 'window', phase: 'end' });
  stopping = true;
  // Connection failures and responses that never came.
  errors = measuredN - completed;
  for (const c of conns) c.sock.destroy();

  const got = latency.subarray(0, completed).slice().sort();
  const lags = lag.subarray(0, lagN).slice().sort();
  let sum = 0;
  for (const v of got) sum += v;
  return {
    mode: 'rate',
    scheduled: measuredN,
    completed,
    errors,
    non2xx,
    seconds,
    achievedRps: completed / seconds,
    p50: percentile(got, 0.5),
    p90: percentile(got, 0.9),
    p99: percentile(got, 0.99),
    p999: percentile(got, 0.999),
    max: got.length ? got[got.length - 1]! : NaN,
    mean: got.length ? sum / got.length : NaN,
    coCorrected,
    lagP50Ms: percentile(lags, 0.5),
    lagP99Ms: percentile(lags, 0.99),
    clientCpu: cpu / seconds,
  };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as LoadJob;
  try {
    const result = job.mode === 'closed' ? await runClosed(job) : await runRate(job);
    post({ type: 'result', result });
  } catch (err) {
    post({ type: 'error', message: (err as Error).message });
  }
  // Let the IPC message go out before leaving.
  process.disconnect?.();
}

await main();
