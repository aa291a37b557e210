/**
 * Keeps the set of bound sockets equal to the table's listeners: opens the new ones, closes the
 * removed ones, keeps the rest (and their connections) untouched across pushes.
 */
import type { Listener } from '../model/table.js';
import { downstreamLocalAddress } from './capture.js';
import { createConnectHandler } from './connect.js';
import { createRequestHandler, type ProxyState } from './handler.js';
import { Http1Server, type ConnectionInfo, type ServerOptions } from './http1/server.js';
import { formatAccessLog } from './telemetry/access-log.js';

interface Bound {
  key: string;
  listener: Listener;
  server: Http1Server;
}

function keyOf(l: Listener): string {
  return `${l.direction}|${l.bindAddress}|${l.bindPort}|${l.port}|${l.routeConfig}|${l.name}|${l.capture ?? ''}`;
}

/** Downstream counters across all listeners, named as Envoy's `http.<prefix>.*` stats. */
export interface ListenerStats {
  /** Requests the codec refused (400/431/501/505, DPE). */
  downstream_cx_protocol_error: number;
  /** Request heads that did not arrive within the request headers timeout (408). */
  downstream_rq_header_timeout: number;
}

export class ListenerManager {
  private readonly bound = new Map<string, Bound>();
  readonly stats: ListenerStats = { downstream_cx_protocol_error: 0, downstream_rq_header_timeout: 0 };

  constructor(
    private readonly state: ProxyState,
    /** Server options for every listener (the request headers timeout). */
    private readonly serverOptions: ServerOptions = {},
  ) {}

  /** Returns the errors of listeners that could not be bound (the others are serving). */
  async reconcile(listeners: Listener[]): Promise<string[]> {
    const wanted = new Map(listeners.map((l) => [keyOf(l), l] as const));
    const closing: Promise<void>[] = [];
    for (const [key, b] of this.bound) {
      if (!wanted.has(key)) {
        this.bound.delete(key);
        closing.push(b.server.close());
      }
    }
    await Promise.all(closing);
    const errors: string[] = [];
    for (const [key, l] of wanted) {
      if (this.bound.has(key)) continue;
      try {
        const server = await this.open(l);
        this.bound.set(key, { key, listener: l, server });
      } catch (err) {
        errors.push(`listener ${l.name} on ${l.bindAddress}:${l.bindPort}: ${(err as Error).message}`);
      }
    }
    return errors;
  }

  async closeAll(): Promise<void> {
    const all = [...this.bound.values()];
    this.bound.clear();
    await Promise.all(all.map((b) => b.server.close()));
  }

  private async open(l: Listener): Promise<Http1Server> {
    const server = new Http1Server(
      {
        request: createRequestHandler(this.state, l),
        connect: createConnectHandler(this.state, l),
        protocolError: (err, info, bytesSent) => {
          this.stats.downstream_cx_protocol_error++;
          this.logLocalReply(l, info, err.status, 'DPE', err.details, bytesSent);
        },
        requestHeadersTimeout: (info, bytesSent) => {
          this.stats.downstream_rq_header_timeout++;
          // Envoy sets no response flag for this one, only the details.
          this.logLocalReply(l, info, 408, '-', 'request_header_timeout', bytesSent);
        },
      },
      undefined,
      this.serverOptions,
    );
    await server.listen(l.bindAddress, l.bindPort);
    return server;
  }

  /**
   * A reply the codec made before any request was parsed, then the connection closed: malformed
   * HTTP (4xx/5xx, Envoy logs DPE) or a request head that timed out (408).
   */
  private logLocalReply(l: Listener, info: ConnectionInfo, status: number, flags: string, details: string, bytesSent: number): void {
    if (!this.state.telemetry.accessLog) return;
    const nodeIp = this.state.current?.table.node.ip ?? info.localAddress;
    this.state.telemetry.log(
      formatAccessLog({
        startTime: Date.now(),
        method: '-',
        path: '-',
        protocol: '-',
        responseCode: status,
        responseFlags: flags,
        responseCodeDetails: details,
        bytesReceived: 0,
        bytesSent,
        durationMs: 0,
        downstreamLocalAddress: l.capture
          ? downstreamLocalAddress({ listener: l, nodeIp, localAddress: info.localAddress, localPort: info.localPort })
          : `${info.localAddress}:${info.localPort}`,
        downstreamRemoteAddress: `${info.remoteAddress}:${info.remotePort}`,
        routeName: undefined,
        upstreamCluster: undefined,
        authority: undefined,
      }),
    );
  }
}
