import { describe, expect, test } from 'vitest';
import { analyze, hostMatches } from '../../../src/config/analyze.js';
import type { KubeObject } from '../../../src/model/objects.js';
import { BOOK } from './book-manifests.js';
import { check, dedent, doc, vs } from './helpers.js';

/** Valid objects (namespace istioinaction unless the text says otherwise) from manifest texts. */
function store(...texts: string[]): KubeObject[] {
  return texts.flatMap((t) => {
    const r = check(t, 'x.yaml');
    expect(r.errors).toEqual([]);
    return r.objects;
  });
}

const CATALOG = BOOK['services/catalog/kubernetes/catalog.yaml']!;
const CATALOG_V2 = BOOK['services/catalog/kubernetes/catalog-deployment-v2.yaml']!;
const DR = BOOK['ch5/catalog-dest-rule.yaml']!;
const GW = BOOK['ch5/catalog-gateway.yaml']!;

describe('the book\'s steps analyse clean', () => {
  test.each([
    ['5.2 edge', [CATALOG, GW, BOOK['ch5/catalog-vs.yaml']!]],
    ['5.2 edge v1', [CATALOG, CATALOG_V2, GW, DR, BOOK['ch5/catalog-vs-v1.yaml']!]],
    ['5.2 edge header', [CATALOG, CATALOG_V2, GW, DR, BOOK['ch5/catalog-vs-v2-request.yaml']!]],
    [
      '5.2 call graph',
      [CATALOG, CATALOG_V2, BOOK['services/webapp/kubernetes/webapp.yaml']!, BOOK['services/webapp/istio/webapp-catalog-gw-vs.yaml']!, DR, BOOK['ch5/catalog-vs-v2-request-mesh.yaml']!],
    ],
    ['5.3 10/90', [CATALOG, CATALOG_V2, DR, BOOK['ch5/catalog-vs-v2-10-90-mesh.yaml']!]],
    ['5.4 mirror', [CATALOG, CATALOG_V2, DR, BOOK['ch5/catalog-vs-v2-mirror.yaml']!]],
    ['5.5 service entry', [BOOK['services/forum/kubernetes/forum-all.yaml']!, BOOK['ch5/forum-serviceentry.yaml']!]],
  ])('%s', (_name, texts) => {
    expect(analyze(store(...texts)).map(String)).toEqual([]);
  });
});

