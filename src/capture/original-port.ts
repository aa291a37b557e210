/**
 * How a sidecar learns the port an app's connection was really for. Istio's Envoy reads it from
 * the socket (SO_ORIGINAL_DST); Node cannot. So the pod's iptables rules DNAT each known service
 * port P to a loopback address that spells P, 127.1.(P >> 8).(P & 255), on the one outbound capture
 * port, and the proxy decodes the address its connection arrived at. Ports no rule knows arrive at
 * 127.1.0.0, which decodes to "unknown" (the proxy then takes the port from the Host header).
 * Pure: used by the iptables rule generator and by the proxy.
 */

/** The sidecar's outbound capture port, Istio's 15001. */
export const OUTBOUND_CAPTURE_PORT = 15001;
/** Inbound capture ports: container port number i of the pod is redirected to 15100 + i. */
export const INBOUND_CAPTURE_BASE = 15100;
/** The proxy's user id: iptables lets its own connections out uncaptured (Istio's 1337). */
export const PROXY_UID = 1337;

export function encodeOriginalPort(port: number): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`not a TCP port: ${port}`);
  return `127.1.${port >> 8}.${port & 255}`;
}

/** The address unknown ports are sent to. */
export const UNKNOWN_PORT_ADDRESS = '127.1.0.0';

/**
 * The original port a captured connection was for, from the local address it arrived at;
 * undefined for 127.1.0.0 (a port no rule names) and for any address outside 127.1.0.0/16.
 */
export function decodeOriginalPort(localAddress: string | undefined): number | undefined {
  if (!localAddress) return undefined;
  const a = localAddress.startsWith('::ffff:') ? localAddress.slice(7) : localAddress;
  const m = /^127\.1\.(\d{1,3})\.(\d{1,3})$/.exec(a);
  if (!m) return undefined;
  const hi = Number(m[1]);
  const lo = Number(m[2]);
  if (hi > 255 || lo > 255) return undefined;
  const port = hi * 256 + lo;
  return port === 0 ? undefined : port;
}
