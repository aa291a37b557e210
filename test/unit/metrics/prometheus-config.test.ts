import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fileSdTargets, prometheusConfig, scrapeIntervalMs } from '../../../src/metrics/prometheus-config.js';
import { scrapeTargets } from '../../../src/metrics/targets.js';
import type { KubeObject } from '../../../src/model/objects.js';

const pod = (name: string, phase: string, adminUrl?: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'istioinaction' }, status: { phase, ...(adminUrl ? { adminUrl } : {}) } });

describe('the lab’s Prometheus configuration', () => {
  it('scrapes at Istio’s 15s divided by the time scale, not below 250 ms', () => {
    expect(scrapeIntervalMs(1)).toBe(15_000);
    expect(scrapeIntervalMs(45)).toBe(333);
    expect(scrapeIntervalMs(1000)).toBe(250);
    const c = parse(prometheusConfig({ targetsFile: '/lab/prometheus/targets.json', timeScale: 45 })) as { global: Record<string, string>; scrape_configs: Array<Record<string, unknown>> };
    expect(c.global).toMatchObject({ scrape_interval: '333ms', scrape_timeout: '333ms' });
    expect(c.scrape_configs[0]).toMatchObject({ job_name: 'envoy-stats', metrics_path: '/stats/prometheus', file_sd_configs: [{ files: ['/lab/prometheus/targets.json'] }] });
  });

  it('discovers running pods’ admin endpoints with namespace and pod labels', () => {
    const targets = scrapeTargets([pod('b', 'Running', 'http://127.1.0.3:15000'), pod('a', 'Running', 'http://127.1.0.2:15000'), pod('c', 'Pending', 'http://127.1.0.4:15000'), pod('d', 'Running')]);
    expect(JSON.parse(fileSdTargets(targets))).toEqual([
      { targets: ['127.1.0.2:15000'], labels: { namespace: 'istioinaction', pod: 'a' } },
      { targets: ['127.1.0.3:15000'], labels: { namespace: 'istioinaction', pod: 'b' } },
    ]);
  });
});
