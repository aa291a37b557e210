/**
 * Service virtual addresses (`spec.clusterIP`), allocated the way the Kubernetes API server does
 * for ClusterIP Services, from a range no container ever has (the Docker runtime's upper half of
 * the lab network), so a packet to one that escapes capture dies locally.
 *
 * - A Service applied without `spec.clusterIP` gets one; a re-apply without it keeps the stored
 *   one (kubectl apply leaves fields it does not set alone).
 * - The pick is deterministic: the first free address from a hash of `namespace/name`, so the same
 *   Services get the same addresses in every lab (unless two of them collide).
 * - A requested address must be a valid IPv4 address inside the range and free; `None` (headless)
 *   means no address. Once set, the field is immutable, as in Kubernetes.
 * - Addresses are released when their Service is deleted, and rebuilt from the stored Services
 *   (persistence restores them with their addresses).
 *
 * `AddressingStore` applies this to every Service that reaches the store, whoever applies it (the
 * API, or Flagger's controller generating `-primary`/`-canary` Services).
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../model/objects.js';
import type { ServiceSpec } from '../model/specs.js';
import { LabError } from '../shared/errors.js';
import { ObjectStore, type ApplyResult } from '../store/store.js';

/** The value that makes a Service headless. */
export const HEADLESS = 'None';

export interface Cidr {
  /** The network address as an unsigned 32-bit integer. */
  base: number;
  prefix: number;
  /** Number of addresses in the range. */
  size: number;
}

function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

