/**
 * One proxy: the admin endpoint, the listeners, and the current table. Used by the process entry
 * point (main.ts) and directly by tests and benchmarks.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProxyTable } from '../model/table.js';
import { createRandom } from '../router/random.js';
import { startAdmin } from './admin.js';
import type { ProxyState } from './handler.js';
import { ListenerManager } from './listeners.js';
import { MirrorSender } from './mirror.js';
import { hydrate } from './runtime-table.js';
import { TelemetrySink } from './telemetry-sink.js';
import { UpstreamPool } from './http1/client.js';

export interface ProxyOptions {
  adminHost: string;
  adminPort: number;
  seed?: number;
  allowExternal?: boolean;
  /** Where access log lines go (default: stdout). */
  write?: (text: string) => void;
  onQuit?: () => void;
}

export class Proxy {
  readonly state: ProxyState;
  private readonly listeners: ListenerManager;
  private admin: Server | undefined;
  private applying: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: ProxyOptions) {
    const pool = new UpstreamPool();
    this.state = {
      current: undefined,
      rng: createRandom(opts.seed),
      pool,
      mirrors: new MirrorSender(pool),
      telemetry: new TelemetrySink(opts.write ?? ((t) => process.stdout.write(t))),
      allowExternal: opts.allowExternal ?? false,
    };
    this.listeners = new ListenerManager(this.state);
  }

  get adminAddress(): AddressInfo | undefined {
    return this.admin?.address() as AddressInfo | undefined;
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
      }),
      quit: () => this.opts.onQuit?.(),
    });
  }

  /** Swaps in a new table: listeners first, then the one reference the request path reads. */
  apply(table: ProxyTable): Promise<{ version: string; errors: string[]; rejected?: boolean }> {
    const run = async () => {
      if (this.state.current?.version === table.version) return { version: table.version, errors: [] };
      let next;
      try {
        next = hydrate(table, this.state.rng);
      } catch (err) {
        // Like Envoy rejecting a bad push: keep serving the last good table.
        return { version: this.state.current?.version ?? '', errors: [`rejected table ${table.version}: ${(err as Error).message}`], rejected: true };
      }
      this.state.telemetry.accessLog = table.telemetry.accessLog;
      this.state.telemetry.metricsOn = table.telemetry.metrics;
      // Publish before binding new listeners so their first request already sees the new routes.
      this.state.current = next;
      const errors = await this.listeners.reconcile(table.listeners);
      const live = new Set<string>();
      for (const c of Object.values(table.clusters)) for (const e of c.endpoints) live.add(`${e.address}:${e.port}`);
      this.state.pool.retain(live);
      return { version: table.version, errors };
    };
    // Pushes are applied one at a time, in order.
    const p = this.applying.then(run, run);
    this.applying = p;
    return p;
  }

  async stop(): Promise<void> {
    this.state.telemetry.flush();
    await this.listeners.closeAll();
    await new Promise<void>((r) => (this.admin ? this.admin.close(() => r()) : r()));
    this.admin?.closeAllConnections();
    this.state.pool.destroy();
  }
}
