/**
 * Scrapes as the proxies make them: each simulated proxy records requests in the real metrics
 * registry with the real label builder, and its exposition text is parsed back, labelled with the pod.
 */
import type { KubeObject } from '../../../src/model/objects.js';
import { parsePrometheusText, type PromSample } from '../../../src/metrics/prometheus-text.js';
import { istioBaseLabels, istioRequestLabels, type PeerInfo } from '../../../src/proxy/telemetry/istio-labels.js';
import { IstioMetrics } from '../../../src/proxy/telemetry/metrics.js';

export function peer(workload: string, labels: Record<string, string>, namespace = 'istioinaction'): PeerInfo {
  return { workload, namespace, labels };
}

export const INGRESS = peer('istio-ingressgateway', { app: 'istio-ingressgateway', istio: 'ingressgateway' }, 'istio-system');
export const WEBAPP = peer('webapp', { app: 'webapp' });
export const FORUM = peer('forum', { app: 'forum', version: 'v1' });
export const CATALOG_V1 = peer('catalog', { app: 'catalog', version: 'v1' });
export const CATALOG_V2 = peer('catalog-v2', { app: 'catalog', version: 'v2' });

export function svc(name: string, namespace = 'istioinaction') {
  return { name: `outbound|80||${name}.${namespace}.svc.cluster.local`, service: { fqdn: `${name}.${namespace}.svc.cluster.local`, name, namespace } };
}

/** One proxy's metrics registry; `scrape()` is what its /stats/prometheus would give. */
export class FakeProxy {
  private readonly m = new IstioMetrics();
  constructor(
    readonly pod: string,
    readonly self: PeerInfo,
  ) {}

  /** `n` requests this proxy sent (client side) to `to` through `cluster`. */
  sent(n: number, to: PeerInfo | undefined, cluster: { name: string; service?: { fqdn: string; name: string; namespace: string } } | undefined, o: { code?: number; flags?: string; ms?: number; authority?: string } = {}): this {
    const base = istioBaseLabels({ reporter: 'source', source: this.self, destination: to, cluster, authority: o.authority });
    for (let i = 0; i < n; i++) this.m.record(istioRequestLabels(base, o.code ?? 200, o.flags ?? '-'), o.ms ?? 5, 0, 100);
    return this;
  }

  /** `n` requests this proxy received (server side) from `from` (undefined: a client outside the mesh). */
  received(n: number, from: PeerInfo | undefined, cluster: { name: string; service?: { fqdn: string; name: string; namespace: string } }, o: { code?: number; ms?: number } = {}): this {
    const base = istioBaseLabels({ reporter: 'destination', source: from, destination: this.self, cluster });
    for (let i = 0; i < n; i++) this.m.record(istioRequestLabels(base, o.code ?? 200, '-'), o.ms ?? 5, 0, 100);
    return this;
  }

  scrape(): PromSample[] {
    return parsePrometheusText(this.m.render()).map((s) => ({ ...s, labels: { ...s.labels, pod: this.pod } }));
  }
}

export function scrapeAll(...proxies: FakeProxy[]): PromSample[] {
  return proxies.flatMap((p) => p.scrape());
}

export function deployment(name: string, labels: Record<string, string>, namespace = 'istioinaction', replicas = 1): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'x' }] } } },
    status: { readyReplicas: replicas },
  };
}

export function object(kind: string, name: string, spec: Record<string, unknown>, namespace = 'istioinaction'): KubeObject {
  return { apiVersion: kind === 'Service' ? 'v1' : 'networking.istio.io/v1beta1', kind, metadata: { name, namespace }, spec };
}
