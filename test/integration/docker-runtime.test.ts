/**
 * The Docker runtime, end to end on a real engine: pods are containers with iptables capture, so a
 * plain curl inside a pod (it knows nothing of proxies) is routed, mirrored and blocked by the mesh
 * exactly as the apps' calls are, with the same access log lines. Also: the lab's DNS and virtual
 * addresses, crash restarts, the data plane outliving a killed control plane (and being adopted by
 * the next one), cleanup by label after a crash, and two labs side by side.
 * Skipped, with the reason in the suite's name, where no Docker engine answers.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pingDocker } from '../../src/runtime/docker/engine.js';
import { LABELS } from '../../src/runtime/docker/labels.js';
import { TestLab, isV2, waitFor } from '../helpers/lab.js';

const engine = await pingDocker();
const title = engine.ok ? 'Docker runtime' : `Docker runtime (skipped: ${engine.reason})`;
if (!engine.ok) console.warn(`[docker-runtime.test] skipped: ${engine.reason}`);

const docker = new Docker();
const lab = new TestLab();

async function labContainers(id: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${LABELS.lab}=${id}`] } });
}

/** A plain curl inside webapp's app container: status code and body, nothing proxy-aware. */
async function curlFromWebapp(url: string, ...args: string[]): Promise<{ status: number; body: string }> {
  const out = await lab.ok('exec', 'deploy/webapp', '--', 'curl', '-s', '--max-time', '5', '-w', '\n%{http_code}', ...args, url);
  const i = out.lastIndexOf('\n');
  return { status: Number(out.slice(i + 1)), body: out.slice(0, i) };
}

interface Pod {
  metadata: { name: string };
  status: { podIP: string; ready: boolean; restarts?: number };
}
async function pods(selector: string): Promise<Pod[]> {
  return (JSON.parse(await lab.ok('get', 'po', '-l', selector, '-o', 'json')) as { items: Pod[] }).items;
}

