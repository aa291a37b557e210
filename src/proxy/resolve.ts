/**
 * Where an upstream host name goes. The lab has no DNS server: hosts outside the registry that
 * must be reachable (the external stand-in) come in the table's `hosts` map; IP literals go where
 * they say; anything else only resolves through the machine's DNS when the lab runs with
 * `--real-external`.
 */
import { isIP } from 'node:net';

export interface Target {
  address: string;
  port: number;
}

export async function resolveTarget(
  host: string,
  port: number,
  hosts: Record<string, Target>,
  allowRealDns: boolean,
): Promise<Target | undefined> {
  const mapped = hosts[`${host}:${port}`];
  if (mapped) return mapped;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare)) return { address: bare, port };
  if (!allowRealDns) return undefined;
  try {
    // Loaded on first use: only --real-external needs DNS, and every proxy process would carry it.
    const { lookup } = await import('node:dns/promises');
    const r = await lookup(bare);
    return { address: r.address, port };
  } catch {
    return undefined;
  }
}

/**
 * The lab only ever sends traffic to loopback (and, with --real-external, the real host): a
 * passthrough request naming any other address is refused rather than sent.
 */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address === 'localhost';
}
