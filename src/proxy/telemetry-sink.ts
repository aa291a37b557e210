/**
 * Where a finished request goes: one access log line (Istio's TEXT format) and the Istio standard
 * metrics. Kept out of the forwarding code, which only fills the record.
 */
import type { Cluster, Endpoint, NodeInfo } from '../model/table.js';
import { formatAccessLog, type AccessLogRecord } from './telemetry/access-log.js';
import { istioBaseLabels, peerFromNode, type IstioBaseLabels, type PeerInfo } from './telemetry/istio-labels.js';
import { IstioMetrics } from './telemetry/metrics.js';

export interface Completion {
  record: AccessLogRecord;
  reporter: 'source' | 'destination';
  /** The other end: for `source` reports the destination endpoint; for `destination` the caller. */
  peer?: PeerInfo;
  cluster?: Cluster;
  endpoint?: Endpoint;
}

export const LOG_FLUSH_MS = 50;
/** Size of each batch buffer; a batch is written when the next line does not fit. */
export const LOG_BATCH_BYTES = 16 * 1024;

export class TelemetrySink {
  readonly metrics = new IstioMetrics();
  private readonly baseCache = new Map<string, IstioBaseLabels>();
  private batch: Buffer | undefined;
  private used = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (chunk: Buffer) => void,
    public accessLog = true,
    public metricsOn = true,
  ) {}

  complete(node: NodeInfo, c: Completion): void {
    if (this.accessLog) this.log(formatAccessLog(c.record));
    if (this.metricsOn) {
      const base = this.baseLabels(node, c);
      this.metrics.seriesFor(base, c.record.responseCode, c.record.responseFlags).observe(
        c.record.durationMs,
        c.record.bytesReceived,
        c.record.bytesSent,
      );
    }
  }

  /**
   * Lines are batched like Envoy's access log flush: written every LOG_FLUSH_MS, or as soon as a
   * batch buffer is full. One write per batch instead of one per request is what keeps the cost
   * per request flat from 1 req/s to full load; 50 ms is still immediate to a reader.
   *
   * Each line is encoded into the batch buffer (outside V8's heap) as it is made. Held as strings
   * until the flush, the lines (each a tree of about 50 concatenated pieces) survived young-
   * generation collections and were copied by them: at full load the scavenger took 10 % of the
   * sidecar's CPU samples with the log on, 2 % after this change, and CPU per request at full load
   * went down by about 10 %.
   */
  log(line: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 unit: reserve that, so write() never cuts a line.
    const room = line.length * 3 + 1;
    if (this.batch && this.used + room > this.batch.length) this.flush();
    if (room > LOG_BATCH_BYTES) {
      this.write(Buffer.from(line + '\n'));
      return;
    }
    const batch = (this.batch ??= Buffer.allocUnsafe(LOG_BATCH_BYTES));
    this.used += batch.write(line, this.used);
    batch[this.used++] = 0x0a;
    if (!this.timer) {
      this.timer = setTimeout(this.flush, LOG_FLUSH_MS);
      this.timer.unref();
    }
  }

  readonly flush = (): void => {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.batch || this.used === 0) return;
    // The writer keeps the buffer until it is written, so the next line starts a new one.
    const out = this.batch.subarray(0, this.used);
    this.batch = undefined;
    this.used = 0;
    this.write(out);
  };

  private baseLabels(node: NodeInfo, c: Completion): IstioBaseLabels {
    const peerKey = c.peer ? `${c.peer.workload}.${c.peer.namespace}` : '-';
    const key = `${c.reporter}|${peerKey}|${c.cluster?.name ?? '-'}|${c.endpoint?.pod ?? '-'}|${c.cluster?.service ? '' : c.record.authority ?? ''}`;
    let base = this.baseCache.get(key);
    if (!base) {
      const self = peerFromNode(node);
      const endpointPeer: PeerInfo | undefined =
        c.endpoint?.workload && c.endpoint.namespace
          ? { workload: c.endpoint.workload, namespace: c.endpoint.namespace, labels: c.endpoint.labels ?? {} }
          : undefined;
      base =
        c.reporter === 'source'
          ? istioBaseLabels({ reporter: 'source', source: self, destination: endpointPeer, cluster: c.cluster, authority: c.record.authority })
          : istioBaseLabels({ reporter: 'destination', source: c.peer, destination: self, cluster: c.cluster, authority: c.record.authority });
      if (this.baseCache.size > 10_000) this.baseCache.clear();
      this.baseCache.set(key, base);
    }
    return base;
  }
}
