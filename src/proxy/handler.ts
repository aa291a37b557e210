/**
 * The request path: route by the current table, forward to one endpoint, mirror, and report.
 * Everything it decides comes from the immutable RuntimeTable; all it owns is the sockets.
 */
import { randomUUID } from 'node:crypto';
import { request, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Cluster, Endpoint, Listener } from '../model/table.js';
import { parseClusterName, sniForCluster } from '../model/names.js';
import { decide } from '../router/decide.js';
import { rewritePath } from '../router/rewrite.js';
import type { Random } from '../router/random.js';
import type { RouteRequest } from '../router/request.js';
import { endToEndHeaders } from './hop-headers.js';
import { LOCAL_REPLY_BODY, sendLocalReply } from './local-reply.js';
import { MirrorSender, shadowAuthority } from './mirror.js';
import { decodePeer, PEER_METADATA, PEER_METADATA_ID, REQUESTED_SERVER_NAME, type PeerInfo } from './peer-metadata.js';
import { countHostHeaders, outboundTarget } from './outbound-target.js';
import { isLoopback, resolveTarget, type Target } from './resolve.js';
import type { RuntimeTable } from './runtime-table.js';
import type { TelemetrySink } from './telemetry-sink.js';
import type { AccessLogRecord } from './telemetry/access-log.js';
import type { UpstreamPool } from './upstream-pool.js';

export interface ProxyState {
  current: RuntimeTable | undefined;
  rng: Random;
  pool: UpstreamPool;
  mirrors: MirrorSender;
  telemetry: TelemetrySink;
  /** `--real-external`: passthrough may resolve real DNS and leave loopback. */
  allowExternal: boolean;
}

/** Headers the inbound side consumes and must not hand to the app. */
const INBOUND_STRIP = new Set([PEER_METADATA, PEER_METADATA_ID, REQUESTED_SERVER_NAME]);
/** Default mesh retry policy: 2 retries on connect failure (Istio's `connect-failure,...`). */
const CONNECT_RETRIES = 2;

/** Per-request state, filled as the request goes and handed to telemetry at the end. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  listener: Listener;
  rt: RuntimeTable;
  t0: number;
  record: AccessLogRecord;
  peer?: PeerInfo;
  cluster?: Cluster;
  endpoint?: Endpoint;
  done: boolean;
  /** A local reply was sent: later upstream events (e.g. the reset after a timeout) change nothing. */
  replied: boolean;
  upstream?: ClientRequest;
}