describe.skipIf(!engine.ok).sequential(title, () => {
  beforeAll(async () => {
    await lab.up('--runtime', 'docker');
    await lab.ok('apply', '-f', 'services/catalog/kubernetes/catalog.yaml', '-f', 'services/catalog/kubernetes/catalog-deployment-v2.yaml', '-f', 'ch5/catalog-dest-rule.yaml');
    await lab.ok('apply', '-f', 'services/webapp/kubernetes/webapp.yaml', '-f', 'services/webapp/istio/webapp-catalog-gw-vs.yaml');
  }, 240_000);
  afterAll(async () => {
    await lab.down();
    lab.destroy();
  }, 60_000);

  it('gives pods addresses on the lab network and Services virtual addresses in its upper half', async () => {
    const info = lab.labInfo();
    expect(info.runtime).toBe('docker');
    const [webapp] = await pods('app=webapp');
    const m = /^172\.(\d+)\.(\d+)\.\d+$/.exec(webapp!.status.podIP);
    expect(m, webapp!.status.podIP).not.toBeNull();
    expect(Number(m![2])).toBeLessThan(128);
    const svc = JSON.parse(await lab.ok('get', 'svc', 'catalog', '-o', 'json')) as { spec: { clusterIP: string } };
    expect(svc.spec.clusterIP).toMatch(new RegExp(`^172\\.${m![1]}\\.(1[3-9]\\d|2\\d\\d)\\.\\d+$`));
    expect(await lab.ok('get', 'svc')).toContain(svc.spec.clusterIP);
    // Docker labels carry the pod's identity.
    const containers = await labContainers(info.labId!);
    const proxy = containers.find((c) => c.Labels[LABELS.pod] === webapp!.metadata.name && c.Labels[LABELS.container] === 'istio-proxy');
    expect(proxy?.Labels).toMatchObject({ [LABELS.namespace]: 'istioinaction', 'io.istio-lab.label.app': 'webapp' });
  });

  it("locks the published API with the lab's token, and binds each proxy's admin on its pod address only", async () => {
    // The token `lab up` made (mode 0600), read by the control plane through the mounted LAB_HOME.
    expect(statSync(join(lab.home, 'token')).mode & 0o777).toBe(0o600);
    const api = lab.labInfo().api;
    expect((await fetch(`${api}/healthz`)).status).toBe(200);
    expect((await fetch(`${api}/objects`)).status).toBe(401);
    expect((await fetch(`${api}/shutdown`, { method: 'POST', headers: { authorization: `Bearer ${'0'.repeat(64)}` } })).status).toBe(401);
    expect((await lab.cli('status')).code).toBe(0);
    const [catalog] = (JSON.parse(await lab.ok('get', 'po', '-l', 'app=catalog,version=v1', '-o', 'json')) as { items: Array<{ status: { podIP: string; adminUrl: string } }> }).items;
    expect(new URL(catalog!.status.adminUrl).hostname).toBe(catalog!.status.podIP);
    // Inside the pod, loopback is not captured: nothing listens on 127.0.0.1:15000 (curl: 7, refused).
    expect((await lab.cli('exec', 'deploy/catalog', '--', 'curl', '-s', '--max-time', '5', 'http://127.0.0.1:15000/version')).code).toBe(7);
  });

('resolves %s in a pod and reaches catalog through both sidecars', async (host) => {
    const r = await curlFromWebapp(`http://${host}/items`);
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as unknown[]).length).toBeGreaterThan(0);
  });

  it('routes a plain curl by the VirtualService (header match to v2) and logs it as Istio does', async () => {
    await lab.ok('apply', '-f', 'ch5/catalog-vs-v2-request-mesh.yaml');
    const v2 = await curlFromWebapp('http://catalog.istioinaction/items', '-H', 'x-istio-cohort: internal', '-H', 'x-request-id: docker-v2');
    const v1 = await curlFromWebapp('http://catalog.istioinaction/items', '-H', 'x-request-id: docker-v1');
    expect(isV2(v2.body)).toBe(true);
    expect(isV2(v1.body)).toBe(false);
    const svc = JSON.parse(await lab.ok('get', 'svc', 'catalog', '-o', 'json')) as { spec: { clusterIP: string } };
    const [v2pod] = await pods('app=catalog,version=v2');
    const [line] = await lab.logFor('webapp', 'docker-v2');
    expect(line).toMatchObject({
      responseCode: '200',
      responseFlags: '-',
      upstreamCluster: 'outbound|80|version-v2|catalog.istioinaction.svc.cluster.local',
      upstreamHost: `${v2pod!.status.podIP}:3000`,
      downstreamLocalAddress: `${svc.spec.clusterIP}:80`,
      authority: 'catalog.istioinaction',
    });
    const [inbound] = await lab.logFor('catalog-v2', 'docker-v2');
    expect(inbound).toMatchObject({ upstreamCluster: 'inbound|3000||', downstreamLocalAddress: `${v2pod!.status.podIP}:3000` });
  });

  it('mirrors a plain curl to v2 with the -shadow authority while the caller gets v1', async () => {
    await lab.ok('apply', '-f', 'ch5/catalog-vs-v2-mirror.yaml');
    const r = await curlFromWebapp('http://catalog.istioinaction/items', '-H', 'x-request-id: docker-mirror');
    expect(isV2(r.body)).toBe(false);
    const [shadow] = await lab.logFor('catalog-v2', 'docker-mirror');
    // Envoy appends -shadow to the Host as the client wrote it (webapp writes :80, curl does not).
    expect(shadow).toMatchObject({ responseCode: '200', authority: 'catalog.istioinaction-shadow' });
  });

  it('passes the external host through under ALLOW_ANY and blocks it under REGISTRY_ONLY', async () => {
    const allowed = await curlFromWebapp('http://jsonplaceholder.typicode.com/users', '-H', 'x-request-id: docker-allow');
    expect(allowed.status).toBe(200);
    const [pass] = await lab.logFor('webapp', 'docker-allow');
    expect(pass).toMatchObject({ upstreamCluster: 'PassthroughCluster', routeName: 'allow_any' });
    await lab.ok('install', '--set', 'meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY');
    const blocked = await curlFromWebapp('http://jsonplaceholder.typicode.com/users', '-H', 'x-request-id: docker-block');
    expect(blocked.status).toBe(502);
    const [line] = await lab.logFor('webapp', 'docker-block');
    expect(line).toMatchObject({ responseCode: '502', responseFlags: '-', responseCodeDetails: 'direct_response', routeName: 'block_all', upstreamHost: '-' });
    await lab.ok('install', '--set', 'meshConfig.outboundTrafficPolicy.mode=ALLOW_ANY');
  });

  it('restarts a crashed app container in place (the pod keeps its name and address)', async () => {
    const [before] = await pods('app=catalog,version=v1');
    const app = (await labContainers(lab.labInfo().labId!)).find((c) => c.Labels[LABELS.pod] === before!.metadata.name && c.Labels[LABELS.container] === 'catalog');
    await docker.getContainer(app!.Id).kill();
    const after = await waitFor(async () => {
      const [p] = await pods('app=catalog,version=v1');
      return p && p.status.ready && (p.status.restarts ?? 0) >= 1 ? p : undefined;
    }, 'catalog v1 restarted and ready', 30_000);
    expect(after.metadata.name).toBe(before!.metadata.name);
    expect(after.status.podIP).toBe(before!.status.podIP);
    expect((await lab.ingress('/api/catalog', { host: 'webapp.istioinaction.io' })).status).toBe(200);
  }, 60_000);

  it('keeps serving with a killed control plane; the next one adopts the running pods', async () => {
    await lab.ok('apply', '-f', 'ch5/catalog-vs-v1-mesh.yaml');
    const before = (await pods('app')).map((p) => p.metadata.name).sort();
    const id = lab.labInfo().labId!;
    const cp = (await labContainers(id)).find((c) => c.Labels[LABELS.role] === 'controlplane')!;
    await docker.getContainer(cp.Id).kill();
    for (let i = 0; i < 20; i++) {
      const r = await lab.ingress('/api/catalog', { host: 'webapp.istioinaction.io' });
      expect(r.status).toBe(200);
      expect(isV2(r.body)).toBe(false);
    }
    const upOut = await lab.ok('up', '--runtime', 'docker', '--ingress-port', String(lab.ingressPort));
    expect(upOut).toMatch(/will adopt them/);
    expect((await pods('app')).map((p) => p.metadata.name).sort()).toEqual(before);
    // The adopted proxies take new configuration.
    await lab.ok('apply', '-f', 'ch5/catalog-vs-v2-request-mesh.yaml');
    const r = await lab.ingress('/api/catalog', { host: 'webapp.istioinaction.io', 'x-istio-cohort': 'internal' });
    expect(isV2(r.body)).toBe(true);
  }, 120_000);

  it('survives docker restart of the control plane container (SIGTERM is not lab down)', async () => {
    const before = await pods('app');
    const id = lab.labInfo().labId!;
    const cp = (await labContainers(id)).find((c) => c.Labels[LABELS.role] === 'controlplane')!;
    let restarted = false;
    const restarting = docker
      .getContainer(cp.Id)
      .restart({ t: 5 })
      .then(() => (restarted = true));
    let served = 0;
    while ((served < 10 || !restarted) && served < 2000) {
      const res = await lab.ingress('/api/catalog', { host: 'webapp.istioinaction.io' });
      expect(res.status).toBe(200);
      served++;
    }
    await restarting;
    // ...and while the new control plane adopts the pods and pushes its first tables.
    for (let i = 0; i < 30; i++) expect((await lab.ingress('/api/catalog', { host: 'webapp.istioinaction.io' })).status).toBe(200);
    const after = await waitFor(async () => {
      const list = await pods('app').catch(() => undefined);
      return list && list.length === before.length && list.every((p) => p.status.ready) ? list : undefined;
    }, 'the restarted control plane to adopt every pod', 30_000);
    expect(after.map((p) => `${p.metadata.name} ${p.status.podIP}`).sort()).toEqual(before.map((p) => `${p.metadata.name} ${p.status.podIP}`).sort());
  }, 90_000);

  it('runs a second lab beside this one, on a network of its own', async () => {
    const other = new TestLab();
    try {
      await other.up('--runtime', 'docker');
      expect(other.labInfo().network).not.toBe(lab.labInfo().network);
      await other.ok('apply', '-f', 'services/catalog/kubernetes/catalog.yaml', '-f', 'ch5/catalog-gateway.yaml', '-f', 'ch5/catalog-vs.yaml');
      expect((await other.ingress('/items', { host: 'catalog.istioinaction.io' })).status).toBe(200);
      expect((await lab.ingress('/api/catalog', { host: 'webapp.istioinaction.io' })).status).toBe(200);
      // Killed, its control plane leaves pods behind; `lab down` still finds them all by label.
      const id = other.labInfo().labId!;
      const cp = (await labContainers(id)).find((c) => c.Labels[LABELS.role] === 'controlplane')!;
      await docker.getContainer(cp.Id).kill();
      await other.ok('down');
      expect(await labContainers(id)).toEqual([]);
      expect(await docker.listNetworks({ filters: { label: [`${LABELS.lab}=${id}`] } })).toEqual([]);
    } finally {
      await other.down();
      other.destroy();
    }
  }, 180_000);
});

