/**
 * Pod addressing without network namespaces. On Linux the whole 127.0.0.0/8 reaches the loopback
 * interface, so each pod gets its own address (127.B.1.x) and keeps the book's ports (catalog on
 * :3000, webapp on :8080), while its app listens on a hidden per-pod "localhost" (127.B.2.x) that
 * only the pod's sidecar forwards to. Elsewhere (macOS has only 127.0.0.1) every pod shares
 * 127.0.0.1 and each listener gets a port of its own; the tables carry the mapping.
 *
 * B is the lab's block: each lab claims one by binding its control plane to 127.B.0.1, so two labs
 * with different LAB_HOMEs never share addresses.
 */
import { createServer } from 'node:net';
import { platform } from 'node:os';
import { INBOUND_CAPTURE_BASE } from '../capture/original-port.js';
import { podAddress, type LabSubnet } from './docker/subnet.js';

/**
 * `network`: the Docker runtime's pods, each with its own address on the lab's bridge network and
 * iptables capture: the app binds its own ports on all addresses, the sidecar's inbound listeners
 * take capture ports (15100 + i) that the rules redirect the app's ports to.
 */
export type AddressMode = 'loopback-ips' | 'ports' | 'network';

export function defaultAddressMode(): AddressMode {
  const forced = process.env.LAB_ADDRESS_MODE;
  if (forced === 'ports' || forced === 'loopback-ips') return forced;
  return platform() === 'linux' ? 'loopback-ips' : 'ports';
}

export const SIDECAR_ADMIN_PORT = 15000;
export const SIDECAR_OUTBOUND_PORT = 15001;

export interface PodAddresses {
  /** The pod's address: what endpoints and logs show. */
  ip: string;
  /** Where the app binds (its "localhost"); only the sidecar's inbound cluster points here. */
  appIp: string;
  adminPort: number;
  outboundPort: number;
  /** Container port -> the port the sidecar's inbound listener binds. */
  inboundPorts: Record<string, number>;
  /** Container port -> the port the app binds. */
  appPorts: Record<string, number>;
  /** Network mode: the allocation slot, returned on release. */
  slot?: number;
}

/** A free TCP port on `host`, found by binding port 0 (the kernel's choice) and releasing it. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ host, port: 0 }, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export class AddressPlan {
  private next = 0;
  private readonly free: number[] = [];

  constructor(
    readonly mode: AddressMode,
    /** Second octet of the lab's block (loopback-ips mode). */
    readonly block: number,
    /** The lab network (network mode). */
    readonly subnet?: LabSubnet,
  ) {
    if (mode === 'network' && !subnet) throw new Error('network addressing needs the lab subnet');
  }

  get controlPlaneHost(): string {
    if (this.mode === 'network') return this.subnet!.controlPlane;
    return this.mode === 'loopback-ips' ? `127.${this.block}.0.1` : '127.0.0.1';
  }

  /** Where processes outside the mesh (the external stand-in) listen. */
  get externalHost(): string {
    if (this.mode === 'network') return this.subnet!.external;
    return this.mode === 'loopback-ips' ? `127.${this.block}.0.3` : '127.0.0.1';
  }

  /** Apps bind all addresses in their own network namespace; elsewhere their private address. */
  appBindHost(a: PodAddresses): string {
    return this.mode === 'network' ? '0.0.0.0' : a.appIp;
  }

  async allocate(containerPorts: number[]): Promise<PodAddresses> {
    const slot = this.free.pop() ?? this.next++;
    if (this.mode === 'network') {
      const ip = podAddress(this.subnet!, slot);
      return {
        ip,
        appIp: ip,
        adminPort: SIDECAR_ADMIN_PORT,
        outboundPort: SIDECAR_OUTBOUND_PORT,
        inboundPorts: Object.fromEntries(containerPorts.map((p, i) => [String(p), INBOUND_CAPTURE_BASE + i])),
        appPorts: Object.fromEntries(containerPorts.map((p) => [String(p), p])),
        slot,
      };
    }
    const third = Math.floor(slot / 250);
    const fourth = (slot % 250) + 2;
    if (third > 99) throw new Error('address plan exhausted (25,000 pods)');
    if (this.mode === 'loopback-ips') {
      const identity = Object.fromEntries(containerPorts.map((p) => [String(p), p]));
      return {
        ip: `127.${this.block}.${1 + third}.${fourth}`,
        appIp: `127.${this.block}.${101 + third}.${fourth}`,
        adminPort: SIDECAR_ADMIN_PORT,
        outboundPort: SIDECAR_OUTBOUND_PORT,
        inboundPorts: identity,
        appPorts: identity,
      };
    }
    const inboundPorts: Record<string, number> = {};
    const appPorts: Record<string, number> = {};
    for (const p of containerPorts) {
      inboundPorts[String(p)] = await freePort();
      appPorts[String(p)] = await freePort();
    }
    return { ip: '127.0.0.1', appIp: '127.0.0.1', adminPort: await freePort(), outboundPort: await freePort(), inboundPorts, appPorts };
  }

  /** Marks an address as taken (a pod adopted from an earlier control plane). */
  reserve(addresses: PodAddresses): void {
    const slot = addresses.slot ?? this.loopbackSlot(addresses.ip);
    if (slot === undefined) return;
    if (slot >= this.next) {
      for (let i = this.next; i < slot; i++) this.free.push(i);
      this.next = slot + 1;
    } else {
      const i = this.free.indexOf(slot);
      if (i >= 0) this.free.splice(i, 1);
    }
  }

  /** loopback-ips mode: 127.B.(1 + third).(fourth) back to its slot. */
  private loopbackSlot(ip: string): number | undefined {
    if (this.mode !== 'loopback-ips') return undefined;
    const [, , third, fourth] = ip.split('.').map(Number);
    return (third! - 1) * 250 + (fourth! - 2);
  }

  release(addresses: PodAddresses): void {
    if (this.mode === 'network') {
      if (addresses.slot !== undefined) this.free.push(addresses.slot);
      return;
    }
    if (this.mode !== 'loopback-ips') return;
    const [, , third, fourth] = addresses.ip.split('.').map(Number);
    this.free.push((third! - 1) * 250 + (fourth! - 2));
  }
}

/** Picks the lab's block: a stable guess from LAB_HOME, then the next free one. */
export function blockCandidates(labHome: string): number[] {
  let h = 0;
  for (const ch of labHome) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const first = 20 + (h % 200);
  return Array.from({ length: 200 }, (_, i) => 20 + ((first - 20 + i) % 200));
}