function addr(address: string | undefined, port: number | undefined): string | undefined {
  if (!address) return undefined;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function createRequestHandler(state: ProxyState, listener: Listener) {
  return function handle(req: IncomingMessage, res: ServerResponse): void {
    const rt = state.current;
    if (!rt) {
      sendLocalReply(res, 503, 'proxy has no configuration yet');
      return;
    }
    const startTime = Date.now();
    const ex: Exchange = {
      req,
      res,
      listener,
      rt,
      t0: performance.now(),
      done: false,
      replied: false,
      record: {
        startTime,
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        protocol: `HTTP/${req.httpVersion}`,
        responseCode: 0,
        responseFlags: '-',
        bytesReceived: 0,
        bytesSent: 0,
        durationMs: 0,
        userAgent: header(req, 'user-agent'),
        authority: header(req, 'host'),
        downstreamLocalAddress: addr(req.socket.localAddress, req.socket.localPort),
      },
    };
    // Body bytes: the declared length when there is one (no per-chunk callback on the hot path),
    // else counted as the chunks go by.
    const declared = req.headers['content-length'];
    if (declared !== undefined) ex.record.bytesReceived = Number(declared) || 0;
    else if (req.headers['transfer-encoding'] !== undefined) {
      req.on('data', (chunk: Buffer) => {
        ex.record.bytesReceived += chunk.length;
      });
    }
    res.on('close', () => finish(state, ex));
    route(state, ex);
  };
}

function route(state: ProxyState, ex: Exchange): void {
  const { req, listener, rt } = ex;
  let authority = header(req, 'host') ?? '';
  let path = req.url ?? '/';
  let port = listener.port;
  let rcName = listener.routeConfig;

  let upstreamHostHeader = authority;
  if (listener.direction === 'outbound') {
    const target = outboundTarget(path, req.rawHeaders);
    if (!target.ok) return local(ex, 400, 'DPE', 'invalid_authority', `bad request: ${target.reason}`);
    path = target.path;
    ex.record.path = path;
    port = target.port;
    authority = target.authority;
    upstreamHostHeader = target.hostHeader;
    ex.record.authority = target.hostHeader;
    rcName = rt.routeConfigs.has(String(port)) ? String(port) : '*';
  } else if (countHostHeaders(req.rawHeaders) > 1) {
    return local(ex, 400, 'DPE', 'duplicate_host_header', 'bad request: duplicate Host headers');
  }

  const rc = rt.routeConfigs.get(rcName);
  if (!rc) return local(ex, 404, 'NR', 'route_not_found', '');

  // Identity and tracing headers, as Envoy's connection manager sets them.
  let requestId = header(req, 'x-request-id');
  if (!requestId) requestId = randomUUID();
  ex.record.requestId = requestId;
  let xff = header(req, 'x-forwarded-for');
  if (listener.direction === 'gateway') {
    const remote = req.socket.remoteAddress ?? '';
    xff = xff ? `${xff},${remote}` : remote;
    ex.record.downstreamRemoteAddress = addr(req.socket.remoteAddress, req.socket.remotePort);
  } else {
    // Sidecars trust the edge's XFF: Envoy reports the last address with port 0.
    const last = xff?.split(',').pop()?.trim();
    ex.record.downstreamRemoteAddress = last ? `${last}:0` : addr(req.socket.remoteAddress, req.socket.remotePort);
  }
  ex.record.xForwardedFor = xff;

  if (listener.direction === 'inbound') {
    ex.peer = decodePeer(req.headers[PEER_METADATA]);
    ex.record.requestedServerName = header(req, REQUESTED_SERVER_NAME);
  }

  const rreq: RouteRequest = { authority, path, method: req.method ?? 'GET', scheme: 'http', headers: req.headers, port };
  const d = decide(rc, rreq, state.rng);
  if (d.kind === 'no_route') return local(ex, 404, 'NR', 'route_not_found', '');
  ex.record.routeName = d.routeName;
  if (d.kind === 'direct') {
    ex.record.upstreamCluster = d.logCluster;
    return local(ex, d.status, d.flags, d.details, d.body ?? '');
  }

  const rcluster = rt.clusters.get(d.cluster);
  if (!rcluster) {
    ex.record.upstreamCluster = d.cluster;
    return local(ex, 503, 'NC', 'cluster_not_found', '');
  }
  const cluster = rcluster.cluster;
  ex.cluster = cluster;
  ex.record.upstreamCluster = cluster.name;

  const headers = endToEndHeaders(req.headers, listener.direction === 'inbound' ? INBOUND_STRIP : undefined);
  const upstreamAuthority = d.action.rewriteAuthority ?? upstreamHostHeader;
  headers.host = upstreamAuthority;
  headers['x-request-id'] = requestId;
  if (xff) headers['x-forwarded-for'] = xff;
  if (listener.direction === 'gateway') headers['x-forwarded-proto'] = 'http';
  const upstreamPath = rewritePath(d, path);
  applyHeaderOps(headers, d.action.requestHeaders);
  const toMeshPod = listener.direction !== 'inbound' && cluster.type === 'eds' && parseClusterName(cluster.name)?.direction === 'outbound';
  if (toMeshPod) {
    headers[PEER_METADATA] = rt.peerHeader;
    headers[PEER_METADATA_ID] = rt.table.node.id;
    const sni = sniForCluster(cluster.name);
    if (sni) headers[REQUESTED_SERVER_NAME] = sni;
  }
  if (listener.direction === 'inbound' && ex.record.requestedServerName) {
    const sni = /^outbound_\.(\d+)_\.[^_]*_\.(.+)$/.exec(ex.record.requestedServerName);
    if (sni) {
      const fqdn = sni[2]!;
      const [name, namespace] = fqdn.split('.');
      ex.cluster = { ...cluster, service: { fqdn, name: name!, namespace: namespace ?? '' } };
    }
  }

  const send = (target: Target, endpoint: Endpoint | undefined, attempt: number) => {
    if (!state.allowExternal && !isLoopback(target.address)) {
      return local(ex, 502, '-', 'lab_refused_non_loopback_destination', 'the lab only sends traffic to loopback addresses');
    }
    ex.endpoint = endpoint;
    ex.record.upstreamHost = addr(target.address, target.port);
    forward(state, ex, target, upstreamPath, headers, d.action.timeoutMs, d.action.responseHeaders, attempt, (retryable) => {
      if (retryable && attempt < CONNECT_RETRIES && !hasBody(req)) {
        const next = pickTarget(state, ex, cluster, rcluster.balancer, authority, port);
        if (next) {
          void Promise.resolve(next).then((t) => (t ? send(t.target, t.endpoint, attempt + 1) : local(ex, 503, 'UF', 'upstream_reset_before_response_started{connection_failure}', LOCAL_REPLY_BODY.UF!)));
          return;
        }
      }
      const flags = attempt > 0 ? 'URX,UF' : 'UF';
      local(ex, 503, flags, 'upstream_reset_before_response_started{connection_failure}', LOCAL_REPLY_BODY.UF!);
    });
    for (const m of d.mirrors) mirror(state, ex, m, upstreamPath, headers, d.action.timeoutMs);
  };

  const picked = pickTarget(state, ex, cluster, rcluster.balancer, authority, port);
  if (!picked) return local(ex, 503, 'UH', 'no_healthy_upstream', LOCAL_REPLY_BODY.UH!);
  if (picked instanceof Promise) {
    // Resolution is async only for passthrough/DNS clusters; hold the body until we know where to send it.
    req.pause();
    void picked.then((t) => {
      req.resume();
      if (!t) return local(ex, 503, 'DF', 'dns_resolution_failed', LOCAL_REPLY_BODY.DF!);
      send(t.target, t.endpoint, 0);
    });
    return;
  }
  send(picked.target, picked.endpoint, 0);
}

type Picked = { target: Target; endpoint?: Endpoint };

function pickTarget(
  state: ProxyState,
  ex: Exchange,
  cluster: Cluster,
  balancer: { pick(): Endpoint | undefined },
  authority: string,
  port: number,
): Picked | Promise<Picked | undefined> | undefined {
  const hosts = ex.rt.table.hosts;
  if (cluster.type === 'original_dst') {
    const host = authority.slice(0, authority.lastIndexOf(':')) || authority;
    return resolveTarget(host, port, hosts, state.allowExternal).then((t) => (t ? { target: t } : undefined));
  }
  const ep = balancer.pick();
  if (!ep) return undefined;
  if (cluster.type === 'dns') {
    return resolveTarget(ep.address, ep.port, hosts, state.allowExternal).then((t) => (t ? { target: t, endpoint: ep } : undefined));
  }
  return { target: { address: ep.address, port: ep.port }, endpoint: ep };
}

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
}

