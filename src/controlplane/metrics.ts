/**
 * Which metrics provider the lab uses, and the real Prometheus's upkeep when it is that one: the
 * embedded provider by default; a Prometheus server after `lab install prometheus` or
 * `lab up --prometheus` (LAB_METRICS=prometheus), whose file-based service discovery the control
 * plane rewrites whenever pods come and go. A Prometheus left by an earlier control plane is adopted.
 */
import { EmbeddedProvider } from '../metrics/embedded.js';
import { PrometheusProvider } from '../metrics/prometheus.js';
import { fileSdTargets, prometheusConfig, scrapeIntervalMs } from '../metrics/prometheus-config.js';
import type { MetricsProvider, ProviderName } from '../metrics/provider.js';
import { scrapeTargets } from '../metrics/targets.js';
import { adoptLocalPrometheus, prometheusPaths, startLocalPrometheus, stopLocalPrometheus } from '../runtime/local/prometheus-process.js';
import { writeFileAtomicSync } from '../shared/atomic-file.js';
import { LabError } from '../shared/errors.js';
import type { ObjectStore } from '../store/store.js';

export interface LabMetricsOptions {
  store: ObjectStore;
  home: string;
  timeScale: number;
  /** Prometheus runs as a host process only with the local runtime. */
  runtime: 'local' | 'docker';
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
  }

  current(): MetricsProvider {
    return this.provider;
  }

  status(): MetricsStatus {
    return { provider: this.provider.name, url: this.prometheus?.base, scrapeIntervalMs: scrapeIntervalMs(this.o.timeScale) };
  }

  /** At control plane start: Prometheus if asked for, or if an earlier control plane left one running. */
  async start(want: ProviderName): Promise<void> {
    if (want === 'prometheus') {
      await this.usePrometheus();
      return;
    }
    if (this.o.runtime === 'local' && (await adoptLocalPrometheus(this.o.home))) await this.usePrometheus();
  }

  /** Starts (or adopts) the lab's Prometheus and makes it the provider. */
  async usePrometheus(): Promise<MetricsStatus> {
    if (this.prometheus) return this.status();
    if (this.o.runtime !== 'local') throw new LabError('LAB_ERR_USAGE', 'a Prometheus server is available with the local runtime only (on Docker the embedded provider is used)');
    this.writeTargets();
    const state = await startLocalPrometheus({
      home: this.o.home,
      config: prometheusConfig({ targetsFile: prometheusPaths.targets(this.o.home), timeScale: this.o.timeScale }),
      log: this.o.log,
    });
    this.prometheus = new PrometheusProvider(state.url);
    this.unwatch = this.o.store.watch((e) => {
      if (e.object.kind === 'Pod') this.scheduleTargets();
    });
    this.provider = this.prometheus;
    this.o.log(`metrics: provider prometheus at ${state.url}`);
    return this.status();
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
    if (teardown && this.o.runtime === 'local') await stopLocalPrometheus(this.o.home);
  }
}
