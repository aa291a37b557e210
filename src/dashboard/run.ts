/**
 * A running dashboard: the server, and a loop that collects a snapshot every interval and streams
 * it. It ends by itself when its lab goes down (`lab.json` removed by `lab down`), so a dashboard
 * started by `lab up --dashboard` never outlives the lab.
 */
import { existsSync } from 'node:fs';
import type { ApiClient } from '../cli/client.js';
import { paths } from '../controlplane/lab-home.js';
import { Collector } from './collect.js';
import { startDashboardServer, type DashboardServer } from './server.js';

export interface DashboardOptions {
  home: string;
  api: ApiClient;
  lab: { runtime: string; ingressPort: number; timeScale: number };
  port?: number;
  intervalMs: number;
  windowMs: number;
  rateWindowMs: number;
  log: (msg: string) => void;
}

export interface RunningDashboard {
  server: DashboardServer;
  /** Resolves when the dashboard has stopped (asked to, or its lab went down). */
  done: Promise<void>;
  stop(): Promise<void>;
}

export async function runDashboard(o: DashboardOptions): Promise<RunningDashboard> {
  const server = await startDashboardServer(o.port ?? 0);
  const collector = new Collector({ api: o.api, home: o.home, lab: o.lab, windowMs: o.windowMs, rateWindowMs: o.rateWindowMs });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let lastError = '';
  const loop = async () => {
    while (!stopped) {
      if (!existsSync(paths.info(o.home))) {
        o.log('the lab is down; the dashboard stops');
        break;
      }
      try {
        server.publish({ snapshot: await collector.tick() });
        lastError = '';
      } catch (err) {
        const msg = (err as Error).message;
        if (msg !== lastError) o.log(`cannot read the lab: ${msg}`);
        lastError = msg;
        server.publish({ error: msg });
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, o.intervalMs);
      });
    }
    stopped = true;
    await server.close();
  };
  const done = loop();
  return {
    server,
    done,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      await done;
    },
  };
}
