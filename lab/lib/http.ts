/**
 * The scenario's HTTP client: what the reader does with curl. Each call prints the equivalent
 * curl command. Connection-level failures come back as `{ error: 'ECONNREFUSED' | ... }` rather than
 * throwing, because step 3 asserts exactly that.
 */
import { request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { dim, shellQuote } from './scenario.js';

export interface HttpResult {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  requestId: string;
  error?: string;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Print the curl command (default true). Loops print one line for the whole batch. */
  print?: boolean;
}

export function curlLine(url: string, o: HttpOptions): string {
  const parts = ['curl', '-s'];
  if (o.method && o.method !== 'GET') parts.push('-X', o.method);
  for (const [k, v] of Object.entries(o.headers ?? {})) parts.push('-H', shellQuote(`${k}: ${v}`));
  if (o.body !== undefined) parts.push('-d', shellQuote(o.body));
  parts.push(url);
  return parts.join(' ');
}

export function http(url: string, o: HttpOptions = {}): Promise<HttpResult> {
  if (o.print !== false) console.log(dim(`    $ ${curlLine(url, o)}`));
  const u = new URL(url);
  // A request id of our own makes this request's access log lines easy to find.
  const requestId = o.headers?.['x-request-id'] ?? randomUUID();
  const headers: Record<string, string> = { 'user-agent': 'curl/lab', accept: '*/*', ...o.headers, 'x-request-id': requestId };
  return new Promise((resolve) => {
    const req = request({ host: u.hostname, port: Number(u.port || 80), method: o.method ?? 'GET', path: u.pathname + u.search, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers, requestId }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, body: '', headers: {}, requestId, error: e.code ?? e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, body: '', headers: {}, requestId, error: e.code ?? e.message }));
    req.end(o.body);
  });
}

/** The catalog's answer classified as the chapter does: v2 items carry imageUrl. */
export function catalogVersion(body: string): 'v1' | 'v2' | 'invalid' {
  try {
    const items = JSON.parse(body) as Array<Record<string, unknown>>;
    if (!Array.isArray(items) || items.length === 0) return 'invalid';
    const withImage = items.filter((i) => 'imageUrl' in i).length;
    if (withImage === items.length) return 'v2';
    if (withImage === 0) return 'v1';
    return 'invalid';
  } catch {
    return 'invalid';
  }
}

/** Sends n requests in sequence; prints one curl line for the batch. */
export async function repeat(n: number, url: string, o: HttpOptions = {}): Promise<HttpResult[]> {
  console.log(dim(`    $ for i in $(seq ${n}); do ${curlLine(url, o)}; done`));
  const out: HttpResult[] = [];
  for (let i = 0; i < n; i++) out.push(await http(url, { ...o, print: false }));
  return out;
}

export function countVersions(results: HttpResult[]): { v1: number; v2: number; other: number } {
  const c = { v1: 0, v2: 0, other: 0 };
  for (const r of results) {
    const v = r.status === 200 ? catalogVersion(r.body) : 'invalid';
    if (v === 'v1') c.v1++;
    else if (v === 'v2') c.v2++;
    else c.other++;
  }
  return c;
}
