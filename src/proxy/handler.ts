/**
 * The request path: route by the current table, forward to one endpoint, mirror, and report.
 * Everything it decides comes from the immutable RuntimeTable; all it owns is the sockets, through
 * the HTTP/1.1 engine in ./http1.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Cluster, Endpoint, Listener, RetryPolicy } from '../model/table.js';
import { parseClusterName, sniForCluster } from '../model/names.js';
import { decide } from '../router/decide.js';
import type { Balancer } from '../router/load-balancer.js';
import { backoffMs, hostKey, joinResponseFlags, pickAvoiding, retryVerdict, type AttemptOutcome } from '../router/retry.js';
import { rewritePath } from '../router/rewrite.js';
import type { Random } from '../router/random.js';
import type { RouteRequest } from '../router/request.js';
import { endToEndHeaders, endToEndResponseHeaders, requestHeaderLines, responseHeaderLines } from './hop-headers.js';
import type { UpstreamPool, UpstreamRequest } from './http1/client.js';
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
  /** The current attempt. */
  upstream?: UpstreamRequest;
  mirrors?: MirrorCopy[];
  /** Stops the upstream side's timers and load accounting (set once it exists). */
  cleanup?: () => void;
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

  new Upstream(state, ex, {
    clusterName: d.cluster,
    cluster,
    balancer: rcluster.balancer,
    authority,
    port,
    headText,
    bodyless,
    timeoutMs: d.action.timeoutMs,
    responseOps: d.action.responseHeaders,
    policy: d.action.retryPolicy,
    capturedOutbound,
  }).start();
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

/** What every attempt of one request shares. */
interface Plan {
  /** The routed cluster's name: a retry looks it up again in the table being served by then. */
  clusterName: string;
  cluster: Cluster;
  balancer: Balancer;
  authority: string;
  port: number;
  headText: string;
  bodyless: boolean;
  /** The route timeout: one deadline for all attempts together. */
  timeoutMs: number | undefined;
  responseOps: HeaderOps;
  policy: RetryPolicy | undefined;
  capturedOutbound: boolean;
}

/**
 * Request bodies up to this size are kept while they stream upstream, so that the request can be
 * sent again (Envoy buffers request bodies for retries likewise, up to its buffer limit). A longer
 * body is not retried: the attempt's failure is the answer.
 */
const RETRY_BODY_LIMIT = 64 * 1024;

/**
 * The upstream side of one request: its attempts, under the route's retry policy (see
 * router/retry.ts for the decisions). An attempt that fails before any response byte went
 * downstream, or that answers a retriable status, is retried after Envoy's back-off on another
 * host when there is one (`previous_hosts`), from the cluster as the proxy serves it by then;
 * the last attempt's outcome is the answer, with `URX` when the policy would have retried it.
 */
class Upstream {
  private retries = 0;
  /** The last attempt's endpoint (the address itself for clusters without endpoints). */
  private lastHost: { address: string; port: number } | undefined;
  private tried: Set<string> | undefined;
  /** The body so far while it fits RETRY_BODY_LIMIT (undefined chunks: it did not). */
  private body: { chunks: Buffer[] | undefined; bytes: number; ended: boolean } | undefined;
  private reading = false;
  private routeTimer: NodeJS.Timeout | undefined;
  private perTryTimer: NodeJS.Timeout | undefined;
  private backoffTimer: NodeJS.Timeout | undefined;
  /** The endpoint the current attempt counts against (LEAST_REQUEST's active requests). */
  private activeBalancer: Balancer | undefined;
  private activeEndpoint: Endpoint | undefined;

  constructor(
    private readonly state: ProxyState,
    private readonly ex: Exchange,
    private readonly plan: Plan,
  ) {
    if (plan.policy && !plan.bodyless) this.body = { chunks: [], bytes: 0, ended: false };
    ex.cleanup = () => {
      this.clearTimers();
      this.release();
    };
  }

  start(): void {
    const { state, ex, plan } = this;
    const picked = pickTarget(state, ex, plan.cluster, plan.balancer, plan.authority, plan.port);
    this.launch(picked, plan.balancer);
  }

  private launch(picked: Picked | Promise<Picked | undefined> | undefined, balancer: Balancer): void {
    const ex = this.ex;
    if (!picked) return local(ex, 503, 'UH', 'no_healthy_upstream', LOCAL_REPLY_BODY.UH!);
    if (picked instanceof Promise) {
      // Resolution is async only for passthrough/DNS clusters; the body waits in the exchange (bounded).
      void picked.then((t) => {
        if (!t) return local(ex, 503, 'DF', 'dns_resolution_failed', LOCAL_REPLY_BODY.DF!);
        this.attempt(t, balancer);
      });
      return;
    }
    this.attempt(picked, balancer);
  }

