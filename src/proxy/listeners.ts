/**
 * Keeps the set of bound sockets equal to the table's listeners: opens the new ones, closes the
 * removed ones, keeps the rest (and their connections) untouched across pushes.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Listener } from '../model/table.js';
import { createConnectHandler } from './connect.js';
import { createRequestHandler, type ProxyState } from './handler.js';
import { formatAccessLog } from './telemetry/access-log.js';

interface Bound {
  key: string;
  listener: Listener;
  server: Server;
}

function keyOf(l: Listener): string {
  return `${l.direction}|${l.bindAddress}|${l.bindPort}|${l.port}|${l.routeConfig}|${l.name}`;
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
        closing.push(closeServer(b.server));
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
    await Promise.all(all.map((b) => closeServer(b.server)));
  }

  private open(l: Listener): Promise<Server> {
    const server = createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, createRequestHandler(this.state, l));
    server.on('connect', createConnectHandler(this.state, l));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(l, err, socket));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: l.bindAddress, port: l.bindPort }, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  /** Malformed HTTP: 400 and an access log line with Envoy's DPE flag, then close. */
  private onClientError(_l: Listener, err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const body = 'Bad Request';
    socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-length: ${body.length}\r\ncontent-type: text/plain\r\nconnection: close\r\nserver: istio-envoy\r\n\r\n${body}`);
    if (!this.state.telemetry.accessLog) return;
    this.state.telemetry.log(
      formatAccessLog({
        startTime: Date.now(),
        method: '-',
        path: '-',
        protocol: '-',
        responseCode: 400,
        responseFlags: 'DPE',
        responseCodeDetails: 'http1.codec_error',
        bytesReceived: 0,
        bytesSent: body.length,
        durationMs: 0,
        downstreamLocalAddress: `${socket.localAddress}:${socket.localPort}`,
        downstreamRemoteAddress: `${socket.remoteAddress}:${socket.remotePort}`,
        routeName: undefined,
        upstreamCluster: undefined,
        authority: undefined,
      }),
    );
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Idle keep-alive connections would hold close() open; in-flight requests still finish.
    server.closeIdleConnections();
  });
}