function applyHeaderOps(headers: OutgoingHttpHeaders, ops: { set?: Record<string, string>; add?: Record<string, string>; remove?: string[] } | undefined): void {
  if (!ops) return;
  for (const [k, v] of Object.entries(ops.set ?? {})) headers[k.toLowerCase()] = v;
  for (const [k, v] of Object.entries(ops.add ?? {})) {
    const name = k.toLowerCase();
    const prev = headers[name];
    headers[name] = prev === undefined ? v : ([] as string[]).concat(prev as string | string[], v).map(String);
  }
  for (const k of ops.remove ?? []) delete headers[k.toLowerCase()];
}

function forward(
  state: ProxyState,
  ex: Exchange,
  target: Target,
  path: string,
  headers: OutgoingHttpHeaders,
  timeoutMs: number | undefined,
  responseOps: { set?: Record<string, string>; add?: Record<string, string>; remove?: string[] } | undefined,
  attempt: number,
  onConnectFailure: (retryable: boolean) => void,
): void {
  const { req, res } = ex;
  const sentAt = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const upstream = request({
    host: target.address,
    port: target.port,
    method: req.method,
    path,
    headers,
    agent: state.pool.get(target.address, target.port),
    setHost: false,
    localAddress: sourceAddress(ex, target),
  });
  ex.upstream = upstream;
  if (timeoutMs !== undefined) {
    timer = setTimeout(() => {
      upstream.destroy();
      local(ex, 504, 'UT', 'response_timeout', LOCAL_REPLY_BODY.UT!);
    }, timeoutMs);
  }
  upstream.on('response', (ures) => {
    if (timer) clearTimeout(timer);
    if (ex.done || res.headersSent) {
      ures.resume();
      return;
    }
    const serviceTime = performance.now() - sentAt;
    ex.record.upstreamLocalAddress = addr(ures.socket.localAddress, ures.socket.localPort);
    ex.record.upstreamServiceTimeMs = serviceTime;
    ex.record.responseCodeDetails = 'via_upstream';
    const out = endToEndHeaders(ures.headers);
    out['x-envoy-upstream-service-time'] = String(Math.floor(serviceTime));
    if (ex.listener.direction === 'gateway' || ex.listener.direction === 'inbound') out['server'] = 'istio-envoy';
    applyHeaderOps(out, responseOps);
    res.writeHead(ures.statusCode ?? 502, out);
    ex.record.responseCode = ures.statusCode ?? 502;
    const length = ures.headers['content-length'];
    if (length !== undefined) ex.record.bytesSent = Number(length) || 0;
    else {
      ures.on('data', (chunk: Buffer) => {
        ex.record.bytesSent += chunk.length;
      });
    }
    ures.on('error', () => {
      ex.record.responseFlags = 'UC';
      res.destroy();
    });
    ures.pipe(res);
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (timer) clearTimeout(timer);
    if (ex.done || ex.replied) return;
    if (res.headersSent) {
      ex.record.responseFlags = 'UC';
      res.destroy();
      return;
    }
    const refused = err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET' || err.code === 'EHOSTUNREACH' || err.code === 'EADDRNOTAVAIL';
    if (refused && attempt >= 0) onConnectFailure(true);
    else onConnectFailure(false);
  });
  // If the client goes away first, stop the upstream request too (Envoy's DC).
  if (req.readableEnded) upstream.end();
  else req.pipe(upstream);
}