describe.skipIf(!engine.ok)(`${title}: images`, () => {
  it('removes older istio-lab:<hash> images nothing uses, keeps the current one and any other tag', async () => {
    const { pruneOldImages, offlineBaseTag } = await import('../../src/runtime/docker/image.js');
    const base = docker.getImage(offlineBaseTag());
    const baseInfo = await base.inspect().catch(() => undefined);
    if (!baseInfo) return; // the lab's tests above made it; without it there is nothing to tag
    await base.tag({ repo: 'istio-lab', tag: '0000000000aa' });
    await base.tag({ repo: 'istio-lab', tag: '0000000000bb' });
    await base.tag({ repo: 'istio-lab', tag: 'keep-me' });
    try {
      const removed = await pruneOldImages(docker, 'istio-lab:0000000000bb');
      expect(removed).toContain('istio-lab:0000000000aa');
      expect(removed).not.toContain('istio-lab:0000000000bb');
      const tags = (await docker.listImages({ filters: { reference: ['istio-lab'] } })).flatMap((i) => i.RepoTags ?? []);
      expect(tags).toContain('istio-lab:0000000000bb');
      expect(tags).toContain('istio-lab:keep-me');
      expect(tags).not.toContain('istio-lab:0000000000aa');
    } finally {
      for (const t of ['0000000000aa', '0000000000bb', 'keep-me']) await docker.getImage(`istio-lab:${t}`).remove().catch(() => undefined);
    }
  });
});
