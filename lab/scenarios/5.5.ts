/**
 * Chapter 5.5, steps 22-24: egress. forum calls jsonplaceholder.typicode.com (the lab's stand-in,
 * outside the mesh); ALLOW_ANY passes it through, REGISTRY_ONLY blocks it at forum's sidecar, and a
 * ServiceEntry lets it through again as a registered service.
 */
import { describe, waitForLog } from '../lib/logs.js';
import { http } from '../lib/http.js';
import { Scenario } from '../lib/scenario.js';
import { callGraphSetup } from '../lib/setup.js';
import type { LabRun } from '../lib/lab-run.js';

const NS = ['-n', 'istioinaction'];

export function scenario55(run: LabRun): Scenario {
  const url = `http://127.0.0.1:${run.ingressPort}/api/users`;
  const headers = { Host: 'webapp.istioinaction.io' };
  const s = new Scenario('5.5', 'Egress: outbound traffic policy and ServiceEntry');

  s.step({
    id: 'setup',
    title: 'catalog and webapp behind the gateway',
    act: callGraphSetup(['services/catalog/kubernetes/catalog.yaml']),
    check: async (ctx) => {
      const r = await http(`http://127.0.0.1:${run.ingressPort}/api/catalog`, { headers });
      ctx.observe(`HTTP ${r.status}`);
      ctx.expect(r.status === 200, 'HTTP 200 from /api/catalog', `HTTP ${r.status}`);
    },
  });

  s.step({
    id: '22',
    title: 'forum calls the external host: ALLOW_ANY passes it through (PassthroughCluster, allow_any)',
    act: [{ lab: ['apply', '-f', 'services/forum/kubernetes/forum-all.yaml', ...NS] }, { lab: ['get', 'deploy', 'forum', ...NS] }],
    check: async (ctx) => {
      const r = await http(url, { headers });
      const users = r.status === 200 ? (JSON.parse(r.body) as Array<{ name: string }>) : [];
      const lines = await waitForLog(ctx, 'forum', r.requestId, 'istioinaction', 2);
      const external = lines.find((l) => l.path === '/users');
      ctx.observe(`HTTP ${r.status}, ${users.length} users (first: ${users[0]?.name ?? '-'})`);
      ctx.observe(`forum sidecar: ${describe(external)} authority ${external?.authority}`);
      ctx.logLine('forum -> jsonplaceholder.typicode.com', external);
      ctx.expect(r.status === 200 && users.length === 10, '200 with the 10 users', `HTTP ${r.status}: ${r.body.slice(0, 100)}`);
      ctx.expect(external?.upstreamCluster === 'PassthroughCluster' && external.routeName === 'allow_any', 'PassthroughCluster via allow_any', describe(external));
    },
  });

  s.step({
    id: '23',
    title: 'REGISTRY_ONLY: forum\'s sidecar answers 502 block_all itself; the edge gets 500 "error calling Forum service"',
    act: [{ lab: ['install', '--set', 'meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY'] }],
    check: async (ctx) => {
      const mesh = await ctx.labOut(['get', 'meshconfig', '-o', 'yaml']);
      ctx.expect(mesh.includes('mode: REGISTRY_ONLY'), 'mesh config shows REGISTRY_ONLY', mesh);
      const r = await http(url, { headers });
      const forum = await waitForLog(ctx, 'forum', r.requestId, 'istioinaction', 2);
      const webapp = await waitForLog(ctx, 'webapp', r.requestId, 'istioinaction', 2);
      const blocked = forum.find((l) => l.path === '/users');
      const forumIn = forum.find((l) => l.path === '/api/users');
      const webOut = webapp.find((l) => l.upstreamCluster.startsWith('outbound|80||forum'));
      ctx.observe(`HTTP ${r.status} "${r.body.trim()}"`);
      ctx.observe(`webapp -> forum: ${describe(webOut)}`);
      ctx.observe(`forum inbound:   ${describe(forumIn)}`);
      ctx.observe(`forum -> external: ${describe(blocked)}`);
      ctx.logLine('forum -> jsonplaceholder.typicode.com', blocked);
      ctx.expect(r.status === 500 && r.body.trim() === 'error calling Forum service', '500 "error calling Forum service"', `${r.status} ${r.body}`);
      ctx.expect(
        blocked?.responseCode === '502' && blocked.responseFlags === '-' && blocked.responseCodeDetails === 'direct_response' && blocked.routeName === 'block_all' && blocked.upstreamHost === '-',
        'forum sidecar: 502 - direct_response ... block_all',
        describe(blocked),
      );
      ctx.expect(forumIn?.responseCode === '500' && webOut?.responseCode === '500', 'forum inbound and webapp outbound log the 500', `${describe(forumIn)} | ${describe(webOut)}`);
    },
  });

  s.step({
    id: '24',
    title: 'ServiceEntry jsonplaceholder: 200 again, through outbound|80||jsonplaceholder.typicode.com',
    act: [{ lab: ['apply', '-f', 'ch5/forum-serviceentry.yaml', ...NS] }, { lab: ['get', 'se', ...NS] }],
    check: async (ctx) => {
      const r = await http(url, { headers });
      const forum = await waitForLog(ctx, 'forum', r.requestId, 'istioinaction', 2);
      const external = forum.find((l) => l.path === '/users');
      ctx.observe(`HTTP ${r.status}; forum sidecar: ${describe(external)}`);
      ctx.logLine('forum -> jsonplaceholder.typicode.com', external);
      ctx.expect(r.status === 200, 'HTTP 200', `HTTP ${r.status} ${r.body.slice(0, 100)}`);
      ctx.expect(external?.upstreamCluster === 'outbound|80||jsonplaceholder.typicode.com' && external.routeName === 'default', 'cluster outbound|80||jsonplaceholder.typicode.com, route default', describe(external));
    },
  });
  return s;
}
