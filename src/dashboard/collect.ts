/**
 * What the dashboard reads from a running lab, each tick: the objects through the control plane's
 * API (with the lab's token); each Canary's checks through the lab's metrics provider (the control
 * plane's `GET /metrics/query`, the provider the controller judges with); every proxy's Istio
 * metrics from its stats endpoint (pods' admin addresses: loopback on the local runtime, the lab
 * network's on Docker, which a Linux host reaches) for the graph; and the access-log and
 * canary-controller log files `lab logs` reads in LAB_HOME.
 *
 * The graph stays on the dashboard's own 1 s scrapes, not the provider: its counts must be exact
 * (the split is read as whole requests, and PromQL's `increase` extrapolates to the window's edges),
 * it needs client-side reports and per-code/flag detail, and it should move every second (the
 * provider scrapes every 15 s, lab-scaled). A thinned history of scrapes gives its windows.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiClient } from '../cli/client.js';
import { flaggerLogFile, paths } from '../controlplane/lab-home.js';
import type { KubeObject } from '../model/objects.js';
import { LabApiProvider } from '../metrics/lab-api.js';
import { parsePrometheusText, type PromSample } from '../metrics/prometheus-text.js';
import { scrapeTargets, STATS_PATH } from '../metrics/targets.js';
import { askCanaryChecks } from './canary-checks.js';
import { canaryKey, type CheckAnswer } from './canary-view.js';
import type { Scrape } from './scrapes.js';
import { workloadNode } from './edges.js';
import { buildSnapshot, type DashboardSnapshot } from './model.js';

export interface CollectorOptions {
  api: ApiClient;
  home: string;
  lab: { runtime: string; ingressPort: number; timeScale: number };
  windowMs: number;
  rateWindowMs: number;
  /** Access-log lines kept per workload. */
  logLines?: number;
}

/** Keep every scrape of the last KEEP_ALL_MS, and one per THIN_MS before that. */
const KEEP_ALL_MS = 20_000;
const THIN_MS = 5_000;
const SCRAPE_TIMEOUT_MS = 2_000;
const API_TIMEOUT_MS = 10_000;

/** Which scrapes to keep: all recent ones, one per THIN_MS older ones, nothing older than `horizonMs`. */
export function thinScrapes(history: readonly Scrape[], now: number, horizonMs: number): Scrape[] {
  const out: Scrape[] = [];
  let lastKeptBucket = -1;
  for (const s of history) {
    const age = now - s.at;
    if (age > horizonMs) continue;
    if (age <= KEEP_ALL_MS) {
      out.push(s);
      continue;
    }
    const bucket = Math.floor(s.at / THIN_MS);
    if (bucket !== lastKeptBucket) {
      out.push(s);
      lastKeptBucket = bucket;
    }
  }
  return out;
}

/** The last `lines` lines of a file, reading at most its last `maxBytes`. */
export function tailLines(file: string, lines: number, maxBytes = 64 * 1024): string[] {
  if (!existsSync(file)) return [];
  const size = statSync(file).size;
  const start = Math.max(0, size - maxBytes);
  const buf = Buffer.alloc(size - start);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, start);
  } finally {
    closeSync(fd);
  }
  const all = buf.toString('utf8').split('\n');
  if (start > 0) all.shift(); // a partial first line
  if (all[all.length - 1] === '') all.pop();
  return all.slice(-lines);
}

export class Collector {
  private history: Scrape[] = [];
  private readonly logLines: number;
  private readonly metrics: LabApiProvider;

  constructor(private readonly o: CollectorOptions) {
    this.logLines = o.logLines ?? 15;
    this.metrics = new LabApiProvider((path) => o.api.call('GET', path, undefined, API_TIMEOUT_MS));
  }

  async tick(): Promise<DashboardSnapshot> {
    const [{ items }, { mesh }] = await Promise.all([
      this.o.api.call<{ items: KubeObject[] }>('GET', '/objects', undefined, API_TIMEOUT_MS),
      this.o.api.call<{ mesh: { outboundTrafficPolicy: { mode: string } } }>('GET', '/meshconfig', undefined, API_TIMEOUT_MS),
    ]);
    const pods = items.filter((o) => o.kind === 'Pod');
    const now = Date.now();
    const canaries = items.filter((o) => o.kind === 'Canary');
    const [samples, answers] = await Promise.all([
      scrapeAll(pods),
      Promise.all(canaries.map((c) => askCanaryChecks(c, items, this.metrics, this.o.lab.timeScale, now))),
    ]);
    const canaryChecks: Record<string, CheckAnswer[]> = {};
    canaries.forEach((c, k) => (canaryChecks[canaryKey(c)] = answers[k]!));
    // The provider names itself in its answers (no values found is an answer; a failed request is not).
    const answered = answers.flat().some((a) => 'outcome' in a && !('failed' in a.outcome));
    this.history.push({ at: now, samples });
    this.history = thinScrapes(this.history, now, this.o.windowMs + 2 * THIN_MS);
    return buildSnapshot({
      now,
      objects: items,
      meshMode: mesh.outboundTrafficPolicy.mode,
      scrapes: this.history,
      windowMs: this.o.windowMs,
      rateWindowMs: this.o.rateWindowMs,
      logs: this.accessLogs(items),
      flaggerLines: tailLines(flaggerLogFile(paths.logs(this.o.home)), 400, 256 * 1024),
      canaryChecks,
      ...(answered ? { metricsProvider: this.metrics.name } : {}),
      lab: this.o.lab,
    });
  }

  /** Each Deployment's sidecar (or gateway) access log tails, merged across its pods by time. */
  private accessLogs(items: readonly KubeObject[]): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const p of items) {
      if (p.kind !== 'Pod') continue;
      const owner = p.metadata.ownerReferences?.find((r) => r.kind === 'Deployment');
      if (!owner) continue;
      const ns = p.metadata.namespace ?? 'default';
      const file = join(paths.logs(this.o.home), ns, p.metadata.name, 'istio-proxy.log');
      const id = workloadNode(ns, owner.name);
      // Access-log lines only (they start with [START_TIME]); the file also has the proxy's own messages.
      (out[id] ??= []).push(...tailLines(file, 4 * this.logLines).filter((l) => l.startsWith('[')));
    }
    // Lines start with [ISO time]: sorting the text sorts by time.
    for (const id of Object.keys(out)) out[id] = out[id]!.sort().slice(-this.logLines);
    return out;
  }
}

/** Every running pod's proxy stats (the targets the metrics providers scrape), series labelled with their pod. */
async function scrapeAll(pods: readonly KubeObject[]): Promise<PromSample[]> {
  const out: PromSample[] = [];
  await Promise.all(
    scrapeTargets(pods).map(async (t) => {
      try {
        const res = await fetch(`http://${t.address}${STATS_PATH}`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
        if (!res.ok) return;
        for (const s of parsePrometheusText(await res.text())) {
          if (s.name.startsWith('istio_')) out.push({ ...s, labels: { ...s.labels, pod: t.labels.pod } });
        }
      } catch {
        // a pod starting or going away has no data this tick
      }
    }),
  );
  return out;
}
