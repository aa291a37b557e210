/**
 * The control plane's side of a push: POSTs to proxies' admin endpoints over keep-alive
 * connections, using the proxy's own HTTP/1.1 client rather than node:http. A push to 50 proxies
 * is 50 requests at once on a small machine; node:http's per-request cost was a large part of
 * the push's time (see bench/README.md, convergence).
 */
import { UpstreamPool, type UpstreamFailure, type UpstreamTarget } from '../proxy/http1/client.js';

export interface AdminAnswer {
  status: number;
  body: string;
}

const FAILURES: Record<UpstreamFailure, string> = {
  connect: 'cannot connect',
  reset: 'connection closed before an answer',
  truncated: 'connection closed in the middle of the answer',
  protocol: 'the answer is not valid HTTP/1.1',
};

export class AdminClient {
  private readonly pool = new UpstreamPool();
  private readonly targets = new Map<string, UpstreamTarget & { authority: string; path: string }>();

  /**
   * POSTs a JSON body to `url` (http://host:port/path); rejects on no answer within `timeoutMs`.
   * The whole request is one string, so the pool re-sends it once if a kept-alive connection turns
   * out closed (the proxy restarted) as it is reused; pushes are idempotent, so that is safe.
   */
  postJson(url: string, json: string, timeoutMs: number): Promise<AdminAnswer> {
    const t = this.target(url);
    // Head and body go out in one write as one latin1 string: one wakeup of the proxy, not two,
    // and no UTF-8 encoding pass over the table (non-ASCII is escaped, which JSON allows).
    const body = asciiJson(json);
    const request = `POST ${t.path} HTTP/1.1\r\nhost: ${t.authority}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let status = 0;
      const timer = setTimeout(() => {
        req.abort();
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const req = this.pool.request(t, request, 'POST', true, {
        head: (h) => {
          status = h.status;
          return 'decoded';
        },
        data: (c) => chunks.push(c),
        end: () => {
          clearTimeout(timer);
          resolve({ status, body: Buffer.concat(chunks).toString('utf8') });
        },
        error: (kind, err) => {
          clearTimeout(timer);
          reject(new Error(`${FAILURES[kind]}${err ? ` (${err.message})` : ''}`));
        },
      });
    });
  }

  close(): void {
    this.pool.destroy();
  }

  private target(url: string): UpstreamTarget & { authority: string; path: string } {
    let t = this.targets.get(url);
    if (!t) {
      const u = new URL(url);
      t = { address: u.hostname, port: Number(u.port || 80), authority: u.host, path: u.pathname + u.search };
      this.targets.set(url, t);
    }
    return t;
  }
}

const NON_ASCII = /[\u0080-\uffff]/g;
const HAS_NON_ASCII = /[\u0080-\uffff]/;

/** JSON text with every non-ASCII character as a \u escape, so its length is its byte count. */
export function asciiJson(json: string): string {
  if (!HAS_NON_ASCII.test(json)) return json;
  return json.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
