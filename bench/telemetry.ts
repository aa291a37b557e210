/**
 * Telemetry cost per request, in process: the proxy's TelemetrySink (Istio TEXT access log line
 * written to a file, as the lab's proxies write theirs; Istio standard metrics) fed the completion
 * record of a sidecar outbound request, as src/proxy/handler.ts fills it. The sink batches lines
 * (every 50 ms or 64 KiB, like Envoy's flush interval), so the write(2) cost is shared by many
 * lines at any rate; here the batches are cut by size. Deterministic where the end-to-end rows
 * are not: on a 2-core machine the difference between the three sidecar rows is within noise.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TelemetrySink } from '../src/proxy/telemetry-sink.js';
import type { AccessLogRecord } from '../src/proxy/telemetry/access-log.js';
import { compileTables } from './lib/mesh.js';

export interface TelemetryCost {
  variant: string;
  /** Nanoseconds per request (a single-threaded loop), minus the loop with telemetry off. */
  ns: number;
}

function record(i: number): AccessLogRecord {
  return {
    startTime: Date.now(),
    method: 'GET',
    path: '/items',
    protocol: 'HTTP/1.1',
    responseCode: 200,
    responseFlags: '-',
    responseCodeDetails: 'via_upstream',
    bytesReceived: 0,
    bytesSent: 500,
    durationMs: 0.4 + (i % 7) * 0.1,
    upstreamServiceTimeMs: 0.3,
    userAgent: 'bench-loadgen',
    requestId: '0b7c5a4e-7d44-4b8e-9f53-2f0e4f3f5e1a',
    authority: 'upstream.bench',
    upstreamHost: '127.250.101.3:3000',
    upstreamCluster: 'outbound|80||upstream.bench.svc.cluster.local',
    upstreamLocalAddress: '127.250.1.2:40312',
    downstreamLocalAddress: '127.250.1.2:15001',
    downstreamRemoteAddress: '127.0.0.1:51234',
    routeName: 'default',
  };
}

export function runTelemetryCost(opts: { iterations: number }): TelemetryCost[] {
  const tables = compileTables({ telemetry: { accessLog: true, metrics: true }, upstream: { address: '127.250.101.3', port: 3000 }, client: { ip: '127.250.1.2', outboundPort: 15001 } });
  const table = tables.client!;
  const cluster = table.clusters['outbound|80||upstream.bench.svc.cluster.local']!;
  const endpoint = cluster.endpoints[0];
  const dir = mkdtempSync(join(tmpdir(), 'bench-telemetry-'));
  const fd = openSync(join(dir, 'access.log'), 'w');
  const out: TelemetryCost[] = [];
  try {
    let baseline = 0;
    for (const [variant, accessLog, metrics] of [
      ['off (baseline)', false, false],
      ['access log + metrics', true, true],
      ['access log only', true, false],
      ['metrics only', false, true],
    ] as const) {
      const sink = new TelemetrySink((t) => writeSync(fd, t), accessLog, metrics);
      const run = (n: number) => {
        for (let i = 0; i < n; i++) {
          sink.complete(table.node, { record: record(i), reporter: 'source', cluster, endpoint });
        }
        sink.flush();
      };
      run(20_000);
      const t0 = process.hrtime.bigint();
      run(opts.iterations);
      const ns = Number(process.hrtime.bigint() - t0) / opts.iterations;
      if (!accessLog && !metrics) baseline = ns;
      else out.push({ variant, ns: ns - baseline });
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
