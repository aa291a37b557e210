import { describe, expect, it } from 'vitest';
import {
  canonicalRevision,
  canonicalService,
  istioBaseLabels,
  istioRequestLabels,
  type PeerInfo,
  peerFromNode,
} from '../../../src/proxy/telemetry/istio-labels.js';

const webapp: PeerInfo = { workload: 'webapp', namespace: 'istioinaction', labels: { app: 'webapp' } };
const catalogV2: PeerInfo = {
  workload: 'catalog-v2',
  namespace: 'istioinaction',
  labels: { app: 'catalog', version: 'v2' },
};
const catalogCluster = {
  name: 'outbound|80|version-v2|catalog.istioinaction.svc.cluster.local',
  service: { fqdn: 'catalog.istioinaction.svc.cluster.local', name: 'catalog', namespace: 'istioinaction' },
};

describe('canonical service and revision', () => {
  it('prefers the canonical labels, then app/version, then workload/latest', () => {
    const explicit: PeerInfo = {
      workload: 'w',
      namespace: 'n',
      labels: {
        app: 'a',
        version: 'v',
        'service.istio.io/canonical-name': 'cn',
        'service.istio.io/canonical-revision': 'cr',
      },
    };
    expect(canonicalService(explicit)).toBe('cn');
    expect(canonicalRevision(explicit)).toBe('cr');
    expect(canonicalService(catalogV2)).toBe('catalog');
    expect(canonicalRevision(catalogV2)).toBe('v2');
    const bare: PeerInfo = { workload: 'sleep', namespace: 'default', labels: {} };
    expect(canonicalService(bare)).toBe('sleep');
    expect(canonicalRevision(bare)).toBe('latest');
  });
});

describe('istioBaseLabels', () => {
  it('describes a client-side report of webapp -> catalog v2', () => {
    const base = istioBaseLabels({
      reporter: 'source',
      source: webapp,
      destination: catalogV2,
      cluster: catalogCluster,
    });
    expect(istioRequestLabels(base, 200, '-')).toEqual({
      reporter: 'source',
      source_workload: 'webapp',
      source_workload_namespace: 'istioinaction',
      source_app: 'webapp',
      source_version: 'unknown',
      source_canonical_service: 'webapp',
      source_canonical_revision: 'latest',
      destination_workload: 'catalog-v2',
      destination_workload_namespace: 'istioinaction',
      destination_app: 'catalog',
      destination_version: 'v2',
      destination_service: 'catalog.istioinaction.svc.cluster.local',
      destination_service_name: 'catalog',
      destination_service_namespace: 'istioinaction',
      destination_canonical_service: 'catalog',
      destination_canonical_revision: 'v2',
      request_protocol: 'http',
      response_code: '200',
      response_flags: '-',
      connection_security_policy: 'unknown',
    });
    expect(Object.isFrozen(base)).toBe(true);
  });

  it('reports unknown peers as unknown and defaults the server side to no mTLS', () => {
    const base = istioBaseLabels({ reporter: 'destination', destination: catalogV2, cluster: catalogCluster });
    expect(base.source_workload).toBe('unknown');
    expect(base.source_canonical_service).toBe('unknown');
    expect(base.source_canonical_revision).toBe('unknown');
    expect(base.connection_security_policy).toBe('none');
  });

  it('names Passthrough and BlackHole clusters like Istio does', () => {
    const pass = istioBaseLabels({
      reporter: 'source',
      source: webapp,
      cluster: { name: 'PassthroughCluster' },
      authority: 'jsonplaceholder.typicode.com:80',
    });
    expect(pass.destination_service).toBe('jsonplaceholder.typicode.com');
    expect(pass.destination_service_name).toBe('PassthroughCluster');
    expect(pass.destination_service_namespace).toBe('unknown');
    expect(pass.destination_workload).toBe('unknown');
    const hole = istioBaseLabels({ reporter: 'source', cluster: { name: 'BlackHoleCluster' }, authority: '[::1]' });
    expect(hole.destination_service).toBe('[::1]');
    expect(hole.destination_service_name).toBe('BlackHoleCluster');
    expect(istioRequestLabels(hole, 502, '').response_flags).toBe('-');
  });

  it('reads a NodeInfo as a peer', () => {
    expect(
      peerFromNode({
        id: 'sidecar~127.20.1.5~catalog-v2-1.istioinaction~istioinaction.svc.cluster.local',
        role: 'sidecar',
        pod: 'catalog-v2-1',
        namespace: 'istioinaction',
        ip: '127.20.1.5',
        labels: catalogV2.labels,
        workload: 'catalog-v2',
      }),
    ).toEqual(catalogV2);
  });
});
