/**
 * One proxy: the admin endpoint, the listeners, and the current table. Used by the process entry
 * point (main.ts) and directly by tests and benchmarks.
 */
import { TABLE_SECTIONS, type ProxyTable, type ProxyTableDelta, type TableSection } from '../model/table.js';
import { createRandom } from '../router/random.js';
import { startAdmin } from './admin.js';
import type { Cidr } from './capture.js';
import type { ProxyState } from './handler.js';
import { ListenerManager } from './listeners.js';
import { MirrorSender } from './mirror.js';
import { processStats } from './process-stats.js';
import { hydrate } from './runtime-table.js';
import { TelemetrySink } from './telemetry-sink.js';
import { UpstreamPool } from './http1/client.js';
import type { Http1Server } from './http1/server.js';

export interface ProxyOptions {
  adminHost: string;
  adminPort: number;
  seed?: number;
  allowExternal?: boolean;
  /** The lab's container network(s) the proxy may reach besides loopback (Docker). */
  labNetworks?: readonly Cidr[];
  /**
   * How long a request head may take once its first byte arrived (Envoy's
   * `request_headers_timeout`; default REQUEST_HEADERS_TIMEOUT_MS, 0 = off).
   */
  requestHeadersTimeoutMs?: number;
  /** Where access log lines go, in batches of whole lines (default: stdout). */
  write?: (chunk: Buffer) => void;
  onQuit?: () => void;
}

export class Proxy {
  readonly state: ProxyState;
  private readonly listeners: ListenerManager;
  private admin: Http1Server | undefined;
  private applying: Promise<unknown> = Promise.resolve();
  /** Listeners of the served table that could not be bound (retried on the next push). */
  private listenerErrors: string[] = [];

  constructor(private readonly opts: ProxyOptions) {
    const pool = new UpstreamPool();
    this.state = {
      current: undefined,
      rng: createRandom(opts.seed),
      pool,
      mirrors: new MirrorSender(pool),
      telemetry: new TelemetrySink(opts.write ?? ((t) => process.stdout.write(t))),
      allowExternal: opts.allowExternal ?? false,
      labNetworks: opts.labNetworks,
    };
    this.listeners = new ListenerManager(this.state, { requestHeadersTimeoutMs: opts.requestHeadersTimeoutMs });
  }

  /** The admin endpoint's port once started (useful with adminPort 0). */
  get adminPort(): number | undefined {
    return this.admin?.port;
  }

  async start(): Promise<void> {
    this.admin = await startAdmin(this.opts.adminHost, this.opts.adminPort, {
      version: () => this.state.current?.version,
      table: () => this.state.current?.table,
      apply: (t) => this.apply(t),
      metrics: () => this.state.telemetry.metrics.render(),
      stats: () => ({
        mirror_sent: this.state.mirrors.sent,
        mirror_dropped: this.state.mirrors.dropped,
        mirror_in_flight: this.state.mirrors.inFlight,
        ...this.listeners.stats,
        ...processStats(),
      }),
      quit: () => this.opts.onQuit?.(),
    });
  }

  /**
   * Swaps in a new table (a whole one, or a delta against the one being served): listeners
   * first, then the one reference the request path reads. Sections a delta leaves out are not
   * rebuilt, rebound or re-checked.
   */
  apply(push: ProxyTable | ProxyTableDelta): Promise<ApplyResult> {
    const run = async (): Promise<ApplyResult> => {
      const current = this.state.current;
      if (current?.version === push.version) return { version: push.version, errors: [] };
      let table: ProxyTable;
      let changed: Set<TableSection> | undefined;
      if ('base' in push) {
        if (current?.version !== push.base) {
          const serving = current?.version ?? 'none';
          return { version: current?.version ?? '', errors: [`delta against table ${push.base}, but serving ${serving}`], stale: true };
        }
        changed = new Set(TABLE_SECTIONS.filter((s) => push[s] !== undefined));
        table = mergeDelta(current.table, push);
      } else table = push;
      let next;
      try {
        next = hydrate(table, this.state.rng, changed && current, changed);
      } catch (err) {
        // Like Envoy rejecting a bad push: keep serving the last good table.
        return { version: current?.version ?? '', errors: [`rejected table ${push.version}: ${(err as Error).message}`], rejected: true };
      }
      this.state.telemetry.accessLog = table.telemetry.accessLog;
      this.state.telemetry.metricsOn = table.telemetry.metrics;
      // Publish before binding new listeners so their first request already sees the new routes.
      this.state.current = next;
      // Unchanged listeners are rebound only if some failed to bind last time (a retry).
      if (!changed || changed.has('listeners') || this.listenerErrors.length > 0) {
        this.listenerErrors = await this.listeners.reconcile(table.listeners);
      }
      if (!changed || changed.has('clusters')) {
        const live = new Set<string>();
        for (const c of Object.values(table.clusters)) for (const e of c.endpoints) live.add(`${e.address}:${e.port}`);
        this.state.pool.retain(live);
      }
      return { version: table.version, errors: this.listenerErrors };
    };
    // Pushes are applied one at a time, in order.
    const p = this.applying.then(run, run);
    this.applying = p;
    return p;
  }

  async stop(): Promise<void> {
    this.state.telemetry.flush();
    await this.listeners.closeAll();
    await this.admin?.close();
    this.state.pool.destroy();
  }
}

export interface ApplyResult {
  version: string;
  errors: string[];
  /** The table was invalid; the previous one is still served. */
  rejected?: boolean;
  /** A delta against a table this proxy does not serve; the control plane sends the whole table. */
  stale?: boolean;
}

function mergeDelta(base: ProxyTable, d: ProxyTableDelta): ProxyTable {
  return {
    version: d.version,
    node: d.node ?? base.node,
    hosts: d.hosts ?? base.hosts,
    telemetry: d.telemetry ?? base.telemetry,
    listeners: d.listeners ?? base.listeners,
    routeConfigs: d.routeConfigs ?? base.routeConfigs,
    clusters: d.clusters ?? base.clusters,
  };
}
