/**
 * Keeps the set of bound sockets equal to the table's listeners: opens the new ones, closes the
 * removed ones, keeps the rest (and their connections) untouched across pushes.
 */
import type { Listener } from '../model/table.js';
import { downstreamLocalAddress } from './capture.js';
import { createConnectHandler } from './connect.js';
import { createRequestHandler, type ProxyState } from './handler.js';
import type { HttpParseError } from './http1/parse.js';
import { Http1Server, type ConnectionInfo } from './http1/server.js';
import { formatAccessLog } from './telemetry/access-log.js';

interface Bound {
  key: string;
  listener: Listener;
  server: Http1Server;
}

function keyOf(l: Listener): string {
  return `${l.direction}|${l.bindAddress}|${l.bindPort}|${l.port}|${l.routeConfig}|${l.name}|${l.capture ?? ''}`;
}

export class ListenerManager {
  private readonly bound = new Map<string, Bound>();

  constructor(private readonly state: ProxyState) {}

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
    const server = new Http1Server({
      request: createRequestHandler(this.state, l),
      connect: createConnectHandler(this.state, l),
      protocolError: (err, info, bytesSent) => this.logProtocolError(l, err, info, bytesSent),
    });
    await server.listen(l.bindAddress, l.bindPort);
    return server;
  }

  /** Malformed HTTP was answered with 4xx and the connection closed: Envoy logs it with DPE. */
  private logProtocolError(l: Listener, err: HttpParseError, info: ConnectionInfo, bytesSent: number): void {
    if (!this.state.telemetry.accessLog) return;
    const nodeIp = this.state.current?.table.node.ip ?? info.localAddress;
    this.state.telemetry.log(
      formatAccessLog({
        startTime: Date.now(),
        method: '-',
        path: '-',
        protocol: '-',
        responseCode: err.status,
        responseFlags: 'DPE',
        responseCodeDetails: err.details,
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
