/**
 * The pod's capture rules, as Istio's init step writes them: inbound TCP for the app's ports goes
 * to the sidecar, the app's outbound TCP goes to the sidecar, the proxy's own traffic (UID 1337)
 * and loopback are left alone. Because Node cannot read SO_ORIGINAL_DST, each known outbound port
 * P is DNATed to 127.1.(P >> 8).(P & 255):15001 and each inbound container port to a capture port
 * of its own, so the proxy recovers the port from where the connection arrived
 * (`src/capture/original-port.ts`). Pure: produces `iptables-restore --noflush` input.
 */
import { encodeOriginalPort, OUTBOUND_CAPTURE_PORT, PROXY_UID, UNKNOWN_PORT_ADDRESS } from '../../capture/original-port.js';

export interface CaptureSpec {
  /** Container port -> the sidecar's inbound capture port. */
  inbound: Array<{ port: number; capturePort: number }>;
  /** Ports of the mesh's services; other ports reach the sidecar as "unknown". */
  outboundPorts: number[];
  /** Sources whose inbound connections are not captured (the control plane's readiness probes). */
  inboundExcludeSources: string[];
}

/**
 * `initial` also hooks the lab's chains into PREROUTING and OUTPUT; later updates only replace the
 * chains' contents (a chain declared in `--noflush` input is emptied and refilled atomically).
 */
export function captureRules(spec: CaptureSpec, initial: boolean): string {
  const lines = ['*nat', ':ISTIO_INBOUND - [0:0]', ':ISTIO_OUTPUT - [0:0]'];
  if (initial) {
    lines.push('-A PREROUTING -p tcp -j ISTIO_INBOUND', '-A OUTPUT -p tcp -j ISTIO_OUTPUT');
  }
  for (const src of spec.inboundExcludeSources) lines.push(`-A ISTIO_INBOUND -s ${src}/32 -j RETURN`);
  for (const { port, capturePort } of spec.inbound) {
    lines.push(`-A ISTIO_INBOUND -p tcp --dport ${port} -j REDIRECT --to-ports ${capturePort}`);
  }
  lines.push(`-A ISTIO_OUTPUT -m owner --uid-owner ${PROXY_UID} -j RETURN`, '-A ISTIO_OUTPUT -d 127.0.0.0/8 -j RETURN');
  for (const port of [...new Set(spec.outboundPorts)].sort((a, b) => a - b)) {
    lines.push(`-A ISTIO_OUTPUT -p tcp --dport ${port} -j DNAT --to-destination ${encodeOriginalPort(port)}:${OUTBOUND_CAPTURE_PORT}`);
  }
  lines.push(`-A ISTIO_OUTPUT -p tcp -j DNAT --to-destination ${UNKNOWN_PORT_ADDRESS}:${OUTBOUND_CAPTURE_PORT}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}
