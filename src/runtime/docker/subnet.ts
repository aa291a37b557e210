/**
 * The lab network's addresses. Pods and the lab's own containers get addresses from the lower half
 * of a /16 (172.N.0.0/17); Services' virtual addresses come from the upper half (172.N.128.0/17),
 * which no container ever has, so a connection to a virtual address that escapes capture dies on
 * the bridge instead of leaving the machine. Pure.
 */

export interface LabSubnet {
  /** `172.N`: the first two octets. */
  base: string;
  subnet: string;
  /** Where Docker may place containers (we pick every address ourselves, inside it). */
  ipRange: string;
  gateway: string;
  controlPlane: string;
  external: string;
  /** Services' virtual addresses. */
  serviceCidr: string;
}

export function labSubnet(second: number): LabSubnet {
  const base = `172.${second}`;
  return {
    base,
    subnet: `${base}.0.0/16`,
    ipRange: `${base}.0.0/17`,
    gateway: `${base}.0.1`,
    controlPlane: `${base}.0.2`,
    external: `${base}.0.3`,
    serviceCidr: `${base}.128.0/17`,
  };
}

/** compose.yaml's fixed network, 172.29.0.0/16, which `lab up` labs leave to it. */
export const COMPOSE_SUBNET_SECOND = 29;

/**
 * 172.18-31 (Docker's own default bridge is 172.17) except compose.yaml's 172.29, starting from a
 * stable guess per lab id.
 */
export function subnetCandidates(id: string): number[] {
  const pool = Array.from({ length: 14 }, (_, i) => 18 + i).filter((n) => n !== COMPOSE_SUBNET_SECOND);
  const first = parseInt(id.slice(0, 4), 16) % pool.length;
  return pool.map((_, i) => pool[(first + i) % pool.length]!);
}

/** Pod address number `slot` (0-based): 172.N.1.2 upward, 250 a row, staying inside the /17. */
export function podAddress(s: LabSubnet, slot: number): string {
  const third = 1 + Math.floor(slot / 250);
  if (third > 127) throw new Error(`lab network ${s.subnet} has no free pod address`);
  return `${s.base}.${third}.${(slot % 250) + 2}`;
}
