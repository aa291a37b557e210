/**
 * The lab's Prometheus configuration: Istio's proxy stats (`/stats/prometheus` on every sidecar and
 * gateway), found through file-based service discovery that the control plane rewrites as pods come
 * and go, scraped at Istio's addon interval (15s) divided by the lab's time scale so a canary's
 * windows hold as many samples as they would in real time.
 */
import { stringify } from 'yaml';
import { STATS_PATH, type ScrapeTarget } from './targets.js';

/** Istio's sample Prometheus scrapes every 15s. */
export const ISTIO_SCRAPE_INTERVAL_MS = 15_000;
/** Prometheus can scrape faster, but the proxies and the 2-core machine need not. */
const MIN_SCRAPE_INTERVAL_MS = 250;

export function scrapeIntervalMs(timeScale: number): number {
  return Math.max(MIN_SCRAPE_INTERVAL_MS, Math.round(ISTIO_SCRAPE_INTERVAL_MS / timeScale));
}

export function prometheusConfig(o: { targetsFile: string; timeScale: number }): string {
  const interval = `${scrapeIntervalMs(o.timeScale)}ms`;
  return stringify({
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: '15s' },
    scrape_configs: [
      {
        job_name: 'envoy-stats',
        metrics_path: STATS_PATH,
        file_sd_configs: [{ files: [o.targetsFile], refresh_interval: '5s' }],
      },
    ],
  });
}

/** File SD's JSON: one group per target so each keeps its own `namespace`/`pod` labels. */
export function fileSdTargets(targets: readonly ScrapeTarget[], rewriteHost?: (address: string) => string): string {
  return JSON.stringify(targets.map((t) => ({ targets: [rewriteHost ? rewriteHost(t.address) : t.address], labels: t.labels })), null, 1) + '\n';
}