  private get replayable(): boolean {
    return this.plan.bodyless || this.body?.chunks !== undefined;
  }

  private attempt(picked: Picked, balancer: Balancer): void {
    const { state, ex, plan } = this;
    if (ex.done || ex.replied) return;
    const { target, endpoint } = picked;
    const { sx } = ex;
    if (plan.capturedOutbound) logOriginalDestination(ex, plan.port, plan.cluster, target);
    if (!mayConnect(state, ex.listener, target, endpoint)) {
      return local(ex, 502, '-', 'lab_refused_non_loopback_destination', 'the lab only sends traffic to loopback addresses');
    }
    ex.endpoint = endpoint;
    ex.record.upstreamHost = addr(target.address, target.port);
    this.lastHost = endpoint ?? target;
    if (endpoint) {
      balancer.onStart(endpoint);
      this.activeBalancer = balancer;
      this.activeEndpoint = endpoint;
    }
    const first = this.retries === 0;
    const sentAt = performance.now();
    const upstream: UpstreamRequest = state.pool.request(
      { address: target.address, port: target.port, localAddress: sourceAddress(ex, target) },
      plan.headText,
      sx.head.method,
      plan.bodyless,
      {
        head: (h: ResponseHead, localAddr) => {
          this.clearPerTry();
          if (ex.done || ex.replied || ex.upstream !== upstream) {
            upstream.abort();
            return 'raw';
          }
          let urx = false;
          if (plan.policy) {
            const verdict = retryVerdict(plan.policy, { kind: 'response', status: h.status, grpcStatus: grpcStatusOf(h) }, this.retries, this.replayable);
            if (verdict === 'retry') {
              upstream.abort();
              this.release();
              this.retry();
              return 'raw';
            }
            urx = verdict === 'limit';
          }
          this.clearTimers();
          if (urx) ex.record.responseFlags = 'URX';
          return this.forwardHead(h, localAddr, performance.now() - sentAt);
        },
        data: (chunk) => {
          if (!sx.write(chunk)) upstream.pause();
        },
        end: () => {
          this.release();
          sx.end();
        },
        error: (kind) => {
          this.clearPerTry();
          this.release();
          if (ex.done || ex.replied || ex.upstream !== upstream) return;
          if (sx.headersSent) {
            this.clearTimers();
            ex.record.responseFlags = joinResponseFlags([ex.record.responseFlags, 'UC']);
            sx.destroy();
            return;
          }
          this.failed(kind === 'connect' ? { kind: 'connect-failure' } : kind === 'protocol' ? { kind: 'protocol-error' } : { kind: 'reset' });
        },
      },
    );
    ex.upstream = upstream;
    sx.onDrain = () => upstream.resume();
    if (first && plan.timeoutMs !== undefined) this.routeTimer = setTimeout(() => this.routeTimeout(), plan.timeoutMs);
    const perTry = plan.policy?.perTryTimeoutMs;
    if (perTry !== undefined) this.perTryTimer = setTimeout(() => this.perTryTimeout(upstream), perTry);
    if (plan.bodyless) {
      if (first) for (const m of ex.mirrors ?? []) m.end();
      return;
    }
    upstream.onDrain = () => sx.resumeBody();
    if (!this.reading) {
      this.reading = true;
      this.readBody();
      return;
    }
    // A retry: what has arrived of the body goes again, the rest follows as it comes.
    const body = this.body!;
    for (const c of body.chunks!) upstream.write(c);
    if (body.ended) upstream.end();
    sx.resumeBody();
  }

  /** Starts the request body's one read: each chunk goes to the current attempt (and is kept). */
  private readBody(): void {
    const { ex } = this;
    const { sx } = ex;
    const mirrors = ex.mirrors;
    const body = this.body;
    sx.readBody({
      data: (chunk) => {
        if (body?.chunks) {
          body.bytes += chunk.length;
          if (body.bytes <= RETRY_BODY_LIMIT) body.chunks.push(chunk);
          else {
            body.chunks = undefined;
            // Waiting to retry, and the request can no longer be sent again: Envoy gives up with 507.
            if (this.backoffTimer) return this.bufferExceeded();
          }
        }
        if (!ex.upstream!.write(chunk)) sx.pauseBody();
        if (mirrors) for (const m of mirrors) m.write(chunk);
      },
      end() {
        if (body) body.ended = true;
        ex.upstream!.end();
        if (mirrors) for (const m of mirrors) m.end();
      },
    });
  }

