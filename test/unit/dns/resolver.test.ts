/** What the lab's DNS answers: Services with virtual addresses by FQDN, static hosts, NXDOMAIN else. */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/model/objects.js';
import { answer, buildDnsTable, dnsTableFromHosts, normalizeName } from '../../../src/dns/resolver.js';
import { TYPE_A, TYPE_AAAA, TYPE_ANY } from '../../../src/dns/wire.js';

const svc = (name: string, namespace: string | undefined, clusterIP?: string, type?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, ...(namespace ? { namespace } : {}) },
  spec: { selector: { app: name }, ports: [{ port: 80 }], ...(clusterIP ? { clusterIP } : {}), ...(type ? { type } : {}) },
});

const objects: KubeObject[] = [
  svc('catalog', 'istioinaction', '172.28.130.7'),
  svc('webapp', 'istioinaction', '172.28.200.1'),
  svc('headless', 'istioinaction', 'None'),
  svc('local-runtime', 'istioinaction'),
  svc('kube-dns-ish', undefined, '172.28.128.10'),
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'catalog', namespace: 'istioinaction' }, spec: { clusterIP: '172.28.1.1' } },
];
const table = buildDnsTable(objects, { 'jsonplaceholder.typicode.com': '172.28.0.50', 'Bad.Example.': 'not-an-ip' });

describe('buildDnsTable', () => {
  it('has every Service with an address by its FQDN, plus the extra hosts, and nothing else', () => {
    expect([...table.hosts].sort()).toEqual(
      [
        ['catalog.istioinaction.svc.cluster.local', '172.28.130.7'],
        ['jsonplaceholder.typicode.com', '172.28.0.50'],
        ['kube-dns-ish.default.svc.cluster.local', '172.28.128.10'],
        ['webapp.istioinaction.svc.cluster.local', '172.28.200.1'],
      ].sort(),
    );
  });

  it('a Service wins over an extra host of the same name', () => {
    const t = buildDnsTable([svc('catalog', 'istioinaction', '172.28.130.7')], { 'catalog.istioinaction.svc.cluster.local': '1.2.3.4' });
    expect(t.hosts.get('catalog.istioinaction.svc.cluster.local')).toBe('172.28.130.7');
  });
});

describe('answer', () => {
  const cases: Array<[string, number, string, string[]]> = [
    ['catalog.istioinaction.svc.cluster.local', TYPE_A, 'NOERROR', ['172.28.130.7']],
    ['CATALOG.IstioInAction.SVC.cluster.LOCAL', TYPE_A, 'NOERROR', ['172.28.130.7']],
    ['catalog.istioinaction.svc.cluster.local.', TYPE_A, 'NOERROR', ['172.28.130.7']],
    ['catalog.istioinaction.svc.cluster.local', TYPE_ANY, 'NOERROR', ['172.28.130.7']],
    // A known name, another type: no data (so the A lookup that follows still works).
    ['catalog.istioinaction.svc.cluster.local', TYPE_AAAA, 'NOERROR', []],
    ['catalog.istioinaction.svc.cluster.local', 16, 'NOERROR', []],
    ['jsonplaceholder.typicode.com', TYPE_A, 'NOERROR', ['172.28.0.50']],
    ['kube-dns-ish.default.svc.cluster.local', TYPE_A, 'NOERROR', ['172.28.128.10']],
    // Short names are the search list's job, as in Kubernetes.
    ['catalog', TYPE_A, 'NXDOMAIN', []],
    ['catalog.istioinaction', TYPE_A, 'NXDOMAIN', []],
    ['catalog.istioinaction.svc', TYPE_A, 'NXDOMAIN', []],
    // What the search list tries first for an external name, and the like.
    ['jsonplaceholder.typicode.com.istioinaction.svc.cluster.local', TYPE_A, 'NXDOMAIN', []],
    ['catalog.other.svc.cluster.local', TYPE_A, 'NXDOMAIN', []],
    ['headless.istioinaction.svc.cluster.local', TYPE_A, 'NXDOMAIN', []],
    ['local-runtime.istioinaction.svc.cluster.local', TYPE_A, 'NXDOMAIN', []],
    ['bad.example', TYPE_A, 'NXDOMAIN', []],
    ['example.com', TYPE_A, 'NXDOMAIN', []],
    ['', TYPE_A, 'NXDOMAIN', []],
    // Ancestors of known names exist (no data), so NXDOMAIN never hides a name below them.
    ['istioinaction.svc.cluster.local', TYPE_A, 'NOERROR', []],
    ['svc.cluster.local', TYPE_A, 'NOERROR', []],
    ['cluster.local', TYPE_AAAA, 'NOERROR', []],
    ['typicode.com', TYPE_A, 'NOERROR', []],
  ];
  it.each(cases)('%s type %i -> %s %j', (name, type, rcode, addresses) => {
    expect(answer(name, type, table)).toEqual({ rcode, addresses });
  });

  it('an empty table answers NXDOMAIN for everything', () => {
    expect(answer('catalog.istioinaction.svc.cluster.local', TYPE_A, dnsTableFromHosts([]))).toEqual({ rcode: 'NXDOMAIN', addresses: [] });
  });
});

describe('normalizeName', () => {
  it.each([
    ['Catalog.', 'catalog'],
    ['catalog..', 'catalog.'],
    ['ÀB', 'Àb'],
    ['', ''],
    ['.', ''],
  ])('%j -> %j', (input, out) => expect(normalizeName(input)).toBe(out));
});