function intToIp(n: number): string {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

/** Parses `a.b.c.d/n` (the address must be the range's first, prefix 1-30). Throws LabError. */
export function parseCidr(cidr: string): Cidr {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(cidr.trim());
  const base = m ? ipToInt(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (base === undefined || !(prefix >= 1 && prefix <= 30)) {
    throw new LabError('LAB_ERR_USAGE', `service CIDR "${cidr}" is not an IPv4 range like 172.28.128.0/17 (prefix 1-30)`);
  }
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) throw new LabError('LAB_ERR_USAGE', `service CIDR "${cidr}": ${m![1]} is not the first address of a /${prefix}`);
  return { base, prefix, size };
}

function serviceKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? 'default'}/${name}`;
}

/** A refused `spec.clusterIP`; `detail` is the message without the Service and field. */
export class ClusterIPError extends LabError {
  constructor(
    ns: string | undefined,
    name: string,
    readonly detail: string,
  ) {
    super('LAB_ERR_INVALID_MANIFEST', `Service "${name}" in namespace "${ns ?? 'default'}" is invalid: spec.clusterIP: ${detail}`);
  }
}

function fieldError(ns: string | undefined, name: string, message: string): ClusterIPError {
  return new ClusterIPError(ns, name, message);
}

export class ServiceAddressAllocator {
  readonly cidr: string;
  private readonly range: Cidr;
  /** address -> `ns/name` */
  private readonly holders = new Map<number, string>();
  /** `ns/name` -> address */
  private readonly byService = new Map<string, number>();

  constructor(cidr: string) {
    this.cidr = cidr.trim();
    this.range = parseCidr(cidr);
  }

  /** Number of addresses Services can get: the range minus its first and last. */
  get capacity(): number {
    return this.range.size - 2;
  }

  get allocated(): number {
    return this.holders.size;
  }

  /** Whether `ip` is an address this allocator hands out (in the range, not its first or last). */
  contains(ip: string): boolean {
    const n = ipToInt(ip);
    return n !== undefined && this.usable(n);
  }

  private usable(n: number): boolean {
    return n > this.range.base && n < this.range.base + this.range.size - 1;
  }

  addressOf(namespace: string | undefined, name: string): string | undefined {
    const n = this.byService.get(serviceKey(namespace, name));
    return n === undefined ? undefined : intToIp(n);
  }

  /** `ns/name` of the Service holding `ip`, if any. */
  holderOf(ip: string): string | undefined {
    const n = ipToInt(ip);
    return n === undefined ? undefined : this.holders.get(n);
  }

  /**
   * The `spec.clusterIP` a Service gets when applied: `requested` (the applied spec's value) if
   * given and allowed, else `previous` (the stored Service's), else a new address. Records it.
   * Throws a LabError naming `spec.clusterIP` for an invalid, out-of-range, taken or changed one.
   */
  allocate(namespace: string | undefined, name: string, requested?: string, previous?: string): string {
    const key = serviceKey(namespace, name);
    if (requested !== undefined && requested !== '' && previous !== undefined && previous !== '' && requested !== previous) {
      throw fieldError(namespace, name, `Invalid value: "${requested}": field is immutable (it is "${previous}")`);
    }
    const want = requested !== undefined && requested !== '' ? requested : previous !== undefined && previous !== '' ? previous : undefined;
    if (want === HEADLESS) {
      this.release(namespace, name);
      return HEADLESS;
    }
    if (want !== undefined) {
      const n = ipToInt(want);
      if (n === undefined) throw fieldError(namespace, name, `Invalid value: "${want}": must be a valid IPv4 address or "None"`);
      if (!this.usable(n)) {
        // A stored address from before (another range, the local runtime) is kept as it is.
        if (want === previous) return want;
        throw fieldError(namespace, name, `Invalid value: "${want}": provided IP is not in the valid range. The range of valid IPs is ${this.cidr}`);
      }
      const holder = this.holders.get(n);
      if (holder !== undefined && holder !== key) throw fieldError(namespace, name, `Invalid value: "${want}": provided IP is already allocated (to Service ${holder})`);
      this.record(key, n);
      return want;
    }
    const held = this.byService.get(key);
    if (held !== undefined) return intToIp(held);
    const n = this.pick(key);
    if (n === undefined) throw fieldError(namespace, name, `Internal error: failed to allocate a service IP: range ${this.cidr} is full`);
    this.record(key, n);
    return intToIp(n);
  }

  /** Frees the Service's address, if it has one. */
  release(namespace: string | undefined, name: string): void {
    const key = serviceKey(namespace, name);
    const n = this.byService.get(key);
    if (n === undefined) return;
    this.byService.delete(key);
    if (this.holders.get(n) === key) this.holders.delete(n);
  }

  /**
   * Forgets everything and records the addresses of `services` (others are ignored): the stored
   * Services after a restart. The first Service (in the order given) to claim an address keeps it.
   */
  rebuild(services: readonly KubeObject[]): void {
    this.holders.clear();
    this.byService.clear();
    for (const s of services) this.adopt(s);
  }

  /**
   * Records a stored Service's address as it is (restored from disk): kept if it is in the range
   * and free, ignored otherwise. Returns whether it was recorded.
   */
  adopt(service: KubeObject): boolean {
    if (service.kind !== 'Service') return false;
    const ip = (service.spec as ServiceSpec | undefined)?.clusterIP;
    const n = ip ? ipToInt(ip) : undefined;
    const key = serviceKey(service.metadata.namespace, service.metadata.name);
    if (n === undefined || !this.usable(n)) return false;
    const holder = this.holders.get(n);
    if (holder !== undefined && holder !== key) return false;
    this.record(key, n);
    return true;
  }

  clone(): ServiceAddressAllocator {
    const c = new ServiceAddressAllocator(this.cidr);
    for (const [n, key] of this.holders) c.holders.set(n, key);
    for (const [key, n] of this.byService) c.byService.set(key, n);
    return c;
  }

  private record(key: string, n: number): void {
    const old = this.byService.get(key);
    if (old !== undefined && old !== n && this.holders.get(old) === key) this.holders.delete(old);
    this.byService.set(key, n);
    this.holders.set(n, key);
  }

  /** First free usable address at or after the hash of `key`, wrapping around. */
  private pick(key: string): number | undefined {
    const usable = this.capacity;
    if (this.holders.size >= usable) return undefined;
    const h = createHash('sha256').update(key).digest().readUInt32BE(0);
    const start = h % usable;
    for (let i = 0; i < usable; i++) {
      const n = this.range.base + 1 + ((start + i) % usable);
      if (!this.holders.has(n)) return n;
    }
    return undefined;
  }
}

/** ExternalName Services have no cluster IP in Kubernetes. */
function takesAddress(o: KubeObject): boolean {
  return o.kind === 'Service' && (o.spec as ServiceSpec | undefined)?.type !== 'ExternalName';
}

/** `o` with `spec.clusterIP` as the allocator decides (the object itself when it already says so). */
export function withClusterIP(o: KubeObject, allocator: ServiceAddressAllocator, previous?: KubeObject): KubeObject {
  if (!takesAddress(o)) return o;
  const spec = (o.spec ?? {}) as ServiceSpec;
  const prev = (previous?.spec as ServiceSpec | undefined)?.clusterIP;
  const ip = allocator.allocate(o.metadata.namespace, o.metadata.name, spec.clusterIP, prev);
  if (spec.clusterIP === ip) return o;
  return { ...o, spec: { ...(o.spec ?? {}), clusterIP: ip } };
}

/**
 * Admission's check: would these Services (about to be applied together) get addresses? Tried on
 * a copy of the allocator, so nothing changes. Returns the error for each Service that would fail,
 * by index in `objects`.
 */
export function checkClusterIPs(objects: readonly KubeObject[], allocator: ServiceAddressAllocator, stored: (o: KubeObject) => KubeObject | undefined): Map<number, string> {
  const trial = allocator.clone();
  const errors = new Map<number, string>();
  // The same Service twice in one apply: the second sees the first as stored.
  const applied = new Map<string, KubeObject>();
  objects.forEach((o, i) => {
    if (!takesAddress(o)) return;
    const key = serviceKey(o.metadata.namespace, o.metadata.name);
    try {
      applied.set(key, withClusterIP(o, trial, applied.get(key) ?? stored(o)));
    } catch (err) {
      if (!(err instanceof ClusterIPError)) throw err;
      errors.set(i, err.detail);
    }
  });
  return errors;
}

/**
 * The object store with Service addresses: every Service applied gets its `spec.clusterIP`
 * (kept across re-applies), deleted ones give theirs back, restored ones are recorded.
 */
export class AddressingStore extends ObjectStore {
  constructor(readonly serviceAddresses: ServiceAddressAllocator) {
    super();
  }

  override apply(input: KubeObject): ApplyResult {
    if (input.kind !== 'Service') return super.apply(input);
    const prev = this.get('Service', input.metadata.namespace, input.metadata.name);
    return super.apply(withClusterIP(input, this.serviceAddresses, prev));
  }

  override restore(obj: KubeObject): void {
    super.restore(obj);
    this.serviceAddresses.adopt(obj);
  }

  override delete(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const gone = super.delete(kind, namespace, name);
    if (gone && kind === 'Service') this.serviceAddresses.release(namespace, name);
    return gone;
  }
}
