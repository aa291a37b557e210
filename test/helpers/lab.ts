/**
 * A real lab for integration tests: built CLI, its own LAB_HOME and free ingress port, torn down
 * after the test file. Everything is real processes and real HTTP on loopback.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { freePort } from '../../src/runtime/addresses.js';
import { parseAccessLogLines, type ParsedAccessLog } from '../../src/proxy/telemetry/access-log.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'lab.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class TestLab {
  readonly home: string;
  ingressPort = 0;
  private readonly extraEnv: Record<string, string>;

  constructor(extraEnv: Record<string, string> = {}) {
    this.home = mkdtempSync(join(tmpdir(), 'lab-test-'));
    this.extraEnv = extraEnv;
  }

  get env(): Record<string, string> {
    return { ...(process.env as Record<string, string>), LAB_HOME: this.home, NO_COLOR: '1', ...this.extraEnv };
  }

  async cli(...args: string[]): Promise<CliResult> {
    const r = await execa(process.execPath, [BIN, ...args], { cwd: ROOT, env: this.env, reject: false });
    return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  /** Runs a CLI command that must succeed. */
  async ok(...args: string[]): Promise<string> {
    const r = await this.cli(...args);
    if (r.code !== 0) throw new Error(`lab ${args.join(' ')} failed (${r.code}): ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  async up(...args: string[]): Promise<void> {
    this.ingressPort = await freePort();
    await this.ok('up', '--ingress-port', String(this.ingressPort), '--seed', '11', ...args);
  }

  /** lab.json as written by the control plane. */
  labInfo(): { pid: number; api: string; runtime: string; labId?: string; network?: string } {
    return JSON.parse(readFileSync(join(this.home, 'lab.json'), 'utf8')) as { pid: number; api: string; runtime: string; labId?: string; network?: string };
  }

  async down(): Promise<void> {
    await this.cli('down');
  }

  destroy(): void {
    rmSync(this.home, { recursive: true, force: true });
  }

  info(): { pid: number; api: string } {
    return JSON.parse(readFileSync(join(this.home, 'lab.json'), 'utf8')) as { pid: number; api: string };
  }

  ingress(path: string, headers: Record<string, string> = {}): Promise<HttpReply> {
    return httpRequest({ host: '127.0.0.1', port: this.ingressPort, path, headers });
  }

  async accessLog(deployment: string, namespace = 'istioinaction'): Promise<ParsedAccessLog[]> {
    const out = await this.ok('logs', `deploy/${deployment}`, '-c', 'istio-proxy', '-n', namespace);
    return parseAccessLogLines(out.split('\n').map((l) => l.replace(/^\[pod\/[^\]]+\] /, '')));
  }

  /** The access log line(s) for a request id, waiting (bounded) for the proxy to write them. */
  async logFor(deployment: string, requestId: string, namespace = 'istioinaction', count = 1): Promise<ParsedAccessLog[]> {
    return waitFor(async () => {
      const lines = (await this.accessLog(deployment, namespace)).filter((l) => l.requestId === requestId);
      return lines.length >= count ? lines : undefined;
    }, `${count} log line(s) for ${requestId} in ${deployment}`);
  }
}

export interface HttpReply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  error?: string;
}

export function httpRequest(o: { host: string; port: number; path: string; method?: string; headers?: Record<string, string>; body?: string }): Promise<HttpReply> {
  return new Promise((resolveReply) => {
    const req = request({ host: o.host, port: o.port, path: o.path, method: o.method ?? 'GET', headers: o.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveReply({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolveReply({ status: 0, body: '', headers: {}, error: e.code ?? e.message }));
    req.end(o.body);
  });
}

/** Polls `probe` until it returns a value, with a bounded deadline (conditions, not sleeps). */
export async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let wait = 20;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(250, wait * 2);
  }
}

export function isV2(body: string): boolean {
  const items = JSON.parse(body) as Array<Record<string, unknown>>;
  return items.every((i) => 'imageUrl' in i);
}
