import { describe, expect, test } from 'vitest';
import { apiVersionsOf, findKind, kindForApiVersion, KINDS, lookupKind, preferredApiVersion, resolveKind } from '../../../src/config/kinds.js';
import { LabError } from '../../../src/shared/errors.js';

describe('lookupKind (kubectl get NAME)', () => {
  test.each([
    ['vs', 'VirtualService'],
    ['VS', 'VirtualService'],
    ['virtualservice', 'VirtualService'],
    ['virtualservices', 'VirtualService'],
    ['VirtualService', 'VirtualService'],
    ['virtualservices.networking.istio.io', 'VirtualService'],
    ['vs.networking.istio.io', 'VirtualService'],
    ['VirtualService.networking.istio.io', 'VirtualService'],
    ['destinationrules.v1beta1.networking.istio.io', 'DestinationRule'],
    ['dr', 'DestinationRule'],
    ['gw', 'Gateway'],
    ['gateways', 'Gateway'],
    ['se', 'ServiceEntry'],
    ['serviceentries', 'ServiceEntry'],
    ['sidecar', 'Sidecar'],
    ['deploy', 'Deployment'],
    ['deployments.apps', 'Deployment'],
    ['deploy.v1.apps', 'Deployment'],
    ['svc', 'Service'],
    ['services', 'Service'],
    ['sa', 'ServiceAccount'],
    ['po', 'Pod'],
    ['pods', 'Pod'],
    ['ns', 'Namespace'],
    ['cm', 'ConfigMap'],
    ['canary', 'Canary'],
    ['canaries', 'Canary'],
    ['canaries.flagger.app', 'Canary'],
    ['metrictemplates', 'MetricTemplate'],
    [' svc ', 'Service'],
  ])('%s -> %s', (name, kind) => {
    expect(lookupKind(name).kind).toBe(kind);
  });

  test.each(['vss', 'virtualservices.apps', 'deploy.v2.apps', 'ingress', '', 'services.v1beta1'])('%j is unknown', (name) => {
    expect(findKind(name)).toBeUndefined();
    expect(() => lookupKind(name)).toThrow(LabError);
  });

  test('the error lists what is served and suggests a near name', () => {
    try {
      lookupKind('virtualservics');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(LabError);
      expect((e as LabError).code).toBe('LAB_ERR_UNKNOWN_KIND');
      expect((e as LabError).message).toBe(
        'the server doesn\'t have a resource type "virtualservics" (did you mean "virtualservice"?); supported: namespaces/ns, serviceaccounts/sa, services/svc, pods/po, configmaps/cm, deployments/deploy, gateways/gw, virtualservices/vs, destinationrules/dr, serviceentries/se, sidecars, canaries, metrictemplates',
      );
    }
  });
});

describe('kindForApiVersion (manifests)', () => {
  test.each([
    ['v1', 'Namespace', false],
    ['v1', 'ServiceAccount', true],
    ['v1', 'Service', true],
    ['v1', 'Pod', true],
    ['v1', 'ConfigMap', true],
    ['apps/v1', 'Deployment', true],
    ['networking.istio.io/v1alpha3', 'VirtualService', true],
    ['networking.istio.io/v1beta1', 'Gateway', true],
    ['networking.istio.io/v1', 'DestinationRule', true],
    ['networking.istio.io/v1', 'ServiceEntry', true],
    ['networking.istio.io/v1alpha3', 'Sidecar', true],
    ['flagger.app/v1beta1', 'Canary', true],
    ['flagger.app/v1beta1', 'MetricTemplate', true],
  ])('%s %s', (apiVersion, kind, namespaced) => {
    const info = kindForApiVersion(apiVersion, kind);
    expect(info.kind).toBe(kind);
    expect(info.namespaced).toBe(namespaced);
  });

  test.each([
    ['apps/v1beta1', 'Deployment', 'no matches for kind "Deployment" in version "apps/v1beta1": Deployment is served as apps/v1'],
    ['v1', 'Deployment', 'no matches for kind "Deployment" in version "v1": Deployment is served as apps/v1'],
    ['networking.istio.io/v1alpha3', 'virtualservice', 'no matches for kind "virtualservice" in version "networking.istio.io/v1alpha3" (did you mean "VirtualService"?); supported kinds: '],
    ['flagger.app/v1alpha1', 'Canary', 'no matches for kind "Canary" in version "flagger.app/v1alpha1": Canary is served as flagger.app/v1beta1'],
    ['networking.k8s.io/v1', 'Ingress', 'no matches for kind "Ingress" in version "networking.k8s.io/v1"; supported kinds: Namespace (v1), '],
  ])('%s %s is refused', (apiVersion, kind, message) => {
    const r = resolveKind(apiVersion, kind);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message.startsWith(message)).toBe(true);
    expect(() => kindForApiVersion(apiVersion, kind)).toThrow(message);
  });

  test('missing fields', () => {
    expect(resolveKind(undefined, 'Service')).toEqual({ ok: false, message: 'apiVersion not set' });
    expect(resolveKind('v1', '')).toEqual({ ok: false, message: 'kind not set' });
  });

  test('Pod is read-only, nothing else is', () => {
    expect(KINDS.filter((k) => k.readOnly).map((k) => k.kind)).toEqual(['Pod']);
  });

  test('Istio kinds take the three versions, v1 preferred', () => {
    const vs = lookupKind('vs');
    expect(apiVersionsOf(vs)).toEqual(['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3']);
    expect(preferredApiVersion(vs)).toBe('networking.istio.io/v1');
    expect(preferredApiVersion(lookupKind('svc'))).toBe('v1');
  });

  test('names are unique across kinds', () => {
    const all = KINDS.flatMap((k) => [k.kind.toLowerCase(), k.singular, k.plural, ...k.shortNames].filter((n, i, a) => a.indexOf(n) === i));
    expect(new Set(all).size).toBe(all.length);
  });
});
