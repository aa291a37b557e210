/** Starting, stopping and running a demo service as a process. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type LogFn } from './log.js';

export interface RunningService {
  server: Server;
  address: AddressInfo;
  /** `http://host:port` to reach it (a wildcard bind is reported as 127.0.0.1). */
  url: string;
  /** Stops accepting, ends idle keep-alive connections, and force-closes the rest after a grace. */
  close(): Promise<void>;
}

export function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

export function urlOf(address: AddressInfo): string {
  let host = address.address;
  if (host === '0.0.0.0' || host === '::' || host === '') host = '127.0.0.1';
  return host.includes(':') ? `http://[${host}]:${address.port}` : `http://${host}:${address.port}`;
}

/** Closes a server: idle connections now, in-flight ones after `graceMs`. */
export function closeServer(server: Server, graceMs = 500): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      server.closeAllConnections();
      resolve();
      return;
    }
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

export interface RunMainOptions {
  env?: NodeJS.ProcessEnv;
  log?: LogFn;
  /** Forced exit if a graceful close takes longer than this (default 3000 ms). */
  hardExitMs?: number;
}

/**
 * Runs a service as the process's main: exits 1 if it cannot start; on SIGTERM/SIGINT closes it
 * and exits 0; with `LAB_EXIT_ON_STDIN_CLOSE=1` also when stdin ends (the lab spawns apps with a
 * stdin pipe so that none outlives a crashed parent).
 */
export async function runMain(name: string, start: () => Promise<RunningService>, options: RunMainOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const errLog: LogFn = (line) => process.stderr.write(`${line}\n`);
  let service: RunningService | undefined;
  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    const hard = setTimeout(() => process.exit(0), options.hardExitMs ?? 3000);
    hard.unref();
    (options.log ?? errLog)(`${name}: shutting down (${why})`);
    try {
      await service?.close();
    } catch {
      // exiting anyway
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  if (env.LAB_EXIT_ON_STDIN_CLOSE === '1') {
    process.stdin.on('end', () => void shutdown('stdin closed'));
    process.stdin.on('close', () => void shutdown('stdin closed'));
    process.stdin.on('error', () => void shutdown('stdin error'));
    process.stdin.resume();
  }
  try {
    service = await start();
  } catch (err) {
    errLog(`${name}: cannot start: ${(err as Error).message}`);
    process.exit(1);
  }
}
