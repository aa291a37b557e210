/**
 * Which metrics provider the lab uses, and the real Prometheus's upkeep when it is that one: the
 * embedded provider by default; a Prometheus server after `lab install prometheus` or
 * `lab up --prometheus` (LAB_METRICS=prometheus), whose file-based service discovery the control
 * plane rewrites whenever pods come and go. A Prometheus left by an earlier control plane is adopted.
 */
import { EmbeddedProvider } from '../metrics/embedded.js';
import { PrometheusProvider } from '../metrics/prometheus.js';
import { fileSdTargets, prometheusConfig, scrapeIntervalMs } from '../metrics/prometheus-config.js';
import type { MetricsProvider, ProviderName, QueryValue } from '../metrics/provider.js';
import { LabError } from '../shared/errors.js';
import { scrapeTargets } from '../metrics/targets.js';
import { adoptLocalPrometheus, prometheusPaths, startLocalPrometheus, stopLocalPrometheus } from '../runtime/local/prometheus-process.js';
import { writeFileAtomicSync } from '../shared/atomic-file.js';
import type { ObjectStore } from '../store/store.js';
import { mkdirSync } from 'node:fs';

/** Where the lab's Prometheus runs: a host process (local runtime) or a container (Docker). */
export interface PrometheusRunner {
  /** One that is already running (an earlier control plane started it). */
  adopt(): Promise<RunningServer | undefined>;
  /** Starts it (or adopts and reloads it) on the configuration already written; `image`: Docker's. */
  start(config: string, image?: string): Promise<RunningServer>;
  /** `lab down`: it goes with the lab. */
  stop(): Promise<void>;
}

export interface RunningServer {
  /** How the control plane reaches it. */
  url: string;
  /** How a person on the host reaches it (its UI, its API). */
  publicUrl: string;
}

export function localPrometheusRunner(home: string, log: (m: string) => void): PrometheusRunner {
  const asRunning = (s: { url: string }) => ({ url: s.url, publicUrl: s.url });
  return {
    adopt: async () => {
      const s = await adoptLocalPrometheus(home);
      return s && asRunning(s);
    },
    start: async (config) => asRunning(await startLocalPrometheus({ home, config, log })),
    stop: async () => {
      await stopLocalPrometheus(home);
    },
  };
}

export interface LabMetricsOptions {
  store: ObjectStore;
  home: string;
  timeScale: number;
  /** Default: a host process (the local runtime). */
  runner?: PrometheusRunner;
  log: (msg: string) => void;
}

export interface MetricsStatus {
  provider: ProviderName;
  /** Prometheus's URL (its UI and API). */
  url?: string;
  scrapeIntervalMs: number;
}

export class LabMetrics {
  readonly embedded: EmbeddedProvider;
  private provider: MetricsProvider;
  private prometheus: PrometheusProvider | undefined;
  private publicUrl: string | undefined;
  private readonly runner: PrometheusRunner;
  private unwatch: (() => void) | undefined;
  private lastTargets = '';
  private pending: NodeJS.Timeout | undefined;

  constructor(private readonly o: LabMetricsOptions) {
    this.embedded = new EmbeddedProvider({
      targets: () => scrapeTargets(o.store.list('Pod')),
      scrapeIntervalMs: scrapeIntervalMs(o.timeScale),
      // Windows up to 10 minutes of lab time (Flagger's intervals are a minute or a few).
      retentionMs: 600_000 / o.timeScale,
    });
    this.provider = this.embedded;
    this.runner = o.runner ?? localPrometheusRunner(o.home, o.log);
  }

  current(): MetricsProvider {
    return this.provider;
  }

  status(): MetricsStatus {
    return { provider: this.provider.name, url: this.publicUrl, scrapeIntervalMs: scrapeIntervalMs(this.o.timeScale) };
  }

  /** At control plane start: Prometheus if asked for, or if an earlier control plane left one running. */
  async start(want: ProviderName, image?: string): Promise<void> {
    if (want === 'prometheus') {
      await this.usePrometheus(image);
      return;
    }
    if (await this.runner.adopt()) await this.usePrometheus();
  }

  /** Starts (or adopts) the lab's Prometheus and makes it the provider. */
  async usePrometheus(image?: string): Promise<MetricsStatus> {
    if (this.prometheus) return this.status();
    mkdirSync(prometheusPaths.dir(this.o.home), { recursive: true });
    this.writeTargets();
    const config = prometheusConfig({ targetsFile: prometheusPaths.targets(this.o.home), timeScale: this.o.timeScale });
    writeFileAtomicSync(prometheusPaths.config(this.o.home), config);
    const state = await this.runner.start(config, image);
    this.prometheus = new PrometheusProvider(state.url);
    this.publicUrl = state.publicUrl;
    this.unwatch = this.o.store.watch((e) => {
      if (e.object.kind === 'Pod') this.scheduleTargets();
    });
    this.provider = this.prometheus;
    this.o.log(`metrics: provider prometheus at ${state.url}`);
    return this.status();
  }

  /**
   * `GET /metrics/query?query=...&time=<seconds>`: an instant query on the current provider, for
   * views outside the control plane (the dashboard) that should see what the canary sees.
   */
  async query(promql: string, atSeconds?: number): Promise<{ provider: ProviderName; result: QueryValue }> {
    const provider = this.provider;
    if (!promql) throw new LabError('LAB_ERR_USAGE', 'query: the query parameter is required');
    try {
      return { provider: provider.name, result: await provider.query(promql, atSeconds === undefined ? undefined : atSeconds * 1000) };
    } catch (err) {
      throw new LabError('LAB_ERR_USAGE', `${provider.name} provider: ${(err as Error).message}`);
    }
  }

  /** Coalesces a burst of pod changes into one write. */
  private scheduleTargets(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.writeTargets();
    }, 20);
    this.pending.unref?.();
  }

  /** Prometheus watches the file; an atomic rename means it never reads half of one. */
  private writeTargets(): void {
    const text = fileSdTargets(scrapeTargets(this.o.store.list('Pod')));
    if (text === this.lastTargets) return;
    try {
      writeFileAtomicSync(prometheusPaths.targets(this.o.home), text);
      this.lastTargets = text;
    } catch (err) {
      this.o.log(`metrics: writing scrape targets: ${(err as Error).message}`);
    }
  }

  /** The control plane goes; Prometheus stays with the data plane (`teardown`: `lab down`, it goes too). */
  async stop(teardown: boolean): Promise<void> {
    this.unwatch?.();
    if (this.pending) clearTimeout(this.pending);
    await this.embedded.close();
    if (teardown) await this.runner.stop();
  }
}

export function dockerPrometheusRunner(p: { adopt(): Promise<RunningServer | undefined>; start(image?: string): Promise<RunningServer>; stop(): Promise<void> }): PrometheusRunner {
  return { adopt: () => p.adopt(), start: (_config, image) => p.start(image), stop: () => p.stop() };
}