describe('warnings', () => {
  test('a VirtualService bound to a gateway that does not exist (IST0101)', () => {
    const w = analyze(store(CATALOG, BOOK['ch5/catalog-vs.yaml']!));
    expect(w.map(String)).toEqual([
      'VirtualService istioinaction/catalog-vs-from-gw: Warning [IST0101] spec.gateways[0]: Referenced gateway not found: "catalog-gateway"',
    ]);
    expect(w[0]).toMatchObject({ kind: 'VirtualService', name: 'catalog-vs-from-gw', namespace: 'istioinaction', code: 'IST0101', path: 'spec.gateways[0]' });
  });

  test('gateway references resolve in the VirtualService\'s namespace, or the one named', () => {
    const gwElsewhere = GW.replace('name: catalog-gateway', 'name: catalog-gateway\n  namespace: istio-system');
    const text = vs(`
      hosts: [catalog.istioinaction.io]
      gateways: [istio-system/catalog-gateway, catalog-gateway, mesh]
      http:
      - match: [{gateways: [other/gw]}]
        route: [{destination: {host: catalog}}]
      `);
    expect(analyze(store(CATALOG, gwElsewhere, text)).map(String)).toEqual([
      'VirtualService istioinaction/catalog-vs: Warning [IST0101] spec.gateways[1]: Referenced gateway not found: "catalog-gateway"',
      'VirtualService istioinaction/catalog-vs: Warning [IST0101] spec.http[0].match[0].gateways[0]: Referenced gateway not found: "other/gw"',
    ]);
  });

  test('a subset no DestinationRule defines (IST0101), also for a mirror', () => {
    const text = vs(`
      hosts: [catalog]
      http:
      - route:
        - destination: {host: catalog, subset: version-v3}
        mirror: {host: catalog.istioinaction.svc.cluster.local, subset: version-v4}
      `);
    expect(analyze(store(CATALOG, DR, text)).map(String)).toEqual([
      'VirtualService istioinaction/catalog-vs: Warning [IST0101] spec.http[0].route[0].destination: Referenced host+subset in destinationrule not found: "catalog+version-v3"',
      'VirtualService istioinaction/catalog-vs: Warning [IST0101] spec.http[0].mirror: Referenced host+subset in destinationrule not found: "catalog.istioinaction.svc.cluster.local+version-v4"',
    ]);
  });

  test('the book\'s v1 route before the DestinationRule exists', () => {
    expect(analyze(store(CATALOG, BOOK['ch5/catalog-vs-v1-mesh.yaml']!)).map(String)).toEqual([
      'VirtualService istioinaction/catalog: Warning [IST0101] spec.http[0].route[0].destination: Referenced host+subset in destinationrule not found: "catalog+version-v1"',
    ]);
  });

  test('a DestinationRule in another namespace with a short host does not define the subset', () => {
    const drDefault = DR.replace('host: catalog.istioinaction.svc.cluster.local', 'host: catalog').replace('name: catalog', 'name: catalog\n  namespace: default');
    expect(analyze(store(CATALOG, drDefault, BOOK['ch5/catalog-vs-v1-mesh.yaml']!)).map(String)).toEqual([
      'VirtualService istioinaction/catalog: Warning [IST0101] spec.http[0].route[0].destination: Referenced host+subset in destinationrule not found: "catalog+version-v1"',
    ]);
  });

  test('a host not in the registry (IST0101); ServiceEntry hosts and wildcards count', () => {
    const se = doc('ServiceEntry', 'networking.istio.io/v1', 'wild', 'hosts: ["*.typicode.com"]\nports: [{number: 80, name: http, protocol: HTTP}]\nresolution: NONE\n');
    const text = vs(`
      hosts: [catalog]
      http:
      - route:
        - destination: {host: catalogue}
          weight: 50
        - destination: {host: catalog.istioinaction}
          weight: 25
        - destination: {host: jsonplaceholder.typicode.com}
          weight: 25
      `);
    expect(analyze(store(CATALOG, se, text)).map(String)).toEqual([
      'VirtualService istioinaction/catalog-vs: Warning [IST0101] spec.http[0].route[0].destination: Referenced host not found: "catalogue"',
      'VirtualService istioinaction/catalog-vs: Warning [IST0101] spec.http[0].route[1].destination: Referenced host not found: "catalog.istioinaction"',
    ]);
  });

  test('a port the service does not expose; an ambiguous port (IST0112)', () => {
    const twoPorts = dedent(`
      apiVersion: v1
      kind: Service
      metadata: {name: multi}
      spec:
        selector: {app: multi}
        ports: [{name: http, port: 80}, {name: http-admin, port: 9000}]
      `);
    const text = vs(`
      hosts: [catalog]
      http:
      - route:
        - destination: {host: catalog, port: {number: 8080}}
          weight: 50
        - destination: {host: multi}
          weight: 50
      `);
    expect(analyze(store(CATALOG, twoPorts, text)).map(String)).toEqual([
      'VirtualService istioinaction/catalog-vs: Warning [IST0101] spec.http[0].route[0].destination.port: Referenced host:port not found: "catalog:8080"',
      'VirtualService istioinaction/catalog-vs: Warning [IST0112] spec.http[0].route[1].destination: This VirtualService routes to a service "multi" that exposes multiple ports [80 9000]. Specifying a port in the destination is required to disambiguate.',
    ]);
  });

  test('weights not summing to 100 are informational', () => {
    const text = vs(`
      hosts: [catalog]
      http:
      - route:
        - destination: {host: catalog, subset: version-v1}
          weight: 1
        - destination: {host: catalog, subset: version-v2}
          weight: 3
      - route:
        - destination: {host: catalog, subset: version-v1}
          weight: 50
      `);
    const w = analyze(store(CATALOG, DR, text));
    expect(w.map(String)).toEqual([
      'VirtualService istioinaction/catalog-vs: Warning [LAB0002] spec.http[0].route: route weights sum to 4, not 100: Istio >= 1.15 takes them as relative (each destination gets weight/4); Istio before 1.15 rejected this',
      'VirtualService istioinaction/catalog-vs: Warning [LAB0002] spec.http[1].route: route weights sum to 50, not 100: Istio >= 1.15 takes them as relative (a lone destination gets all traffic); Istio before 1.15 rejected this',
      // Two match-less rules: the second can never be reached (Istio's MatchesAnalyzer).
      'VirtualService istioinaction/catalog-vs: Warning [IST0130] spec.http[1]: VirtualService rule #1 not used (only the last rule can have no matches).',
    ]);
    expect(w[0]!.code).toBe('LAB0002');
  });

  test('two mesh VirtualServices for one host (IST0109)', () => {
    const other = BOOK['ch5/catalog-vs-v1-mesh.yaml']!.replace('name: catalog', 'name: catalog-2').replace('- catalog\n  gateways', '- catalog.istioinaction.svc.cluster.local\n  gateways');
    const w = analyze(store(CATALOG, DR, BOOK['ch5/catalog-vs-v1-mesh.yaml']!, other));
    const message =
      'The VirtualServices istioinaction/catalog,istioinaction/catalog-2 associated with mesh gateway define the same host catalog.istioinaction.svc.cluster.local which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.';
    expect(w.map(String)).toEqual([
      `VirtualService istioinaction/catalog: Warning [IST0109] spec.hosts: ${message}`,
      `VirtualService istioinaction/catalog-2: Warning [IST0109] spec.hosts: ${message}`,
    ]);
  });

  test('a file and index set on a warning show in its text', () => {
    const [w] = analyze(store(CATALOG, BOOK['ch5/catalog-vs.yaml']!));
    w!.file = 'ch5/catalog-vs.yaml';
    w!.index = 0;
    expect(String(w)).toBe(
      'ch5/catalog-vs.yaml: document 1 (VirtualService catalog-vs-from-gw): Warning [IST0101] spec.gateways[0]: Referenced gateway not found: "catalog-gateway"',
    );
  });
});

test('hostMatches', () => {
  expect(hostMatches('*.example.com', 'a.example.com')).toBe(true);
  expect(hostMatches('*.example.com', 'a.b.example.com')).toBe(true);
  expect(hostMatches('*.example.com', 'example.com')).toBe(false);
  expect(hostMatches('*', 'anything')).toBe(true);
  expect(hostMatches('a.com', 'a.com')).toBe(true);
  expect(hostMatches('a.com', 'b.a.com')).toBe(false);
});
