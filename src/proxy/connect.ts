/**
 * HTTP CONNECT on the outbound listener: a tunnel is policy-checked like any request (one
 * canonical host, the same route tables), so it cannot be used to reach a host REGISTRY_ONLY
 * blocks. Allowed tunnels go to the resolved loopback target; everything else gets an HTTP error
 * and an access log line. Other listeners do not tunnel.
 */
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { Listener } from '../model/table.js';
import { canonicalAuthority } from '../router/authority.js';
import { decide } from '../router/decide.js';
import { mayConnect } from './capture.js';
import type { ProxyState } from './handler.js';
import type { RequestHead } from './http1/parse.js';
import type { ConnectionInfo } from './http1/server.js';
import { resolveTarget } from './resolve.js';
import type { AccessLogRecord } from './telemetry/access-log.js';

function refuse(socket: Socket, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-length: 0\r\nconnection: close\r\nserver: istio-envoy\r\n\r\n`);
  // Read (and drop) what the client still sends so its close is seen and the socket freed.
  socket.resume();
}

export function createConnectHandler(state: ProxyState, listener: Listener) {
  return function onConnect(req: RequestHead, socket: Socket, head: Buffer, info: ConnectionInfo): void {
    const t0 = performance.now();
    const rt = state.current;
    const record: AccessLogRecord = {
      startTime: Date.now(),
      method: 'CONNECT',
      path: '-',
      protocol: `HTTP/1.${req.minor}`,
      responseCode: 0,
      responseFlags: '-',
      bytesReceived: 0,
      bytesSent: 0,
      durationMs: 0,
      authority: req.target,
      requestId: req.headers['x-request-id'] ?? randomUUID(),
      userAgent: req.headers['user-agent'],
      downstreamRemoteAddress: `${info.remoteAddress}:${info.remotePort}`,
    };
    const done = (status: number, flags: string, details: string, route?: string, cluster?: string) => {
      record.responseCode = status;
      record.responseFlags = flags;
      record.responseCodeDetails = details;
      record.routeName = route;
      record.upstreamCluster = cluster;
      record.durationMs = performance.now() - t0;
      if (rt && state.telemetry.accessLog) state.telemetry.complete(rt.table.node, { record, reporter: 'source' });
    };
    if (!rt || listener.direction !== 'outbound') {
      refuse(socket, 405, 'Method Not Allowed');
      return done(405, '-', 'connect_not_allowed');
    }
    const canon = canonicalAuthority(req.target, 443);
    if (!canon) {
      refuse(socket, 400, 'Bad Request');
      return done(400, 'DPE', 'invalid_authority');
    }
    const authority = `${canon.host}:${canon.port}`;
    const rc = rt.routeConfigs.get(String(canon.port)) ?? rt.routeConfigs.get('*');
    const d = rc ? decide(rc, { authority, path: '/', method: 'CONNECT', scheme: 'http', headers: req.headers, port: canon.port }, state.rng) : undefined;
    if (!d || d.kind === 'no_route') {
      refuse(socket, 404, 'Not Found');
      return done(404, 'NR', 'route_not_found');
    }
    if (d.kind === 'direct') {
      refuse(socket, d.status, 'Bad Gateway');
      return done(d.status, d.flags, d.details, d.routeName, d.logCluster);
    }
    const rcluster = rt.clusters.get(d.cluster);
    if (!rcluster) {
      refuse(socket, 503, 'Service Unavailable');
      return done(503, 'NC', 'cluster_not_found', d.routeName, d.cluster);
    }
    const ep = rcluster.cluster.type === 'original_dst' ? { address: canon.host, port: canon.port } : rcluster.balancer.pick();
    if (!ep) {
      refuse(socket, 503, 'Service Unavailable');
      return done(503, 'UH', 'no_healthy_upstream', d.routeName, d.cluster);
    }
    void resolveTarget(ep.address, ep.port, rt.table.hosts, state.allowExternal).then((target) => {
      if (!target || !mayConnect(state, listener, target, ep)) {
        refuse(socket, 502, 'Bad Gateway');
        return done(502, 'UF', target ? 'lab_refused_non_loopback_destination' : 'dns_resolution_failed', d.routeName, d.cluster);
      }
      const upstream = connect({ host: target.address, port: target.port });
      record.upstreamHost = `${target.address}:${target.port}`;
      upstream.once('connect', () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) upstream.write(head);
        socket.pipe(upstream).pipe(socket);
      });
      upstream.on('error', () => {
        refuse(socket, 503, 'Service Unavailable');
      });
      socket.on('error', () => upstream.destroy());
      upstream.on('close', () => {
        socket.destroy();
        done(200, '-', 'via_upstream', d.routeName, d.cluster);
      });
    });
  };
}
