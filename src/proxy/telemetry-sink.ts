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
const LOG_FLUSH_BYTES = 64 * 1024;

export class TelemetrySink {
  readonly metrics = new IstioMetrics();
  private readonly baseCache = new Map<string, IstioBaseLabels>();
  private buffer: string[] = [];
  private bufferedBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (text: string) => void,
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
   * Lines are batched like Envoy's access log flush: written every LOG_FLUSH_MS, or as soon as
   * LOG_FLUSH_BYTES have accumulated. One write per batch instead of one per request is what keeps
   * the cost per request flat from 1 req/s to full load; 50 ms is still immediate to a reader.
   */
  log(line: string): void {
    this.buffer.push(line);
    this.bufferedBytes += line.length + 1;
    if (this.bufferedBytes >= LOG_FLUSH_BYTES) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(this.flush, LOG_FLUSH_MS);
      this.timer.unref();
    }
  }

  readonly flush = (): void => {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const text = this.buffer.join('\n') + '\n';
    this.buffer = [];
    this.bufferedBytes = 0;
    this.write(text);
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