  /** The attempt failed before any response byte went downstream: retry, or answer. */
  private failed(outcome: AttemptOutcome): void {
    const ex = this.ex;
    const verdict = retryVerdict(this.plan.policy, outcome, this.retries, this.replayable);
    if (verdict === 'retry') return this.retry();
    const urx = verdict === 'limit' ? 'URX' : '-';
    switch (outcome.kind) {
      case 'connect-failure':
        return local(ex, 503, joinResponseFlags(['UF', urx]), 'upstream_reset_before_response_started{connection_failure}', LOCAL_REPLY_BODY.UF!);
      case 'protocol-error':
        return local(ex, 502, joinResponseFlags(['UPE', urx]), 'upstream_reset_before_response_started{protocol_error}', LOCAL_REPLY_BODY.UPE!);
      case 'per-try-timeout':
        return local(ex, 504, joinResponseFlags(['UT', urx]), 'upstream_per_try_timeout', LOCAL_REPLY_BODY.UT!);
      default:
        return local(ex, 503, joinResponseFlags(['UC', urx]), 'upstream_reset_before_response_started{connection_termination}', LOCAL_REPLY_BODY.UC!);
    }
  }

  private retry(): void {
    const policy = this.plan.policy!;
    this.retries++;
    (this.tried ??= new Set()).add(hostKey(this.lastHost!));
    const wait = backoffMs(policy, this.retries - 1, Math.random());
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      this.retryPick();
    }, wait);
  }

  private bufferExceeded(): void {
    local(this.ex, 507, '-', 'request_payload_exceeded_retry_buffer_limit', 'exceeded request buffer limit while retrying upstream');
  }

  private retryPick(): void {
    const { state, ex, plan } = this;
    if (ex.done || ex.replied) return;
    if (!this.replayable) return this.bufferExceeded();
    // Like Envoy's, a retry picks from the cluster as it is now: endpoints pushed since the first
    // attempt (a pod gone, a new one ready) count.
    const now = state.current?.clusters.get(plan.clusterName);
    const cluster = now && now.cluster.type === plan.cluster.type ? now.cluster : plan.cluster;
    const balancer = now && now.cluster.type === plan.cluster.type ? now.balancer : plan.balancer;
    const policy = plan.policy;
    const tried = this.tried!;
    const avoiding = { pick: () => pickAvoiding(policy, () => balancer.pick(), tried) };
    this.launch(pickTarget(state, ex, cluster, avoiding, plan.authority, plan.port), balancer);
  }

  private perTryTimeout(upstream: UpstreamRequest): void {
    this.perTryTimer = undefined;
    const ex = this.ex;
    if (ex.done || ex.replied || ex.upstream !== upstream) return;
    upstream.abort();
    this.release();
    this.failed({ kind: 'per-try-timeout' });
  }

  private routeTimeout(): void {
    this.routeTimer = undefined;
    this.ex.upstream?.abort();
    local(this.ex, 504, 'UT', 'response_timeout', LOCAL_REPLY_BODY.UT!);
  }

  /** Sends the response head downstream; returns how the body should be delivered. */
  private forwardHead(h: ResponseHead, localAddr: { address: string; port: number }, serviceTime: number): 'raw' | 'decoded' {
    const { ex, plan } = this;
    const { sx } = ex;
    ex.record.upstreamLocalAddress = addr(localAddr.address, localAddr.port);
    ex.record.upstreamServiceTimeMs = serviceTime;
    ex.record.responseCodeDetails = 'via_upstream';
    ex.record.responseCode = h.status;
    const asServer = ex.listener.direction === 'gateway' || ex.listener.direction === 'inbound';
    let lines: string;
    if (plan.responseOps) {
      const out = endToEndResponseHeaders(h.headers);
      out['x-envoy-upstream-service-time'] = String(Math.floor(serviceTime));
      if (asServer) out['server'] = 'istio-envoy';
      applyHeaderOps(out, plan.responseOps);
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
  }

  private clearPerTry(): void {
    if (this.perTryTimer) clearTimeout(this.perTryTimer);
    this.perTryTimer = undefined;
  }

  private clearTimers(): void {
    this.clearPerTry();
    if (this.routeTimer) clearTimeout(this.routeTimer);
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.routeTimer = undefined;
    this.backoffTimer = undefined;
  }

  /** The current attempt no longer counts as an active request on its endpoint. */
  private release(): void {
    const ep = this.activeEndpoint;
    if (!ep) return;
    this.activeEndpoint = undefined;
    this.activeBalancer!.onEnd(ep);
    this.activeBalancer = undefined;
  }
}

/** A response's `grpc-status` header (a trailers-only gRPC reply), for the gRPC retry conditions. */
function grpcStatusOf(h: ResponseHead): string | undefined {
  for (const [name, value] of h.headers) if (name === 'grpc-status') return value;
  return undefined;
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
  ex.cleanup?.();
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
  ex.cleanup?.();
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
    record.responseFlags = joinResponseFlags([record.responseFlags, flag]);
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
