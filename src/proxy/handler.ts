/**
 * The request path: route by the current table, forward to one endpoint, mirror, and report.
 * Everything it decides comes from the immutable RuntimeTable; all it owns is the sockets, through
 * the HTTP/1.1 engine in ./http1.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Cluster, Endpoint, Listener } from '../model/table.js';
import { parseClusterName, sniForCluster } from '../model/names.js';
import { decide } from '../router/decide.js';
import { rewritePath } from '../router/rewrite.js';
import type { Random } from '../router/random.js';
import type { RouteRequest } from '../router/request.js';
import { endToEndHeaders, endToEndResponseHeaders, requestHeaderLines, responseHeaderLines } from './hop-headers.js';
import type { UpstreamFailure, UpstreamPool, UpstreamRequest } from './http1/client.js';
import type { ResponseHead } from './http1/parse.js';
import type { ResponseFraming, ServerExchange } from './http1/server.js';
import { headerLines, isSafeHeaderValue, type HeaderMap } from './http1/wire.js';
import { LOCAL_REPLY_BODY, sendLocalReply } from './local-reply.js';
import { MirrorSender, shadowAuthority, type MirrorCopy } from './mirror.js';
import { decodePeer, PEER_METADATA, PEER_METADATA_ID, REQUESTED_SERVER_NAME, type PeerInfo } from './peer-metadata.js';
import { downstreamLocalAddress, mayConnect, outboundDestination, type Cidr } from './capture.js';
import { isLoopback, resolveTarget, type Target } from './resolve.js';
import type { RuntimeTable } from './runtime-table.js';
import type { TelemetrySink } from './telemetry-sink.js';
import type { AccessLogRecord } from './telemetry/access-log.js';

export interface ProxyState {
  current: RuntimeTable | undefined;
  rng: Random;
  pool: UpstreamPool;
  mirrors: MirrorSender;
  telemetry: TelemetrySink;
  /** `--real-external`: passthrough may resolve real DNS and leave loopback. */
  allowExternal: boolean;
  /** The lab's own container network (Docker), which the proxy may reach besides loopback. */
  labNetworks?: readonly Cidr[];
}

type HeaderOps = { set?: Record<string, string>; add?: Record<string, string>; remove?: string[] } | undefined;

/** Headers the inbound side consumes and must not hand to the app. */
const INBOUND_STRIP: ReadonlySet<string> = new Set([PEER_METADATA, PEER_METADATA_ID, REQUESTED_SERVER_NAME]);
const EXPECT: ReadonlySet<string> = new Set(['expect']);
const INBOUND_STRIP_AND_EXPECT: ReadonlySet<string> = new Set([...INBOUND_STRIP, 'expect']);
/** Response headers the proxy sets itself (as the gateway / inbound side, or as a client's sidecar). */
const SET_AS_SERVER: ReadonlySet<string> = new Set(['x-envoy-upstream-service-time', 'server']);
const SET_AS_CLIENT: ReadonlySet<string> = new Set(['x-envoy-upstream-service-time']);
/** Default mesh retry policy: 2 retries on connect failure (Istio's `connect-failure,...`). */
const CONNECT_RETRIES = 2;

/** Per-request state, filled as the request goes and handed to telemetry at the end. */
interface Exchange {
  sx: ServerExchange;
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
  upstream?: UpstreamRequest;
  mirrors?: MirrorCopy[];
}

