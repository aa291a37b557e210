/**
 * The embedded provider against a real stats endpoint (an HTTP server rendering IstioMetrics, as a
 * proxy's admin port does): scraping with target labels, queries over its own history, refusals.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedProvider } from '../../../src/metrics/embedded.js';
import { BUILTIN_QUERIES, renderQuery } from '../../../src/metrics/flagger-queries.js';
import { singleValue } from '../../../src/metrics/provider.js';
import { istioBaseLabels } from '../../../src/proxy/telemetry/istio-labels.js';
import { IstioMetrics } from '../../../src/proxy/telemetry/metrics.js';

const metrics = new IstioMetrics();
const base = istioBaseLabels({ reporter: 'destination', destination: { workload: 'catalog', namespace: 'istioinaction', labels: { app: 'catalog' } } });
let server: Server;
let address = '';
let scrapes = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    scrapes++;
    res.end(req.url === '/stats/prometheus' ? metrics.render() : 'not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('EmbeddedProvider', () => {
  it('scrapes on demand, labels samples with their target, and runs Flagger’s queries over its history', async () => {
    const p = new EmbeddedProvider({ targets: () => [{ address, labels: { namespace: 'istioinaction', pod: 'catalog-1' } }], scrapeIntervalMs: 60_000, retentionMs: 600_000 });
    try {
      for (let i = 0; i < 10; i++) metrics.seriesFor(base, 200, '-').observe(7, 0, 0);
      const first = await p.query('sum by (pod, namespace) (istio_requests_total)');
      expect(first).toEqual({ type: 'vector', series: [{ labels: { pod: 'catalog-1', namespace: 'istioinaction' }, value: 10 }] });
      for (let i = 0; i < 30; i++) metrics.seriesFor(base, 200, '-').observe(40, 0, 0);
      for (let i = 0; i < 10; i++) metrics.seriesFor(base, 503, 'UH').observe(1, 0, 0);
      await p.scrapeOnce();
      const [a, b] = p.scrapes();
      // Series parsed once: the second scrape shares the first's label objects.
      const find = (s: typeof a, code: string) => s!.samples.find((x) => x.name === 'istio_requests_total' && x.labels.response_code === code)!;
      expect(find(b, '200').labels).toBe(find(a, '200').labels);
      const at = b!.at;
      const model = { name: 'c', namespace: 'istioinaction', target: 'catalog', service: 'catalog', ingress: '', interval: `${at - a!.at}ms`, variables: {} };
      // Between the scrapes: 30 ok of 40.
      expect(singleValue(await p.query(renderQuery(BUILTIN_QUERIES['request-success-rate']!, model), at), 'sr')).toBeCloseTo(75, 9);
      expect(singleValue(await p.query(renderQuery(BUILTIN_QUERIES['request-duration']!, model), at), 'd')).toBeGreaterThan(25);
      expect(p.refuses('sum(x) > 1')).toMatch(/comparison/);
      expect(p.refuses('sum(rate(x[1m]))')).toBeUndefined();
    } finally {
      await p.close();
    }
  });

  it('scrapes on its own only while kept warm', async () => {
    const p = new EmbeddedProvider({ targets: () => [{ address, labels: { namespace: 'istioinaction', pod: 'catalog-1' } }], scrapeIntervalMs: 20, retentionMs: 1000, idleAfterMs: 300 });
    try {
      const before = scrapes;
      const deadline = Date.now() + 10_000;
      while (scrapes < before + 3 && Date.now() < deadline) {
        p.keepWarm();
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(scrapes).toBeGreaterThanOrEqual(before + 3);
      // Not asked any more: the loop ends by itself (idleAfterMs plus a scrape), however slow the machine.
      let settled = -1;
      while (settled !== scrapes && Date.now() < deadline + 10_000) {
        settled = scrapes;
        await new Promise((r) => setTimeout(r, 600));
      }
      expect(scrapes).toBe(settled);
      expect(p.scrapes().length).toBeLessThanOrEqual(1000 / 20 + 2);
    } finally {
      await p.close();
    }
  });
});
