import { describe, expect, it } from 'vitest';
import { diagnose, expectationOf, firstDifference, fqdn, type LabObject, type MeshState } from '../../../lab/tutorial/diagnose.js';
import { parseAccessLogLines } from '../../../src/proxy/telemetry/access-log.js';

const NS = ['-n', 'istioinaction'];
const dr: LabObject = { kind: 'DestinationRule', name: 'catalog', spec: { host: 'catalog.istioinaction.svc.cluster.local', subsets: [{ name: 'version-v1', labels: { version: 'v1' } }, { name: 'version-v2', labels: { version: 'v2' } }] } };
const vsV1: LabObject = { kind: 'VirtualService', name: 'catalog-vs-from-gw', spec: { hosts: ['catalog.istioinaction.io'], gateways: ['catalog-gateway'], http: [{ route: [{ destination: { host: 'catalog', subset: 'version-v1' } }] }] } };
const state = (objects: LabObject[], meshMode = 'ALLOW_ANY'): MeshState => ({ objects, meshMode });
const keys = (h: ReturnType<typeof diagnose>) => h.map((x) => x.key);

describe('expectationOf: the state a step leaves', () => {
  it('reads applied files, deletions and mesh mode from the actions', () => {
    const exp = expectationOf([
      { lab: ['delete', 'gateway,virtualservice', '--all', ...NS] },
      { lab: ['delete', 'deploy', 'catalog-v2', ...NS] },
      { lab: ['apply', '-f', 'ch5/catalog-dest-rule.yaml', ...NS] },
      { lab: ['install', '--set', 'meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY'] },
      { show: 'something else', run: async () => {} },
    ]);
    expect(exp.present.map((o) => `${o.kind}/${o.name} ${o.file}`)).toEqual(['DestinationRule/catalog ch5/catalog-dest-rule.yaml']);
    expect(exp.absent).toEqual([{ kind: 'Gateway' }, { kind: 'VirtualService' }, { kind: 'Deployment', name: 'catalog-v2' }]);
    expect(exp.meshMode).toBe('REGISTRY_ONLY');
  });
});

describe('diagnose: the likely cause, in the mesh\'s terms', () => {
  const step7 = expectationOf([{ lab: ['apply', '-f', 'ch5/catalog-dest-rule.yaml', ...NS] }, { lab: ['apply', '-f', 'ch5/catalog-vs-v1.yaml', ...NS] }]);
  const nc = parseAccessLogLines([
    '[2026-01-01T00:00:00.000Z] "GET /items HTTP/1.1" 503 NC cluster_not_found - "-" 0 0 0 - "127.0.0.1" "curl/lab" "id-1" "catalog.istioinaction.io" "-" - - 127.0.0.1:8080 127.0.0.1:5000 - -',
  ]);

  it('a route to a subset no DestinationRule defines (503 NC): names the subset, not the flag alone', () => {
    const h = diagnose(step7, state([vsV1]), nc);
    expect(keys(h)).toEqual(['subsetUndefined', 'notApplied']);
    expect(h[0]!.params).toEqual({ vs: 'catalog-vs-from-gw', subset: 'version-v1', host: 'catalog' });
    expect(h[1]!.params).toMatchObject({ kind: 'DestinationRule', name: 'catalog', file: 'ch5/catalog-dest-rule.yaml' });
  });

  it('nothing to say when the lab holds what the step applies', () => {
    expect(diagnose(step7, state([dr, vsV1]))).toEqual([]);
  });

  it('an edited object: the first field that differs from the file', () => {
    const edited = { ...vsV1, spec: { ...(vsV1.spec as object), http: [{ route: [{ destination: { host: 'catalog', subset: 'version-v2' } }] }] } };
    const h = diagnose(step7, state([dr, edited]));
    expect(h).toEqual([{ key: 'differs', params: { kind: 'VirtualService', name: 'catalog-vs-from-gw', file: 'ch5/catalog-vs-v1.yaml', field: 'spec.http[0].route[0].destination.subset' } }]);
  });

  it('the header match bound to the edge only: webapp\'s sidecar never sees the rule', () => {
    const step11 = expectationOf([{ lab: ['apply', '-f', 'ch5/catalog-vs-v2-request-mesh.yaml', ...NS] }]);
    const edge: LabObject = { kind: 'VirtualService', name: 'catalog-vs-from-gw', spec: { hosts: ['catalog.istioinaction.io'], gateways: ['catalog-gateway'], http: [{ match: [{ headers: { 'x-istio-cohort': { exact: 'internal' } } }], route: [{ destination: { host: 'catalog', subset: 'version-v2' } }] }, { route: [{ destination: { host: 'catalog', subset: 'version-v1' } }] }] } };
    const h = diagnose(step11, state([dr, edge]));
    expect(keys(h)).toEqual(['vsNotForMesh', 'notApplied']);
    expect(h[0]!.params).toEqual({ name: 'catalog-vs-from-gw', gateways: 'catalog-gateway', file: 'ch5/catalog-vs-v2-request-mesh.yaml' });
  });

  it('objects a step deletes, a mesh mode not set, and log flags', () => {
    const exp = expectationOf([{ lab: ['delete', 'deploy', 'catalog-v2', ...NS] }, { lab: ['install', '--set', 'meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY'] }]);
    const h = diagnose(exp, state([{ kind: 'Deployment', name: 'catalog-v2' }]), nc);
    expect(h).toEqual([
      { key: 'stillThere', params: { kind: 'Deployment', name: 'catalog-v2', short: 'deploy' } },
      { key: 'meshMode', params: { want: 'REGISTRY_ONLY', have: 'ALLOW_ANY' } },
      { key: 'flagNC', params: {} },
    ]);
  });
});

describe('helpers', () => {
  it('fqdn: short names resolve in the namespace', () => {
    expect(fqdn('catalog')).toBe('catalog.istioinaction.svc.cluster.local');
    expect(fqdn('catalog.istioinaction')).toBe('catalog.istioinaction.svc.cluster.local');
    expect(fqdn('catalog.istioinaction.svc.cluster.local')).toBe('catalog.istioinaction.svc.cluster.local');
  });

  it('firstDifference compares only what the file says (the lab may add defaults)', () => {
    expect(firstDifference({ a: 1, b: [{ c: 'x' }] }, { a: '1', b: [{ c: 'x', d: 2 }], e: 3 })).toBeUndefined();
    expect(firstDifference({ b: [{ c: 'x' }] }, { b: [] })).toBe('spec.b');
    expect(firstDifference({ a: { b: 1 } }, {})).toBe('spec.a');
  });
});
