import { describe, expect, it } from 'vitest';
import type { Cluster, Endpoint, LoadBalancer } from '../../../src/model/table.js';
import { createBalancer } from '../../../src/router/load-balancer.js';
import { createRandom } from '../../../src/router/random.js';
import { expectCountNear } from './stats.js';

function cluster(lb: LoadBalancer, n: number): Cluster {
  const endpoints: Endpoint[] = Array.from({ length: n }, (_, i) => ({ address: `127.0.0.${i + 1}`, port: 3000 }));
  return { name: 'outbound|80||catalog.istioinaction.svc.cluster.local', type: 'eds', lb, endpoints };
}

describe('createBalancer', () => {
  it.each<LoadBalancer>(['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'PASSTHROUGH'])(
    '%s: no endpoints -> undefined (503 UH); one endpoint -> that one',
    (lb) => {
      expect(createBalancer(cluster(lb, 0), createRandom(1)).pick()).toBeUndefined();
      const one = cluster(lb, 1);
      expect(createBalancer(one, createRandom(1)).pick()).toBe(one.endpoints[0]);
    },
  );

  it('ROUND_ROBIN takes endpoints in turn', () => {
    const c = cluster('ROUND_ROBIN', 3);
    const b = createBalancer(c, createRandom(4));
    const picks = Array.from({ length: 9 }, () => b.pick()!);
    expect(new Set(picks.slice(0, 3)).size).toBe(3);
    for (let i = 3; i < picks.length; i++) expect(picks[i]).toBe(picks[i - 3]);
    const start = c.endpoints.indexOf(picks[0]!);
    expect(picks.slice(0, 3)).toEqual([0, 1, 2].map((k) => c.endpoints[(start + k) % 3]));
  });

  it('LEAST_REQUEST prefers an idle endpoint (power of two choices)', () => {
    const c = cluster('LEAST_REQUEST', 2);
    const b = createBalancer(c, createRandom(6));
    const [busy, idle] = c.endpoints as [Endpoint, Endpoint];
    for (let i = 0; i < 5; i++) b.onStart(busy);
    const n = 100_000;
    let toIdle = 0;
    for (let i = 0; i < n; i++) if (b.pick() === idle) toIdle++;
    // Two draws with replacement: only busy+busy (1/4) picks the busy one.
    expectCountNear(toIdle, n, 3 / 4);
  });

  it('LEAST_REQUEST with equal counts is uniform', () => {
    const c = cluster('LEAST_REQUEST', 4);
    const b = createBalancer(c, createRandom(7));
    const n = 100_000;
    const counts = new Map<Endpoint, number>();
    for (let i = 0; i < n; i++) {
      const ep = b.pick()!;
      counts.set(ep, (counts.get(ep) ?? 0) + 1);
    }
    for (const ep of c.endpoints) expectCountNear(counts.get(ep) ?? 0, n, 1 / 4);
  });

  it('LEAST_REQUEST tracks active requests; a busy endpoint only wins when drawn twice', () => {
    const c = cluster('LEAST_REQUEST', 3);
    const b = createBalancer(c, createRandom(8));
    const [a, x, y] = c.endpoints as [Endpoint, Endpoint, Endpoint];
    b.onStart(a);
    b.onStart(x);
    b.onStart(x);
    b.onEnd(x);
    expect(b.activeRequests(a)).toBe(1);
    expect(b.activeRequests(x)).toBe(1);
    b.onEnd(a);
    b.onEnd(a); // never below 0
    expect(b.activeRequests(a)).toBe(0);
    b.onStart({ address: 'unknown', port: 1 }); // ignored
    expect(b.activeRequests(y)).toBe(0);
    // x is the only busy one: it can only win when drawn twice (1/9).
    let toX = 0;
    const n = 90_000;
    for (let i = 0; i < n; i++) if (b.pick() === x) toX++;
    expectCountNear(toX, n, 1 / 9);
  });

  it('RANDOM covers all endpoints evenly', () => {
    const c = cluster('RANDOM', 5);
    const b = createBalancer(c, createRandom(9));
    const n = 100_000;
    const counts = new Map<Endpoint, number>();
    for (let i = 0; i < n; i++) {
      const ep = b.pick()!;
      counts.set(ep, (counts.get(ep) ?? 0) + 1);
    }
    expect(counts.size).toBe(5);
    for (const ep of c.endpoints) expectCountNear(counts.get(ep)!, n, 1 / 5);
  });
});
