/**
 * Chapter 5.2, steps 1-11 of docs/chapter5.md: request-level routing at the edge, then deep in the
 * call graph. Every command is the reader's (`lab` for kubectl), every outcome is asserted.
 */
import { accessLog, describe, waitForLog, withRequestId } from '../lib/logs.js';
import { catalogVersion, countVersions, http, repeat } from '../lib/http.js';
import { Scenario, type StepContext } from '../lib/scenario.js';
import type { LabRun } from '../lib/lab-run.js';

const NS = ['-n', 'istioinaction'];

async function podIPs(ctx: StepContext, selector: string): Promise<string[]> {
  const out = await ctx.labOut(['get', 'po', '-l', selector, '-o', 'json', ...NS], true);
  const list = JSON.parse(out) as { items: Array<{ status?: { podIP?: string } }> };
  return list.items.map((p) => p.status?.podIP ?? '').filter(Boolean);
}

export function scenario52(run: LabRun): Scenario {
  const ingress = `http://127.0.0.1:${run.ingressPort}`;
  const catalogHost = { Host: 'catalog.istioinaction.io' };
  const webappHost = { Host: 'webapp.istioinaction.io' };
  const s = new Scenario('5.2', 'Routing requests with Istio');

  s.step({
    id: '1',
    title: 'Reset: no Deployments, Services, Gateways, VirtualServices or DestinationRules in istioinaction',
    act: [{ lab: ['delete', 'deployment,svc,gateway,virtualservice,destinationrule', '--all', ...NS] }],
    check: async (ctx) => {
      const left = await ctx.labOut(['get', 'deploy,svc,gw,vs,dr', '-o', 'name', ...NS]);
      ctx.observe(left.trim() === '' ? 'namespace is empty' : left.trim());
      ctx.expect(left.trim() === '', 'no objects left', left.trim());
    },
  });

  s.step({
    id: '2',
    title: 'Deploy catalog v1; a client in the mesh gets the v1 items',
    act: [{ lab: ['apply', '-f', 'services/catalog/kubernetes/catalog.yaml', ...NS] }],
    check: async (ctx) => {
      const out = await ctx.lab(['curl', '-s', 'http://catalog.istioinaction/items'], { quiet: true });
      const version = catalogVersion(out.stdout);
      ctx.observe(`${version === 'invalid' ? out.stdout.trim().slice(0, 120) : `${(JSON.parse(out.stdout) as unknown[]).length} items`}, ${version} response`);
      ctx.expect(version === 'v1', 'a v1 response (items without imageUrl)', out.stdout.slice(0, 200));
    },
  });

  s.step({
    id: '3',
    title: 'Before any Gateway, the ingress port refuses connections',
    check: async (ctx) => {
      const r = await http(`${ingress}/`, {});
      ctx.observe(r.error ? `connection failed: ${r.error}` : `HTTP ${r.status}`);
      ctx.expect(r.error === 'ECONNREFUSED' || r.error === 'ECONNRESET', 'connection refused or reset', r.error ?? `HTTP ${r.status}`);
    },
  });

  s.step({
    id: '4',
    title: 'Gateway catalog-gateway: 404 with NR route_not_found (no VirtualService yet)',
    act: [{ lab: ['apply', '-f', 'ch5/catalog-gateway.yaml', ...NS] }],
    check: async (ctx) => {
      const r = await http(`${ingress}/`, { headers: catalogHost });
      const [line] = await waitForLog(ctx, 'istio-ingressgateway', r.requestId, 'istio-system');
      ctx.observe(`HTTP ${r.status}, body ${r.body.length} bytes; gateway log: ${describe(line)}`);
      ctx.logLine('istio-ingressgateway', line);
      ctx.expect(r.status === 404 && r.body === '', '404 with an empty body', `${r.status} ${JSON.stringify(r.body)}`);
      ctx.expect(line?.responseFlags === 'NR' && line.responseCodeDetails === 'route_not_found', 'gateway log with NR route_not_found', describe(line));
    },
  });

  s.step({
    id: '5',
    title: 'VirtualService catalog-vs-from-gw: 200 through the gateway to the catalog pod',
    act: [{ lab: ['apply', '-f', 'ch5/catalog-vs.yaml', ...NS] }],
    check: async (ctx) => {
      const r = await http(`${ingress}/items`, { headers: catalogHost });
      const [line] = await waitForLog(ctx, 'istio-ingressgateway', r.requestId, 'istio-system');
      const ips = await podIPs(ctx, 'app=catalog');
      ctx.observe(`HTTP ${r.status} (${catalogVersion(r.body)}); gateway log: ${describe(line)}`);
      ctx.logLine('istio-ingressgateway', line);
      ctx.expect(r.status === 200, 'HTTP 200', `HTTP ${r.status}`);
      ctx.expect(line?.upstreamCluster === 'outbound|80||catalog.istioinaction.svc.cluster.local', 'cluster outbound|80||catalog.istioinaction.svc.cluster.local', describe(line));
      ctx.expect(ips.some((ip) => line?.upstreamHost === `${ip}:3000`), `upstream host = the catalog pod (${ips.join(', ')}:3000)`, line?.upstreamHost ?? '-');
    },
  });

  s.step({
    id: '6',
    title: 'Deploy catalog-v2: the Service selects both, so v1 and v2 responses mix',
    act: [{ lab: ['apply', '-f', 'services/catalog/kubernetes/catalog-deployment-v2.yaml', ...NS] }, { lab: ['get', 'deploy', ...NS] }],
    check: async (ctx) => {
      const c = countVersions(await repeat(10, `${ingress}/items`, { headers: catalogHost }));
      ctx.observe(`v1: ${c.v1}/10, v2: ${c.v2}/10, other: ${c.other}`);
      ctx.split(c);
      ctx.expect(c.v1 > 0 && c.v2 > 0 && c.other === 0, 'both v1 and v2 responses', `v1 ${c.v1}, v2 ${c.v2}, other ${c.other}`);
    },
  });

  s.step({
    id: '7',
    title: 'DestinationRule subsets + catalog-vs-v1: all traffic to version-v1',
    act: [{ lab: ['apply', '-f', 'ch5/catalog-dest-rule.yaml', ...NS] }, { lab: ['apply', '-f', 'ch5/catalog-vs-v1.yaml', ...NS] }],
    check: async (ctx) => {
      const results = await repeat(10, `${ingress}/items`, { headers: catalogHost });
      const c = countVersions(results);
      const last = results[results.length - 1]!;
      const [line] = await waitForLog(ctx, 'istio-ingressgateway', last.requestId, 'istio-system');
      ctx.observe(`v1: ${c.v1}/10, v2: ${c.v2}/10; gateway log: ${describe(line)}`);
      ctx.split(c, { v1: 100, v2: 0 });
      ctx.logLine('istio-ingressgateway', line);
      ctx.expect(c.v1 === 10, '10 of 10 v1 responses', `v1 ${c.v1}, v2 ${c.v2}, other ${c.other}`);
      ctx.expect(line?.upstreamCluster === 'outbound|80|version-v1|catalog.istioinaction.svc.cluster.local', 'cluster outbound|80|version-v1|catalog...', describe(line));
    },
  });

  s.step({
    id: '8',
    title: 'catalog-vs-v2-request: x-istio-cohort: internal goes to v2, the rest to v1',
    act: [{ lab: ['apply', '-f', 'ch5/catalog-vs-v2-request.yaml', ...NS] }],
    check: async (ctx) => {
      const withHeader = await http(`${ingress}/items`, { headers: { ...catalogHost, 'x-istio-cohort': 'internal' } });
      const without = await http(`${ingress}/items`, { headers: catalogHost });
      const [line] = await waitForLog(ctx, 'istio-ingressgateway', withHeader.requestId, 'istio-system');
      ctx.observe(`with header: ${catalogVersion(withHeader.body)}, without: ${catalogVersion(without.body)}; gateway log: ${describe(line)}`);
      ctx.logLine('istio-ingressgateway (x-istio-cohort: internal)', line);
      ctx.expect(catalogVersion(withHeader.body) === 'v2', 'v2 with the header', catalogVersion(withHeader.body));
      ctx.expect(catalogVersion(without.body) === 'v1', 'v1 without the header', catalogVersion(without.body));
      ctx.expect(line?.upstreamCluster === 'outbound|80|version-v2|catalog.istioinaction.svc.cluster.local', 'cluster ...|version-v2|...', describe(line));
    },
  });

  s.step({
    id: '9',
    title: 'Routing deep in the call graph: webapp behind coolstore-gateway; three proxies log one request id',
    act: [
      { lab: ['delete', 'gateway,virtualservice,destinationrule', '--all', ...NS] },
      { lab: ['apply', '-f', 'services/webapp/kubernetes/webapp.yaml', ...NS] },
      { lab: ['apply', '-f', 'services/webapp/istio/webapp-catalog-gw-vs.yaml', ...NS] },
    ],
    check: async (ctx) => {
      const r = await http(`${ingress}/api/catalog`, { headers: webappHost });
      const items = r.status === 200 ? (JSON.parse(r.body) as unknown[]) : [];
      const gw = await waitForLog(ctx, 'istio-ingressgateway', r.requestId, 'istio-system');
      const webapp = await waitForLog(ctx, 'webapp', r.requestId, 'istioinaction', 2);
      const catalog = [
        ...withRequestId(await accessLog(ctx, 'catalog'), r.requestId),
        ...withRequestId(await accessLog(ctx, 'catalog-v2'), r.requestId),
      ];
      const webIn = webapp.find((l) => l.upstreamCluster === 'inbound|8080||');
      const webOut = webapp.find((l) => l.upstreamCluster.startsWith('outbound|80||catalog'));
      ctx.observe(`HTTP ${r.status}, ${items.length} items`);
      ctx.observe(`gateway:        ${describe(gw[0])}`);
      ctx.observe(`webapp inbound: ${describe(webIn)}`);
      ctx.observe(`webapp -> catalog: ${describe(webOut)}`);
      ctx.observe(`catalog inbound: ${describe(catalog[0])}`);
      ctx.logLine('webapp -> catalog', webOut);
      ctx.expect(r.status === 200 && items.length === 4, '200 with the 4 items', `HTTP ${r.status}: ${r.body.slice(0, 120)}`);
      ctx.expect(gw[0]?.upstreamCluster === 'outbound|80||webapp.istioinaction.svc.cluster.local', 'gateway -> outbound|80||webapp...', describe(gw[0]));
      ctx.expect(webIn !== undefined && webOut?.path === '/items', 'webapp sidecar: inbound /api/catalog and outbound GET /items', webapp.map(describe).join(' | '));
      ctx.expect(catalog.length === 1 && catalog[0]!.upstreamCluster === 'inbound|3000||', 'one catalog inbound line', catalog.map(describe).join(' | ') || 'none');
    },
  });

  s.step({
    id: '10',
    title: 'DestinationRule + catalog-vs-v1-mesh (gateways: mesh): every /api/catalog is v1',
    act: [{ lab: ['apply', '-f', 'ch5/catalog-dest-rule.yaml', ...NS] }, { lab: ['apply', '-f', 'ch5/catalog-vs-v1-mesh.yaml', ...NS] }],
    check: async (ctx) => {
      const results = await repeat(10, `${ingress}/api/catalog`, { headers: webappHost });
      const c = countVersions(results);
      const webapp = await waitForLog(ctx, 'webapp', results[9]!.requestId, 'istioinaction', 2);
      const out = webapp.find((l) => l.path === '/items');
      ctx.observe(`v1: ${c.v1}/10, v2: ${c.v2}/10; webapp -> catalog: ${describe(out)}`);
      ctx.split(c, { v1: 100, v2: 0 });
      ctx.logLine('webapp -> catalog', out);
      ctx.expect(c.v1 === 10, '10 of 10 v1', `v1 ${c.v1}, v2 ${c.v2}, other ${c.other}`);
      ctx.expect(out?.upstreamCluster === 'outbound|80|version-v1|catalog.istioinaction.svc.cluster.local', 'webapp sidecar routes to subset version-v1', describe(out));
    },
  });

  s.step({
    id: '11',
    title: 'catalog-vs-v2-request-mesh: the header sent to the edge propagates through webapp to pick v2',
    act: [{ lab: ['apply', '-f', 'ch5/catalog-vs-v2-request-mesh.yaml', ...NS] }],
    check: async (ctx) => {
      const withHeader = await http(`${ingress}/api/catalog`, { headers: { ...webappHost, 'x-istio-cohort': 'internal' } });
      const without = await http(`${ingress}/api/catalog`, { headers: webappHost });
      const v2lines = await waitForLog(ctx, 'catalog-v2', withHeader.requestId);
      const webOut = (await waitForLog(ctx, 'webapp', withHeader.requestId, 'istioinaction', 2)).find((l) => l.path === '/items');
      ctx.observe(`with header: ${catalogVersion(withHeader.body)}, without: ${catalogVersion(without.body)}; catalog-v2 log: ${describe(v2lines[0])}`);
      ctx.logLine('webapp -> catalog (x-istio-cohort: internal)', webOut);
      ctx.expect(catalogVersion(withHeader.body) === 'v2', 'v2 with x-istio-cohort: internal', `${withHeader.status} ${catalogVersion(withHeader.body)}`);
      ctx.expect(catalogVersion(without.body) === 'v1', 'v1 without it', `${without.status} ${catalogVersion(without.body)}`);
      ctx.expect(v2lines.length === 1, 'catalog-v2 sidecar logs the request', String(v2lines.length));
    },
  });

  return s;
}
