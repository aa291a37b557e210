/**
 * The proxy process (the lab's istio-proxy container). Configured by environment:
 *   LAB_ADMIN_HOST / LAB_ADMIN_PORT  where the admin endpoint listens (the control plane pushes here)
 *   LAB_PROXY_SEED                    seed for weighted picking and sampling (reproducible runs)
 *   LAB_REAL_EXTERNAL=1               allow passthrough to real hosts (default: loopback only)
 *   LAB_PROXY_NETWORK=172.24.0.0/16   the lab's own container network, reachable too (Docker)
 *   LAB_EXIT_ON_STDIN_CLOSE=1         exit when the parent goes away (no orphans after a crash)
 *   LAB_REQUEST_HEADERS_TIMEOUT_MS    how long a request head may take to arrive (default 10000, 0 = off)
 */
import { AsyncFdWriter } from './log-writer.js';
import { Proxy } from './proxy.js';
import { parseCidr, type Cidr } from './capture.js';
import { tuneV8ForProxy } from './v8-tuning.js';

tuneV8ForProxy();

const host = process.env.LAB_ADMIN_HOST ?? '127.0.0.1';
const port = Number(process.env.LAB_ADMIN_PORT ?? 15000);
const seed = process.env.LAB_PROXY_SEED ? Number(process.env.LAB_PROXY_SEED) : undefined;

const accessLog = new AsyncFdWriter(1);
const proxy = new Proxy({
  write: accessLog.write,
  adminHost: host,
  adminPort: port,
  seed,
  allowExternal: process.env.LAB_REAL_EXTERNAL === '1',
  requestHeadersTimeoutMs: process.env.LAB_REQUEST_HEADERS_TIMEOUT_MS ? Number(process.env.LAB_REQUEST_HEADERS_TIMEOUT_MS) : undefined,
  labNetworks: (process.env.LAB_PROXY_NETWORK ?? '')
    .split(',')
    .map(parseCidr)
    .filter((c): c is Cidr => c !== undefined),
  onQuit: () => void shutdown(),
});

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  const hard = setTimeout(() => process.exit(0), 2000);
  hard.unref();
  await proxy.stop().catch(() => undefined);
  await accessLog.drain();
  process.exit(0);
}

process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
if (process.env.LAB_EXIT_ON_STDIN_CLOSE === '1') {
  process.stdin.on('end', () => void shutdown());
  process.stdin.on('error', () => void shutdown());
  process.stdin.resume();
}

try {
  await proxy.start();
  process.stderr.write(`istio-proxy: admin listening on ${host}:${port}\n`);
} catch (err) {
  process.stderr.write(`istio-proxy: cannot start admin on ${host}:${port}: ${(err as Error).message}\n`);
  process.exit(1);
}