function addr(address: string | undefined, port: number | undefined): string | undefined {
  if (!address) return undefined;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function createRequestHandler(state: ProxyState, listener: Listener) {
  return function handle(sx: ServerExchange): void {
    const rt = state.current;
    if (!rt) {
      sendLocalReply(sx, 503, 'proxy has no configuration yet');
      return;
    }
    const head = sx.head;
    const ex: Exchange = {
      sx,
      listener,
      rt,
      t0: performance.now(),
      done: false,
      replied: false,
      record: {
        startTime: Date.now(),
        method: head.method,
        path: head.target,
        protocol: head.minor === 1 ? 'HTTP/1.1' : 'HTTP/1.0',
        responseCode: 0,
        responseFlags: '-',
        bytesReceived: 0,
        bytesSent: 0,
        durationMs: 0,
        userAgent: head.headers['user-agent'],
        authority: head.headers.host,
        downstreamLocalAddress: listener.capture
          ? downstreamLocalAddress({ listener, nodeIp: rt.table.node.ip, localAddress: sx.info.localAddress, localPort: sx.info.localPort })
          : addr(sx.info.localAddress, sx.info.localPort),
      },
    };
    sx.onClose = (completed) => finish(state, ex, completed);
    route(state, ex);
  };
}

function route(state: ProxyState, ex: Exchange): void {
  const { sx, listener, rt } = ex;
  const h = sx.head.headers;
  let authority = h.host ?? '';
  let path = sx.head.target;
  let port = listener.port;
  let rcName = listener.routeConfig;

  let upstreamHostHeader = authority;
  if (listener.direction === 'outbound') {
    // On a captured listener the port comes from the connection's original destination (see capture.ts).
    const target = outboundDestination(listener, sx.info.localAddress, path, h.host, sx.head.hostCount);
    if (!target.ok) return local(ex, 400, 'DPE', 'invalid_authority', `bad request: ${target.reason}`);
    path = target.path;
    ex.record.path = path;
    port = target.routePort;
    authority = target.authority;
    upstreamHostHeader = target.hostHeader;
    ex.record.authority = target.hostHeader;
    rcName = rt.routeConfigs.has(String(port)) ? String(port) : '*';
  } else if (sx.head.hostCount > 1) {
    return local(ex, 400, 'DPE', 'duplicate_host_header', 'bad request: duplicate Host headers');
  }

  const rc = rt.routeConfigs.get(rcName);
  if (!rc) return local(ex, 404, 'NR', 'route_not_found', '');

  // Identity and tracing headers, as Envoy's connection manager sets them.
  const requestId = h['x-request-id'] || randomUUID();
  ex.record.requestId = requestId;
  let xff = h['x-forwarded-for'];
  const info = sx.info;
  if (listener.direction === 'gateway') {
    xff = xff ? `${xff},${info.remoteAddress}` : info.remoteAddress;
    ex.record.downstreamRemoteAddress = addr(info.remoteAddress, info.remotePort);
  } else {
    // Sidecars trust the edge's XFF: Envoy reports the last address with port 0.
    const last = xff?.split(',').pop()?.trim();
    ex.record.downstreamRemoteAddress = last ? `${last}:0` : addr(info.remoteAddress, info.remotePort);
  }
  ex.record.xForwardedFor = xff;

  if (listener.direction === 'inbound') {
    ex.peer = decodePeer(h[PEER_METADATA]);
    ex.record.requestedServerName = h[REQUESTED_SERVER_NAME];
  }

  const rreq: RouteRequest = { authority, path, method: sx.head.method, scheme: 'http', headers: h, port };
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
  const capturedOutbound = listener.capture !== undefined && listener.direction === 'outbound';
  if (capturedOutbound) logOriginalDestination(ex, port, cluster);

  // What the proxy sets itself, over whatever the client sent under these names.
  const ours: HeaderMap = { host: d.action.rewriteAuthority ?? upstreamHostHeader, 'x-request-id': requestId };
  if (xff) ours['x-forwarded-for'] = xff;
  if (listener.direction === 'gateway') ours['x-forwarded-proto'] = 'http';
  const toMeshPod = listener.direction !== 'inbound' && cluster.type === 'eds' && parseClusterName(cluster.name)?.direction === 'outbound';
  if (toMeshPod) {
    ours[PEER_METADATA] = rt.peerHeader;
    ours[PEER_METADATA_ID] = rt.table.node.id;
    const sni = sniForCluster(cluster.name);
    if (sni) ours[REQUESTED_SERVER_NAME] = sni;
  }
  // The proxy answered `100 Continue` itself (Envoy's default); the upstream gets no Expect.
  const drop = listener.direction === 'inbound' ? (sx.head.expectContinue ? INBOUND_STRIP_AND_EXPECT : INBOUND_STRIP) : sx.head.expectContinue ? EXPECT : undefined;
  // The body goes through verbatim, so its framing does too (Transfer-Encoding is hop-by-hop).
  if (sx.head.framing.kind === 'chunked') ours['transfer-encoding'] = 'chunked';
  const upstreamPath = rewritePath(d, path);
  if (listener.direction === 'inbound' && ex.record.requestedServerName) {
    const sni = /^outbound_\.(\d+)_\.[^_]*_\.(.+)$/.exec(ex.record.requestedServerName);
    if (sni) {
      const fqdn = sni[2]!;
      const [name, namespace] = fqdn.split('.');
      ex.cluster = { ...cluster, service: { fqdn, name: name!, namespace: namespace ?? '' } };
    }
  }

  const bodyless = sx.head.framing.kind === 'none';
  let lines: string;
  let headers: HeaderMap | undefined;
  if (d.action.requestHeaders || d.mirrors.length > 0) {
    // Header operations and mirror copies work on a map; the common case goes straight to text.
    headers = endToEndHeaders(h, drop);
    for (const name in ours) headers[name] = ours[name]!;
    applyHeaderOps(headers, d.action.requestHeaders);
    lines = headerLines(headers);
  } else {
    lines = requestHeaderLines(h, ours, drop) + headerLines(ours);
  }
  const headText = `${sx.head.method} ${upstreamPath} HTTP/1.1\r\n${lines}\r\n`;
  // Mirrors are started once, before the first attempt, so a retried request is mirrored once.
  if (headers) for (const m of d.mirrors) {
    const copy = mirror(state, ex, m, upstreamPath, headers, d.action.timeoutMs);
    if (copy) (ex.mirrors ??= []).push(copy);
  }

  const send = (target: Target, endpoint: Endpoint | undefined, attempt: number) => {
    if (capturedOutbound) logOriginalDestination(ex, port, cluster, target);
    if (!mayConnect(state, listener, target, endpoint)) {
      return local(ex, 502, '-', 'lab_refused_non_loopback_destination', 'the lab only sends traffic to loopback addresses');
    }
    ex.endpoint = endpoint;
    ex.record.upstreamHost = addr(target.address, target.port);
    forward(state, ex, target, headText, bodyless, d.action.timeoutMs, d.action.responseHeaders, (kind) => {
      if ((kind === 'connect' || kind === 'reset') && attempt < CONNECT_RETRIES && bodyless) {
        const next = pickTarget(state, ex, cluster, rcluster.balancer, authority, port);
        if (next) {
          void Promise.resolve(next).then((t) => (t ? send(t.target, t.endpoint, attempt + 1) : local(ex, 503, 'UF', 'upstream_reset_before_response_started{connection_failure}', LOCAL_REPLY_BODY.UF!)));
          return;
        }
      }
      if (kind === 'protocol') return local(ex, 502, 'UPE', 'upstream_reset_before_response_started{protocol_error}', LOCAL_REPLY_BODY.UPE!);
      const flags = attempt > 0 ? 'URX,UF' : 'UF';
      local(ex, 503, flags, 'upstream_reset_before_response_started{connection_failure}', LOCAL_REPLY_BODY.UF!);
    });
  };

  const picked = pickTarget(state, ex, cluster, rcluster.balancer, authority, port);
  if (!picked) return local(ex, 503, 'UH', 'no_healthy_upstream', LOCAL_REPLY_BODY.UH!);
  if (picked instanceof Promise) {
    // Resolution is async only for passthrough/DNS clusters; the body waits in the exchange (bounded).
    void picked.then((t) => {
      if (!t) return local(ex, 503, 'DF', 'dns_resolution_failed', LOCAL_REPLY_BODY.DF!);
      send(t.target, t.endpoint, 0);
    });
    return;
  }
  send(picked.target, picked.endpoint, 0);
}

type Picked = { target: Target; endpoint?: Endpoint };

/** A captured outbound request logs where the app was going: the service VIP, else the upstream target. */
function logOriginalDestination(ex: Exchange, port: number, cluster: Cluster, target?: Target): void {
  const info = ex.sx.info;
  ex.record.downstreamLocalAddress = downstreamLocalAddress({
    listener: ex.listener,
    nodeIp: ex.rt.table.node.ip,
    localAddress: info.localAddress,
    localPort: info.localPort,
    port,
    cluster,
    target,
  });
}

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

/** VirtualService header operations; values that could split a header line are dropped. */
function applyHeaderOps(headers: HeaderMap, ops: HeaderOps): void {
  if (!ops) return;
  for (const [k, v] of Object.entries(ops.set ?? {})) if (isSafeHeaderValue(v)) headers[k.toLowerCase()] = v;
  for (const [k, v] of Object.entries(ops.add ?? {})) {
    if (!isSafeHeaderValue(v)) continue;
    const name = k.toLowerCase();
    const prev = headers[name];
    headers[name] = prev === undefined ? v : [...(typeof prev === 'string' ? [prev] : prev), v];
  }
  for (const k of ops.remove ?? []) delete headers[k.toLowerCase()];
}

function forward(
  state: ProxyState,
  ex: Exchange,
  target: Target,
  headText: string,
  bodyless: boolean,
  timeoutMs: number | undefined,
  responseOps: HeaderOps,
  onFailure: (kind: UpstreamFailure) => void,
): void {
  const { sx } = ex;
  const sentAt = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const upstream: UpstreamRequest = state.pool.request(
    { address: target.address, port: target.port, localAddress: sourceAddress(ex, target) },
    headText,
    sx.head.method,
    bodyless,
    {
      head: (h: ResponseHead, localAddr) => {
        if (timer) clearTimeout(timer);
        if (ex.done || ex.replied) {
          upstream.abort();
          return 'raw';
        }
        const serviceTime = performance.now() - sentAt;
        ex.record.upstreamLocalAddress = addr(localAddr.address, localAddr.port);
        ex.record.upstreamServiceTimeMs = serviceTime;
        ex.record.responseCodeDetails = 'via_upstream';
        ex.record.responseCode = h.status;
        const asServer = ex.listener.direction === 'gateway' || ex.listener.direction === 'inbound';
        let lines: string;
        if (responseOps) {
          const out = endToEndResponseHeaders(h.headers);
          out['x-envoy-upstream-service-time'] = String(Math.floor(serviceTime));
          if (asServer) out['server'] = 'istio-envoy';
          applyHeaderOps(out, responseOps);
          lines = headerLines(out);
        } else {
          lines = responseHeaderLines(h.headers, asServer ? SET_AS_SERVER : SET_AS_CLIENT) + 'x-envoy-upstream-service-time: ' + Math.floor(serviceTime) + '\r\n';
          if (asServer) lines += 'server: istio-envoy\r\n';
        }
        let framing: ResponseFraming = h.framing.kind;
        let mode: 'raw' | 'decoded' = 'raw';
        // An HTTP/1.0 client cannot take chunks: it gets the payload, delimited by the close.
        if (framing === 'chunked' && !sx.canChunk) {
          framing = 'close';
          mode = 'decoded';
        }
        sx.writeHead(h.status, lines, framing);
        return mode;
      },
      data: (chunk) => {
        if (!sx.write(chunk)) upstream.pause();
      },
      end: () => sx.end(),
      error: (kind) => {
        if (timer) clearTimeout(timer);
        if (ex.done || ex.replied) return;
        if (sx.headersSent) {
          ex.record.responseFlags = 'UC';
          sx.destroy();
          return;
        }
        onFailure(kind);
      },
    },
  );
  ex.upstream = upstream;
  sx.onDrain = () => upstream.resume();
  if (timeoutMs !== undefined) {
    timer = setTimeout(() => {
      upstream.abort();
      local(ex, 504, 'UT', 'response_timeout', LOCAL_REPLY_BODY.UT!);
    }, timeoutMs);
  }
  if (bodyless) {
    for (const m of ex.mirrors ?? []) m.end();
    return;
  }
  const mirrors = ex.mirrors;
  upstream.onDrain = () => sx.resumeBody();
  sx.readBody({
    data(chunk) {
      if (!upstream.write(chunk)) sx.pauseBody();
      if (mirrors) for (const m of mirrors) m.write(chunk);
    },
    end() {
      upstream.end();
      if (mirrors) for (const m of mirrors) m.end();
    },
  });
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

function mirror(state: ProxyState, ex: Exchange, m: string, path: string, headers: HeaderMap, timeoutMs: number | undefined): MirrorCopy | undefined {
  const rc = ex.rt.clusters.get(m);
  // A mirror cluster that does not exist is skipped silently, like Envoy.
  if (!rc) return undefined;
  const ep = rc.balancer.pick();
  if (!ep) return undefined;
  const copyHeaders: HeaderMap = { ...headers };
  copyHeaders.host = shadowAuthority(String(headers.host ?? ''));
  const own = ex.rt.table.node.ip;
  copyHeaders['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']},${own}` : own;
  copyHeaders['x-envoy-internal'] = 'true';
  const sni = sniForCluster(m);
  if (sni) copyHeaders[REQUESTED_SERVER_NAME] = sni;
  return state.mirrors.send({ address: ep.address, port: ep.port }, ex.sx.head.method, path, copyHeaders, timeoutMs);
}

function local(ex: Exchange, status: number, flags: string, details: string, body: string): void {
  if (ex.done || ex.replied) return;
  ex.replied = true;
  ex.record.responseFlags = flags;
  ex.record.responseCodeDetails = details;
  ex.record.responseCode = status;
  // No upstream was chosen for these, so there is no upstream host to show.
  if (flags === 'NR' || flags === 'NC' || flags === 'UH') ex.record.upstreamHost = undefined;
  // Copies whose body will never be read in full are dropped; complete ones go on.
  if (!ex.sx.bodyDone) for (const m of ex.mirrors ?? []) m.abort();
  ex.record.bytesSent = sendLocalReply(ex.sx, status, body);
}

function finish(state: ProxyState, ex: Exchange, completed: boolean): void {
  if (ex.done) return;
  ex.done = true;
  const { sx, record } = ex;
  record.durationMs = performance.now() - ex.t0;
  const framing = sx.head.framing;
  record.bytesReceived = framing.kind === 'length' ? framing.length : sx.bodyBytes;
  if (ex.upstream && !ex.replied) record.bytesSent = ex.upstream.payloadBytes;
  if (!completed) {
    // The client went away before the response completed (Envoy's DC): stop the upstream request too.
    ex.upstream?.abort();
    for (const m of ex.mirrors ?? []) if (!sx.bodyDone) m.abort();
    const flag = sx.protocolError ? 'DPE' : 'DC';
    if (sx.protocolError) record.responseCodeDetails = sx.protocolError;
    record.responseFlags = record.responseFlags === '-' ? flag : `${record.responseFlags},${flag}`;
    if (!sx.headersSent) record.responseCode = 0;
  }
  const reporter = ex.listener.direction === 'inbound' ? 'destination' : 'source';
  state.telemetry.complete(ex.rt.table.node, {
    record,
    reporter,
    peer: ex.peer,
    cluster: ex.cluster,
    endpoint: reporter === 'source' ? ex.endpoint : undefined,
  });
}
