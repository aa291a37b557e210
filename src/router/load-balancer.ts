/**
 * Endpoint picking for a cluster (`Cluster.lb`), one balancer per cluster per pushed table.
 *
 * - ROUND_ROBIN: endpoints in turn, starting at a random index (as Envoy does, so that many proxies
 *   do not all start on the first endpoint).
 * - LEAST_REQUEST (Istio's default since 1.14): Envoy's power of two choices: draw two endpoints at
 *   random (with replacement), keep the one with fewer active requests, the first on a tie. So with
 *   all counts equal it is uniform random; an idle endpoint is preferred but not always chosen.
 * - RANDOM: uniform.
 * - PASSTHROUGH: original-destination clusters are routed by the proxy to the address the app
 *   asked for and have no endpoints; if one has endpoints anyway, it picks at random.
 *
 * An empty endpoint list yields undefined: the proxy answers 503 UH (no_healthy_upstream).
 * The proxy calls onStart when a request to the endpoint starts and onEnd when it finishes, on the
 * balancer that handed the endpoint out (a new table brings new balancers with fresh counts).
 */
import type { Cluster, Endpoint } from '../model/table.js';
import type { Random } from './random.js';

export interface Balancer {
  pick(): Endpoint | undefined;
  onStart(ep: Endpoint): void;
  onEnd(ep: Endpoint): void;
  /** Requests in flight to `ep` as this balancer counts them (0 for an unknown endpoint). */
  activeRequests(ep: Endpoint): number;
}

export function createBalancer(cluster: Cluster, rng: Random): Balancer {
  const endpoints: readonly Endpoint[] = cluster.endpoints ?? [];
  const n = endpoints.length;
  const indexOf = new Map<Endpoint, number>();
  endpoints.forEach((ep, i) => indexOf.set(ep, i));
  const active = new Int32Array(n);

  const randomIndex = (): number => Math.floor(rng.next() * n);
  let pick: () => Endpoint | undefined;
  if (n === 0) pick = () => undefined;
  else if (n === 1) pick = () => endpoints[0];
  else {
    switch (cluster.lb) {
      case 'ROUND_ROBIN': {
        let next = randomIndex();
        pick = () => {
          const ep = endpoints[next]!;
          next = next + 1 === n ? 0 : next + 1;
          return ep;
        };
        break;
      }
      case 'LEAST_REQUEST':
        pick = () => {
          const a = randomIndex();
          const b = randomIndex();
          return endpoints[active[b] < active[a] ? b : a];
        };
        break;
      case 'RANDOM':
      case 'PASSTHROUGH':
      default:
        pick = () => endpoints[randomIndex()];
    }
  }

  return Object.freeze({
    pick,
    onStart(ep: Endpoint): void {
      const i = indexOf.get(ep);
      if (i !== undefined) active[i]++;
    },
    onEnd(ep: Endpoint): void {
      const i = indexOf.get(ep);
      if (i !== undefined && active[i] > 0) active[i]--;
    },
    activeRequests(ep: Endpoint): number {
      const i = indexOf.get(ep);
      return i === undefined ? 0 : active[i];
    },
  });
}
