/** The chapter's manifests parse and carry the book's content. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const root = path.resolve(import.meta.dirname, '../../..');

type Doc = any;

function load(rel: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(path.join(root, rel), 'utf8'));
  for (const d of docs) expect(d.errors, rel).toEqual([]);
  return docs.map((d) => d.toJS() as Doc).filter((d) => d !== null && d !== undefined);
}

const kinds = (docs: Doc[]) => docs.map((d) => `${d.kind}/${d.metadata.name}`);
const env = (deploy: Doc) => Object.fromEntries((deploy.spec.template.spec.containers[0].env as Doc[]).map((e) => [e.name, e.value ?? e.valueFrom]));

describe('services manifests', () => {
  it('catalog.yaml: ServiceAccount, Service 80->3000, Deployment v1', () => {
    const docs = load('services/catalog/kubernetes/catalog.yaml');
    expect(kinds(docs)).toEqual(['ServiceAccount/catalog', 'Service/catalog', 'Deployment/catalog']);
    expect(docs[1].spec.ports[0]).toMatchObject({ name: 'http', port: 80, targetPort: 3000 });
    expect(docs[1].spec.selector).toEqual({ app: 'catalog' });
    const d = docs[2];
    expect(d.spec.template.metadata.labels).toEqual({ app: 'catalog', version: 'v1' });
    expect(d.spec.template.spec.serviceAccountName).toBe('catalog');
    expect(d.spec.template.spec.containers[0]).toMatchObject({ image: 'istioinaction/catalog:latest', imagePullPolicy: 'IfNotPresent' });
    expect(d.spec.template.spec.containers[0].ports[0].containerPort).toBe(3000);
  });

  it('catalog-svc.yaml, catalog-deployment.yaml and catalog-deployment-v2.yaml', () => {
    expect(kinds(load('services/catalog/kubernetes/catalog-svc.yaml'))).toEqual(['Service/catalog']);
    const v1 = load('services/catalog/kubernetes/catalog-deployment.yaml');
    expect(kinds(v1)).toEqual(['Deployment/catalog']);
    expect(env(v1[0]).SHOW_IMAGE).toBeUndefined();
    const v2 = load('services/catalog/kubernetes/catalog-deployment-v2.yaml');
    expect(kinds(v2)).toEqual(['Deployment/catalog-v2']);
    expect(v2[0].spec.template.metadata.labels).toEqual({ app: 'catalog', version: 'v2' });
    expect(env(v2[0]).SHOW_IMAGE).toBe('true');
  });

  it('webapp.yaml and webapp-catalog-gw-vs.yaml', () => {
    const docs = load('services/webapp/kubernetes/webapp.yaml');
    expect(kinds(docs)).toEqual(['ServiceAccount/webapp', 'Service/webapp', 'Deployment/webapp']);
    expect(docs[1].spec.ports[0]).toMatchObject({ port: 80, targetPort: 8080 });
    expect(env(docs[2])).toMatchObject({
      CATALOG_SERVICE_HOST: 'catalog.istioinaction',
      CATALOG_SERVICE_PORT: '80',
      FORUM_SERVICE_HOST: 'forum.istioinaction',
      FORUM_SERVICE_PORT: '80',
    });
    expect(docs[2].spec.template.spec.containers[0].image).toBe('istioinaction/webapp:latest');
    const gw = load('services/webapp/istio/webapp-catalog-gw-vs.yaml');
    expect(kinds(gw)).toEqual(['Gateway/coolstore-gateway', 'VirtualService/webapp-virtualservice']);
    expect(gw[0].spec.servers[0]).toEqual({ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['webapp.istioinaction.io'] });
    expect(gw[1].spec.http[0].route[0].destination).toEqual({ host: 'webapp', port: { number: 80 } });
  });

  it('forum-all.yaml', () => {
    const docs = load('services/forum/kubernetes/forum-all.yaml');
    expect(kinds(docs)).toEqual(['Service/forum', 'Deployment/forum']);
    expect(docs[0].spec.ports[0]).toMatchObject({ port: 80, targetPort: 8080 });
    expect(docs[1].spec.template.spec.containers[0].image).toBe('istioinaction/forum:latest');
  });
});

describe('ch5 manifests', () => {
  it('catalog-gateway.yaml nests the port properly', () => {
    const [gw] = load('ch5/catalog-gateway.yaml');
    expect(gw.kind).toBe('Gateway');
    expect(gw.spec.selector).toEqual({ istio: 'ingressgateway' });
    expect(gw.spec.servers).toEqual([{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['catalog.istioinaction.io'] }]);
  });

  it('edge VirtualServices', () => {
    for (const f of ['catalog-vs.yaml', 'catalog-vs-v1.yaml', 'catalog-vs-v2-request.yaml']) {
      const [vs] = load(`ch5/${f}`);
      expect(vs.metadata.name).toBe('catalog-vs-from-gw');
      expect(vs.spec.hosts).toEqual(['catalog.istioinaction.io']);
      expect(vs.spec.gateways).toEqual(['catalog-gateway']);
    }
    expect(load('ch5/catalog-vs.yaml')[0].spec.http[0].route[0].destination).toEqual({ host: 'catalog' });
    const req = load('ch5/catalog-vs-v2-request.yaml')[0];
    expect(req.spec.http[0].match[0].headers).toEqual({ 'x-istio-cohort': { exact: 'internal' } });
    expect(req.spec.http[0].route[0].destination.subset).toBe('version-v2');
    expect(req.spec.http[1].route[0].destination.subset).toBe('version-v1');
  });

  it('DestinationRule subsets', () => {
    const [dr] = load('ch5/catalog-dest-rule.yaml');
    expect(dr.spec.host).toBe('catalog.istioinaction.svc.cluster.local');
    expect(dr.spec.subsets).toEqual([
      { name: 'version-v1', labels: { version: 'v1' } },
      { name: 'version-v2', labels: { version: 'v2' } },
    ]);
  });

  it('mesh VirtualServices: v1, header match, weights, mirror', () => {
    for (const f of ['catalog-vs-v1-mesh.yaml', 'catalog-vs-v2-request-mesh.yaml', 'catalog-vs-v2-10-90-mesh.yaml', 'catalog-vs-v2-50-50-mesh.yaml', 'catalog-vs-v2-mirror.yaml']) {
      const [vs] = load(`ch5/${f}`);
      expect(vs.metadata.name).toBe('catalog');
      expect(vs.spec.hosts).toEqual(['catalog']);
      expect(vs.spec.gateways).toEqual(['mesh']);
    }
    const weights = (f: string) => load(`ch5/${f}`)[0].spec.http[0].route.map((r: Doc) => [r.destination.subset, r.weight]);
    expect(weights('catalog-vs-v2-10-90-mesh.yaml')).toEqual([['version-v1', 90], ['version-v2', 10]]);
    expect(weights('catalog-vs-v2-50-50-mesh.yaml')).toEqual([['version-v1', 50], ['version-v2', 50]]);
    const mirror = load('ch5/catalog-vs-v2-mirror.yaml')[0].spec.http[0];
    expect(mirror.route).toEqual([{ destination: { host: 'catalog', subset: 'version-v1' }, weight: 100 }]);
    expect(mirror.mirror).toEqual({ host: 'catalog', subset: 'version-v2' });
  });

  it('ServiceEntry for jsonplaceholder', () => {
    const [se] = load('ch5/forum-serviceentry.yaml');
    expect(se).toMatchObject({
      kind: 'ServiceEntry',
      metadata: { name: 'jsonplaceholder' },
      spec: { hosts: ['jsonplaceholder.typicode.com'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'DNS' },
    });
  });

  it('Flagger canary and its two catalog Deployments', () => {
    const [canary] = load('ch5/flagger/catalog-release.yaml');
    expect(canary).toMatchObject({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      metadata: { name: 'catalog-release', namespace: 'istioinaction' },
      spec: {
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'catalog' },
        progressDeadlineSeconds: 60,
        service: { name: 'catalog', port: 80, targetPort: 3000, gateways: ['mesh'], hosts: ['catalog'] },
        analysis: {
          interval: '45s',
          threshold: 5,
          maxWeight: 50,
          stepWeight: 10,
          match: [{ sourceLabels: { app: 'webapp' } }],
          metrics: [
            { name: 'request-success-rate', thresholdRange: { min: 99 }, interval: '1m' },
            { name: 'request-duration', thresholdRange: { max: 500 }, interval: '30s' },
          ],
        },
      },
    });
    const v1 = load('ch5/flagger/catalog-deployment-v1.yaml')[0];
    const v2 = load('ch5/flagger/catalog-deployment-v2.yaml')[0];
    expect(v1.metadata.name).toBe('catalog');
    expect(v2.metadata.name).toBe('catalog');
    expect(env(v1).SHOW_IMAGE).toBeUndefined();
    expect(env(v2).SHOW_IMAGE).toBe('true');
  });
});
