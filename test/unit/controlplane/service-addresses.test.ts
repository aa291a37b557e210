/**
 * Service virtual addresses: allocation (stable, deterministic, released on delete, rebuilt after a
 * restart), the checks on a requested `spec.clusterIP`, the apply path through the control plane,
 * and how `lab get svc` shows them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { columns } from '../../../src/cli/commands/get.js';
import { admit } from '../../../src/controlplane/admission.js';
import { ControlPlane, type ControlPlaneOptions } from '../../../src/controlplane/controlplane.js';
import { AddressingStore, checkClusterIPs, parseCidr, ServiceAddressAllocator, withClusterIP } from '../../../src/controlplane/service-addresses.js';
import { answer } from '../../../src/dns/resolver.js';
import { TYPE_A } from '../../../src/dns/wire.js';
import type { KubeObject } from '../../../src/model/objects.js';
import type { ServiceSpec } from '../../../src/model/specs.js';
import { LabError } from '../../../src/shared/errors.js';
import { StorePersistence } from '../../../src/store/persistence.js';
import { ObjectStore } from '../../../src/store/store.js';

const CIDR = '172.28.128.0/17';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const svc = (name: string, clusterIP?: string, namespace = 'istioinaction', extra: Partial<ServiceSpec> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace, labels: { app: name } },
  spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 3000 }], ...(clusterIP !== undefined ? { clusterIP } : {}), ...extra },
});
const ipOf = (o: KubeObject | undefined) => (o?.spec as ServiceSpec | undefined)?.clusterIP;
const toInt = (ip: string) => ip.split('.').reduce((n, p) => n * 256 + Number(p), 0);

function refused(fn: () => unknown): LabError {
  try {
    fn();
  } catch (err) {
    if (err instanceof LabError) return err;
    throw err;
  }
  throw new Error('expected a LabError');
}

describe('parseCidr', () => {
  it.each([
    ['172.28.128.0/17', { base: toInt('172.28.128.0'), prefix: 17, size: 32768 }],
    ['10.96.0.0/12', { base: toInt('10.96.0.0'), prefix: 12, size: 2 ** 20 }],
    [' 192.168.0.0/30 ', { base: toInt('192.168.0.0'), prefix: 30, size: 4 }],
  ])('%s', (cidr, want) => expect(parseCidr(cidr)).toEqual(want));

  it.each(['172.28.128.0', '172.28.128.0/31', '172.28.128.0/0', '172.28.128.1/17', '172.28.300.0/17', '172.28.01.0/24', 'abc/8', ''])('refuses %j', (cidr) => {
    expect(refused(() => parseCidr(cidr)).code).toBe('LAB_ERR_USAGE');
  });
});

describe('ServiceAddressAllocator', () => {
  it('picks inside the range, never its first or last address, the same for the same Service', () => {
    const a = new ServiceAddressAllocator(CIDR);
    const ip = a.allocate('istioinaction', 'catalog');
    expect(a.contains(ip)).toBe(true);
    expect(toInt(ip)).toBeGreaterThan(toInt('172.28.128.0'));
    expect(toInt(ip)).toBeLessThan(toInt('172.28.255.255'));
    // Asking again (re-apply without clusterIP) keeps it; a fresh lab picks the same one.
    expect(a.allocate('istioinaction', 'catalog')).toBe(ip);
    expect(new ServiceAddressAllocator(CIDR).allocate('istioinaction', 'catalog')).toBe(ip);
    // Another namespace is another Service.
    expect(a.allocate('default', 'catalog')).not.toBe(ip);
    expect(a.addressOf('istioinaction', 'catalog')).toBe(ip);
    expect(a.holderOf(ip)).toBe('istioinaction/catalog');
    expect(a.allocated).toBe(2);
  });

  it('keeps the stored address when the applied spec has none; takes a free requested one', () => {
    const a = new ServiceAddressAllocator(CIDR);
    expect(a.allocate('ns', 'a', undefined, '172.28.140.1')).toBe('172.28.140.1');
    expect(a.allocate('ns', 'a', '', '172.28.140.1')).toBe('172.28.140.1');
    expect(a.allocate('ns', 'b', '172.28.140.2')).toBe('172.28.140.2');
    expect(a.allocate('ns', 'b', '172.28.140.2', '172.28.140.2')).toBe('172.28.140.2');
    expect(a.holderOf('172.28.140.2')).toBe('ns/b');
  });

  it('headless: None gives no address and holds none', () => {
    const a = new ServiceAddressAllocator(CIDR);
    expect(a.allocate('ns', 'h', 'None')).toBe('None');
    expect(a.allocate('ns', 'h', undefined, 'None')).toBe('None');
    expect(a.addressOf('ns', 'h')).toBeUndefined();
    expect(a.allocated).toBe(0);
  });

  const refusals: Array<[string, () => unknown, RegExp]> = [
    ['outside the range (a container address)', () => new ServiceAddressAllocator(CIDR).allocate('ns', 'a', '172.28.0.5'), /"172\.28\.0\.5": provided IP is not in the valid range. The range of valid IPs is 172\.28\.128\.0\/17/],
    ['the range\'s first address', () => new ServiceAddressAllocator(CIDR).allocate('ns', 'a', '172.28.128.0'), /not in the valid range/],
    ['the range\'s last address (the bridge broadcast)', () => new ServiceAddressAllocator(CIDR).allocate('ns', 'a', '172.28.255.255'), /not in the valid range/],
    ['not an address', () => new ServiceAddressAllocator(CIDR).allocate('ns', 'a', 'catalog'), /"catalog": must be a valid IPv4 address or "None"/],
    ['IPv6', () => new ServiceAddressAllocator(CIDR).allocate('ns', 'a', 'fd00::1'), /valid IPv4 address/],
    [
      'taken by another Service',
      () => {
        const a = new ServiceAddressAllocator(CIDR);
        a.allocate('ns', 'a', '172.28.140.1');
        return a.allocate('ns', 'b', '172.28.140.1');
      },
      /"172\.28\.140\.1": provided IP is already allocated \(to Service ns\/a\)/,
    ],
    ['changed on re-apply', () => new ServiceAddressAllocator(CIDR).allocate('ns', 'a', '172.28.140.9', '172.28.140.1'), /field is immutable/],
    ['headless made a ClusterIP', () => new ServiceAddressAllocator(CIDR).allocate('ns', 'a', '172.28.140.9', 'None'), /field is immutable/],
    ['a ClusterIP made headless', () => new ServiceAddressAllocator(CIDR).allocate('ns', 'a', 'None', '172.28.140.9'), /field is immutable/],
  ];
  it.each(refusals)('refuses a requested clusterIP: %s', (_what, fn, message) => {
    const err = refused(fn);
    expect(err.code).toBe('LAB_ERR_INVALID_MANIFEST');
    expect(err.message).toMatch(/^Service "\w+" in namespace "ns" is invalid: spec\.clusterIP: /);
    expect(err.message).toMatch(message);
  });

  it('a stored address outside the range (another lab\'s range) is kept, not recorded', () => {
    const a = new ServiceAddressAllocator(CIDR);
    expect(a.allocate('ns', 'old', undefined, '10.96.0.10')).toBe('10.96.0.10');
    expect(a.allocated).toBe(0);
  });

  it('released on delete: the address can be taken again', () => {
    const a = new ServiceAddressAllocator(CIDR);
    const ip = a.allocate('ns', 'a');
    expect(refused(() => a.allocate('ns', 'b', ip)).message).toMatch(/already allocated/);
    a.release('ns', 'a');
    a.release('ns', 'never-there');
    expect(a.allocate('ns', 'b', ip)).toBe(ip);
    expect(a.allocated).toBe(1);
  });

  it('collisions probe to the next free address; a full range is a clear error', () => {
    const a = new ServiceAddressAllocator('10.0.0.0/29'); // 6 usable
    const got = new Set<string>();
    for (let i = 0; i < 6; i++) got.add(a.allocate('ns', `s${i}`));
    expect(got.size).toBe(6);
    for (const ip of got) expect(a.contains(ip)).toBe(true);
    expect(got.has('10.0.0.0') || got.has('10.0.0.7')).toBe(false);
    expect(refused(() => a.allocate('ns', 'one-too-many')).message).toMatch(/range 10\.0\.0\.0\/29 is full/);
  });

  it('many Services in a /17 all get distinct addresses', () => {
    const a = new ServiceAddressAllocator(CIDR);
    const ips = new Set(Array.from({ length: 2000 }, (_, i) => a.allocate(`ns${i % 7}`, `svc-${i}`)));
    expect(ips.size).toBe(2000);
  });

  it('rebuild: the stored Services\' addresses, first claim wins, others ignored', () => {
    const a = new ServiceAddressAllocator(CIDR);
    a.allocate('ns', 'forgotten');
    a.rebuild([svc('a', '172.28.140.1', 'ns'), svc('dup', '172.28.140.1', 'ns'), svc('h', 'None', 'ns'), svc('out', '10.0.0.1', 'ns'), svc('none', undefined, 'ns'), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { clusterIP: '172.28.140.3' } }]);
    expect(a.allocated).toBe(1);
    expect(a.addressOf('ns', 'a')).toBe('172.28.140.1');
    expect(a.addressOf('ns', 'dup')).toBeUndefined();
    expect(a.addressOf('ns', 'forgotten')).toBeUndefined();
  });

  it('clone is independent', () => {
    const a = new ServiceAddressAllocator(CIDR);
    const ip = a.allocate('ns', 'a');
    const c = a.clone();
    c.allocate('ns', 'b', '172.28.140.1');
    c.release('ns', 'a');
    expect(a.addressOf('ns', 'a')).toBe(ip);
    expect(a.holderOf('172.28.140.1')).toBeUndefined();
  });
});

describe('withClusterIP and checkClusterIPs', () => {
  it('fills a missing clusterIP, returns the object itself when it already says so; ExternalName untouched', () => {
    const a = new ServiceAddressAllocator(CIDR);
    const filled = withClusterIP(svc('catalog'), a);
    expect(ipOf(filled)).toBe(a.addressOf('istioinaction', 'catalog'));
    expect(withClusterIP(filled, a, filled)).toBe(filled);
    const ext = svc('ext', undefined, 'ns', { type: 'ExternalName' });
    expect(withClusterIP(ext, a)).toBe(ext);
    const dep: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: {} };
    expect(withClusterIP(dep, a)).toBe(dep);
  });

  it('checks a batch on a copy: errors by index, the allocator unchanged', () => {
    const a = new ServiceAddressAllocator(CIDR);
    a.allocate('istioinaction', 'taken', '172.28.140.1');
    const batch = [svc('ok'), svc('clash', '172.28.140.1'), svc('out', '172.28.0.9'), svc('x', '172.28.140.5'), svc('y', '172.28.140.5'), svc('same-twice', '172.28.141.1'), svc('same-twice', '172.28.141.2')];
    const errors = checkClusterIPs(batch, a, () => undefined);
    expect([...errors.keys()]).toEqual([1, 2, 4, 6]);
    expect(errors.get(1)).toMatch(/already allocated/);
    expect(errors.get(2)).toMatch(/not in the valid range/);
    expect(errors.get(4)).toMatch(/already allocated \(to Service istioinaction\/x\)/);
    expect(errors.get(6)).toMatch(/field is immutable/);
    expect(a.allocated).toBe(1);
    expect(a.addressOf('istioinaction', 'ok')).toBeUndefined();
  });
});

describe('AddressingStore', () => {
  it('every Service applied gets an address, kept on re-apply (unchanged), released on delete', () => {
    const store = new AddressingStore(new ServiceAddressAllocator(CIDR));
    const first = store.apply(svc('catalog'));
    const ip = ipOf(first.object)!;
    expect(store.serviceAddresses.contains(ip)).toBe(true);
    expect(store.apply(svc('catalog')).outcome).toBe('unchanged');
    // A changed spec without clusterIP (Flagger's generated apex Service) keeps it too.
    const changed = store.apply({ ...svc('catalog'), spec: { selector: { app: 'catalog-primary' }, ports: [{ port: 80 }] } });
    expect(changed.outcome).toBe('configured');
    expect(ipOf(changed.object)).toBe(ip);
    expect(store.delete('Service', 'istioinaction', 'catalog')).toBeDefined();
    expect(store.serviceAddresses.holderOf(ip)).toBeUndefined();
    // Other kinds pass through untouched.
    expect(store.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns' }, data: {} }).outcome).toBe('created');
  });

  it('a restarted control plane keeps the addresses and does not hand them out again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-addr-'));
    try {
      const file = join(dir, 'store.json');
      const before = new AddressingStore(new ServiceAddressAllocator(CIDR));
      const ips = ['catalog', 'webapp', 'forum'].map((n) => ipOf(before.apply(svc(n)).object)!);
      new StorePersistence(before, file).flush();

      const after = new AddressingStore(new ServiceAddressAllocator(CIDR));
      new StorePersistence(after, file).load();
      expect(['catalog', 'webapp', 'forum'].map((n) => ipOf(after.get('Service', 'istioinaction', n)))).toEqual(ips);
      expect(after.serviceAddresses.allocated).toBe(3);
      expect(refused(() => after.apply(svc('thief', ips[0]))).message).toMatch(/already allocated \(to Service istioinaction\/catalog\)/);
      expect(ipOf(after.apply(svc('webapp')).object)).toBe(ips[1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('admission with Service addresses', () => {
  const doc = (object: KubeObject, index = 0) => ({ object, source: { file: 'svc.yaml', index } });

  it('names the file, document, Service and field; nothing else is checked without an allocator', () => {
    const a = new ServiceAddressAllocator(CIDR);
    let err: LabError | undefined;
    try {
      admit([doc(svc('catalog')), doc(svc('webapp', '10.0.0.1'), 1)], 'istioinaction', [], a);
    } catch (e) {
      err = e as LabError;
    }
    expect(err?.code).toBe('LAB_ERR_INVALID_MANIFEST');
    expect(err?.message).toBe('svc.yaml: document 2 (Service webapp): spec.clusterIP: Invalid value: "10.0.0.1": provided IP is not in the valid range. The range of valid IPs is 172.28.128.0/17');
    expect(a.allocated).toBe(0);
    // The local runtime: no allocator, no opinion.
    expect(admit([doc(svc('webapp', '10.0.0.1'))], 'istioinaction', []).objects).toHaveLength(1);
  });

  it('a re-apply may omit or repeat the stored address but not change it', () => {
    const a = new ServiceAddressAllocator(CIDR);
    const stored = withClusterIP(svc('catalog'), a);
    const ip = ipOf(stored)!;
    expect(admit([doc(svc('catalog'))], 'istioinaction', [stored], a).objects).toHaveLength(1);
    expect(admit([doc(svc('catalog', ip))], 'istioinaction', [stored], a).objects).toHaveLength(1);
    expect(() => admit([doc(svc('catalog', '172.28.200.200'))], 'istioinaction', [stored], a)).toThrow(/spec\.clusterIP: Invalid value: "172\.28\.200\.200": field is immutable/);
  });
});

describe('ControlPlane with serviceCidr', () => {
  function controlPlane(serviceCidr?: string): ControlPlane {
    const dir = mkdtempSync(join(tmpdir(), 'cp-'));
    dirs.push(dir);
    const o = {
      runtime: {},
      addresses: {},
      mesh: {},
      meshFile: join(dir, 'mesh.yaml'),
      storeFile: join(dir, 'store.json'),
      logDir: dir,
      ingressPort: 0,
      realExternal: true,
      timeScale: 1,
      log: () => undefined,
      ...(serviceCidr ? { serviceCidr } : {}),
    } as unknown as ControlPlaneOptions;
    return new ControlPlane(o);
  }
  const doc = (object: KubeObject) => ({ object, source: { file: 'svc.yaml', index: 0 } });

  it('apply fills spec.clusterIP, keeps it on re-apply, and the DNS table answers it', async () => {
    const cp = controlPlane(CIDR);
    const r = await cp.apply({ documents: [doc(svc('catalog'))], wait: false });
    expect(r.results[0]).toMatchObject({ name: 'catalog', outcome: 'created' });
    const ip = ipOf(cp.store.get('Service', 'istioinaction', 'catalog'))!;
    expect(ip).toMatch(/^172\.28\.(1[3-9]\d|2\d\d)\.\d+$/);
    expect((await cp.apply({ documents: [doc(svc('catalog'))], wait: false })).results[0]!.outcome).toBe('unchanged');
    expect(ipOf(cp.store.get('Service', 'istioinaction', 'catalog'))).toBe(ip);
    await expect(cp.apply({ documents: [doc(svc('other', ip))], wait: false })).rejects.toThrow(/spec\.clusterIP: .*already allocated/);
    const table = cp.dnsTable({ 'jsonplaceholder.typicode.com': '172.28.0.9' });
    expect(answer('catalog.istioinaction.svc.cluster.local', TYPE_A, table)).toEqual({ rcode: 'NOERROR', addresses: [ip] });
    expect(answer('jsonplaceholder.typicode.com', TYPE_A, table)).toEqual({ rcode: 'NOERROR', addresses: ['172.28.0.9'] });
    await cp.delete({ items: [{ kind: 'Service', namespace: 'istioinaction', name: 'catalog' }], wait: false });
    expect(answer('catalog.istioinaction.svc.cluster.local', TYPE_A, cp.dnsTable()).rcode).toBe('NXDOMAIN');
    // The address is free again.
    expect((await cp.apply({ documents: [doc(svc('other', ip))], wait: false })).results[0]!.outcome).toBe('created');
  });

  it('without serviceCidr (local runtime) nothing changes', async () => {
    const cp = controlPlane();
    expect(cp.store).toBeInstanceOf(ObjectStore);
    expect(cp.store).not.toBeInstanceOf(AddressingStore);
    await cp.apply({ documents: [doc(svc('catalog'))], wait: false });
    expect(ipOf(cp.store.get('Service', 'istioinaction', 'catalog'))).toBeUndefined();
    expect(cp.dnsTable().hosts.size).toBe(0);
  });
});

describe('lab get svc columns', () => {
  const withMeta = (o: KubeObject): KubeObject => ({ ...o, metadata: { ...o.metadata, creationTimestamp: new Date(Date.now() - 5000).toISOString() } });

  it('kubectl\'s NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE; -o wide adds SELECTOR', () => {
    const c = columns('Service', false);
    expect(c.headers).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    expect(c.row(withMeta(svc('catalog', '172.28.130.7')))).toEqual(['catalog', 'ClusterIP', '172.28.130.7', '<none>', '80/TCP', '5s']);
    expect(c.row(withMeta(svc('catalog')))).toEqual(['catalog', 'ClusterIP', '<none>', '<none>', '80/TCP', '5s']);
    expect(c.row(withMeta(svc('h', 'None')))[2]).toBe('None');
    expect(c.row(withMeta({ ...svc('p'), spec: { ports: [{ port: 80 }, { port: 9090, protocol: 'UDP' }] } }))[4]).toBe('80/TCP,9090/UDP');
    const wide = columns('Service', true);
    expect(wide.headers).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
    expect(wide.row(withMeta(svc('catalog', '172.28.130.7')))[6]).toBe('app=catalog');
  });
});