/**
 * The address upstream connections come from, as in a pod: sidecars and gateways connect from the
 * pod IP; the inbound hop to the app comes from 127.0.0.6, Istio's inbound passthrough source.
 * Only with per-pod loopback addresses (all pods on 127.0.0.1 otherwise) and to loopback targets.
 */
function sourceAddress(ex: Exchange, target: Target): string | undefined {
  const ip = ex.rt.table.node.ip;
  if (ip === '127.0.0.1' || !isLoopback(target.address) || target.address === 'localhost') return undefined;
  return ex.listener.direction === 'inbound' ? '127.0.0.6' : ip;
}

function mirror(
  state: ProxyState,
  ex: Exchange,
  m: string,
  path: string,
  headers: OutgoingHttpHeaders,
  timeoutMs: number | undefined,
): void {
  const rc = ex.rt.clusters.get(m);
  // A mirror cluster that does not exist is skipped silently, like Envoy.
  if (!rc) return;
  const ep = rc.balancer.pick();
  if (!ep) return;
  const copyHeaders: OutgoingHttpHeaders = { ...headers };
  copyHeaders.host = shadowAuthority(String(headers.host ?? ''));
  const own = ex.rt.table.node.ip;
  copyHeaders['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']},${own}` : own;
  copyHeaders['x-envoy-internal'] = 'true';
  const sni = sniForCluster(m);
  if (sni) copyHeaders[REQUESTED_SERVER_NAME] = sni;
  state.mirrors.send(ex.req, { address: ep.address, port: ep.port }, path, copyHeaders, timeoutMs);
}

function local(ex: Exchange, status: number, flags: string, details: string, body: string): void {
  if (ex.done || ex.replied) return;
  ex.replied = true;
  ex.record.responseFlags = flags;
  ex.record.responseCodeDetails = details;
  ex.record.responseCode = status;
  // No upstream was chosen for these, so there is no upstream host to show.
  if (flags === 'NR' || flags === 'NC' || flags === 'UH') ex.record.upstreamHost = undefined;
  ex.record.bytesSent = sendLocalReply(ex.res, status, body);
  // Drain a request body nobody will read, so the connection can be reused.
  ex.req.resume();
}

function finish(state: ProxyState, ex: Exchange): void {
  if (ex.done) return;
  ex.done = true;
  ex.record.durationMs = performance.now() - ex.t0;
  if (!ex.res.writableFinished) {
    // The client went away before the response completed (Envoy's DC): stop the upstream request too.
    ex.upstream?.destroy();
    ex.record.responseFlags = ex.record.responseFlags === '-' ? 'DC' : `${ex.record.responseFlags},DC`;
    if (!ex.res.headersSent) ex.record.responseCode = 0;
  }
  const reporter = ex.listener.direction === 'inbound' ? 'destination' : 'source';
  state.telemetry.complete(ex.rt.table.node, {
    record: ex.record,
    reporter,
    peer: ex.peer,
    cluster: ex.cluster,
    endpoint: reporter === 'source' ? ex.endpoint : undefined,
  });
}
