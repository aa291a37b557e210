/**
 * The embedded provider (the default): the control plane scrapes the proxies' stats endpoints
 * itself and evaluates PromQL over the scrapes it keeps. No install; it scrapes only while someone
 * is asking (`keepWarm`), so an idle lab pays nothing for it.
 */
import { parsePrometheusText, type PromSample } from './prometheus-text.js';
import { evaluateExpr, type QueryValue, type Scrape } from './promql/evaluate.js';
import { parsePromQL, PromQLError, type Expr } from './promql/parse.js';
import type { MetricsProvider } from './provider.js';
import { STATS_PATH, type ScrapeTarget } from './targets.js';

export interface EmbeddedOptions {
  targets: () => ScrapeTarget[];
  /** Time between scrapes while warm (Istio's Prometheus: 15s, divided by the lab's time scale). */
  scrapeIntervalMs: number;
  /** How much history to keep: the longest window a query may ask for, and then some. */
  retentionMs: number;
  /** Stop scraping this long after the last `keepWarm`/query. */
  idleAfterMs?: number;
}

export class EmbeddedProvider implements MetricsProvider {
  readonly name = 'embedded' as const;
  private history: Scrape[] = [];
  private timer: NodeJS.Timeout | undefined;
  private warmUntil = 0;
  private inFlight: Promise<void> | undefined;
  private closed = false;
  private readonly parsed = new Map<string, Expr>();
  /**
   * Per target, each exposition line's series part (`name{labels}`) -> its sample identity, parsed
   * once: scrapes then share name and label objects and only read values, so history costs one
   * small object per sample, not a copy of every label set.
   */
  private readonly series = new Map<string, Map<string, { name: string; labels: Record<string, string> }>>();

  constructor(private readonly o: EmbeddedOptions) {}

  refuses(promql: string): string | undefined {
    try {
      this.parse(promql);
      return undefined;
    } catch (err) {
      if (err instanceof PromQLError) return err.message;
      throw err;
    }
  }

  keepWarm(): void {
    this.warmUntil = Date.now() + (this.o.idleAfterMs ?? Math.max(10_000, 4 * this.o.retentionMs));
    if (!this.timer && !this.closed) this.loop();
  }

  async query(promql: string, at?: number): Promise<QueryValue> {
    const expr = this.parse(promql);
    this.keepWarm();
    // Fresh data for a query about now: scrape unless the newest scrape is recent.
    const newest = this.history[this.history.length - 1];
    const stale = !newest || newest.at < Date.now() - this.o.scrapeIntervalMs;
    if (stale && (at === undefined || at >= Date.now() - this.o.scrapeIntervalMs)) await this.scrapeOnce();
    return evaluateExpr(expr, this.history, at ?? Date.now());
  }

  /** The scrapes kept, oldest first (tests compare them with what Prometheus scraped). */
  scrapes(): readonly Scrape[] {
    return this.history;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private parse(promql: string): Expr {
    let e = this.parsed.get(promql);
    if (!e) {
      e = parsePromQL(promql);
      if (this.parsed.size > 200) this.parsed.clear();
      this.parsed.set(promql, e);
    }
    return e;
  }

  private loop(): void {
    this.timer = setTimeout(() => {
      void this.scrapeOnce().finally(() => {
        this.timer = undefined;
        if (!this.closed && Date.now() < this.warmUntil) this.loop();
      });
    }, this.o.scrapeIntervalMs);
    this.timer.unref?.();
  }

  private collect(t: ScrapeTarget, text: string, out: PromSample[]): void {
    let known = this.series.get(t.address);
    if (!known) this.series.set(t.address, (known = new Map()));
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || line[0] === '#') continue;
      // The value follows the series part after the last space outside the label set.
      const close = line.lastIndexOf('}');
      const cut = line.indexOf(' ', close < 0 ? 0 : close);
      if (cut < 0) continue;
      const key = line.slice(0, cut);
      let id = known.get(key);
      if (!id) {
        const [parsed] = parsePrometheusText(line);
        if (!parsed) continue;
        id = { name: parsed.name, labels: { ...parsed.labels, ...t.labels } };
        known.set(key, id);
      }
      const valueText = line.slice(cut + 1).trim().split(/\s+/)[0]!;
      const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
      out.push({ name: id.name, labels: id.labels, value });
    }
  }

  /** One scrape of every target, as one snapshot; concurrent callers share it. */
  scrapeOnce(): Promise<void> {
    this.inFlight ??= this.scrapeAll().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async scrapeAll(): Promise<void> {
    const at = Date.now();
    const samples: PromSample[] = [];
    const targets = this.o.targets();
    const live = new Set(targets.map((t) => t.address));
    for (const k of this.series.keys()) if (!live.has(k)) this.series.delete(k);
    await Promise.all(
      targets.map(async (t) => {
        try {
          const res = await fetch(`http://${t.address}${STATS_PATH}`, { signal: AbortSignal.timeout(2000) });
          this.collect(t, await res.text(), samples);
        } catch {
          // A pod going away mid-scrape has no data this time (Prometheus: up == 0).
        }
      }),
    );
    this.history.push({ at, samples });
    const keepFrom = at - this.o.retentionMs;
    // Keep the newest scrape older than the retention too: it opens the longest window.
    let drop = 0;
    while (drop + 1 < this.history.length && this.history[drop + 1]!.at <= keepFrom) drop++;
    if (drop > 0) this.history.splice(0, drop);
  }
}
