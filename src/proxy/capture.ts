/**
 * What a listener fed by the pod's iptables rules (`Listener.capture`) needs besides the ordinary
 * request path: the destination port of an outbound request recovered from the address the
 * connection arrived at, and the original destination the access log reports. Pure.
 *
 * Envoy reads the original destination from the socket (SO_ORIGINAL_DST); here the rules DNAT
 * service port P to 127.1.(P >> 8).(P & 255) on the capture port, and ports no rule names to
 * 127.1.0.0 (see src/capture/original-port.ts).
 */
import { decodeOriginalPort } from '../capture/original-port.js';
import type { Cluster, Listener } from '../model/table.js';
import { outboundTarget, type OutboundTarget } from './outbound-target.js';
import { isLoopback } from './resolve.js';

export type OutboundDestination =
  | (Extract<OutboundTarget, { ok: true }> & {
      /**
       * The port that picks the route configuration, is matched by `match.port` and is the
       * passthrough port: the original destination port when the connection's address names it,
       * else the authority's port (the Host's explicit port, else 80).
       */
      routePort: number;
      /** The decoded original destination port; undefined for 127.1.0.0 and uncaptured listeners. */
      originalPort: number | undefined;
    })
  | { ok: false; reason: string };

/**
 * Where an outbound request is going. `localAddress` is the address the downstream connection
 * arrived at; it only counts on a captured listener. The authority's port (what virtual hosts are
 * matched with) is the Host's explicit port, else the original port, else 80.
 */
export function outboundDestination(
  listener: Pick<Listener, 'capture'>,
  localAddress: string | undefined,
  url: string,
  host: string | undefined,
  hostCount: number,
): OutboundDestination {
  const originalPort = listener.capture ? decodeOriginalPort(localAddress) : undefined;
  const t = outboundTarget(url, host, hostCount, originalPort ?? 80);
  if (!t.ok) return t;
  return { ...t, routePort: originalPort ?? t.port, originalPort };
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export interface DownstreamLocalInput {
  listener: Pick<Listener, 'direction' | 'capture' | 'port'>;
  /** The proxy's pod IP (the table's node ip). */
  nodeIp: string;
  /** The address and port the downstream connection arrived at. */
  localAddress: string | undefined;
  localPort: number | undefined;
  /** Outbound: the destination port (`routePort`), once known. */
  port?: number;
  /** Outbound: the cluster the request was routed to, once known. */
  cluster?: Pick<Cluster, 'service'>;
  /** Outbound: the upstream address chosen (endpoint or passthrough target), once known. */
  target?: { address: string; port: number };
}

/**
 * %DOWNSTREAM_LOCAL_ADDRESS%, as Istio logs it. On a captured listener that is the original
 * destination, not the proxy's socket: inbound `<pod ip>:<container port>` (not :15100+i);
 * outbound `<service vip>:<port>` when the routed cluster's service has a VIP, else the upstream
 * target, else the address the connection arrived at. Uncaptured listeners log their socket.
 */
export function downstreamLocalAddress(i: DownstreamLocalInput): string | undefined {
  const raw = i.localAddress ? hostPort(i.localAddress, i.localPort ?? 0) : undefined;
  if (!i.listener.capture) return raw;
  if (i.listener.direction === 'inbound') return hostPort(i.nodeIp, i.listener.port);
  if (i.listener.direction !== 'outbound') return raw;
  const vip = i.cluster?.service?.vip;
  if (vip && i.port !== undefined) return hostPort(vip, i.port);
  if (i.target) return hostPort(i.target.address, i.target.port);
  return raw;
}

/**
 * The lab sends traffic to loopback only (unless `--real-external`), and on Docker to its own
 * network (the lab's bridge, `LAB_PROXY_NETWORK`), where every address is one of the lab's own
 * containers. Captured listeners may also reach any pod the registry knows.
 */
export function mayConnect(
  state: { allowExternal: boolean; labNetworks?: readonly Cidr[] },
  listener: Pick<Listener, 'capture'>,
  target: { address: string },
  endpoint: { address: string; pod?: string } | undefined,
): boolean {
  if (state.allowExternal || isLoopback(target.address)) return true;
  if (state.labNetworks?.some((n) => inCidr(target.address, n))) return true;
  return listener.capture !== undefined && endpoint?.pod !== undefined && endpoint.address === target.address;
}

export interface Cidr {
  base: number;
  mask: number;
}

function ipv4(address: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address.startsWith('::ffff:') ? address.slice(7) : address);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** `172.24.0.0/16` -> a Cidr; undefined for anything else. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text.trim());
  const base = m ? ipv4(m[1]!) : undefined;
  const bits = m ? Number(m[2]) : NaN;
  if (base === undefined || !(bits >= 0 && bits <= 32)) return undefined;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (base & mask) >>> 0, mask };
}

export function inCidr(address: string, n: Cidr): boolean {
  const a = ipv4(address);
  return a !== undefined && ((a & n.mask) >>> 0) === n.base;
}
