/** Small server-side helpers shared by the demo services (node:http only). */
import type { IncomingMessage, ServerResponse } from 'node:http';

export class BodyTooLargeError extends Error {}

/** Reads a request body (default limit 1 MiB). */
export function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new BodyTooLargeError(`body larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Parses a JSON body; an empty body is `undefined`; invalid JSON throws. */
export async function readJson(req: IncomingMessage, limit?: number): Promise<unknown> {
  const buf = await readBody(req, limit);
  const text = buf.toString('utf8').trim();
  if (text === '') return undefined;
  return JSON.parse(text) as unknown;
}

/** Writes a complete response with an explicit Content-Length. */
export function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  contentType?: string,
  headers: Record<string, string> = {},
): void {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  if (res.headersSent || res.destroyed) return;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (contentType) res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', String(buf.length));
  res.writeHead(status);
  res.end(buf);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, indent?: number, headers?: Record<string, string>): void {
  send(res, status, JSON.stringify(value, null, indent), 'application/json; charset=utf-8', headers);
}

/** Go's textproto.CanonicalMIMEHeaderKey: `x-istio-cohort` -> `X-Istio-Cohort`. */
export function canonicalHeaderName(name: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return name;
  return name
    .toLowerCase()
    .split('-')
    .map((p) => (p === '' ? p : p[0]!.toUpperCase() + p.slice(1)))
    .join('-');
}

/**
 * The incoming headers whose (lower-case) name passes `keep`, first value only, with Go-canonical
 * names: what `ExtractHeaders` in the book's webapp (and the forum's loop) copy to outbound calls.
 */
export function pickHeaders(req: IncomingMessage, keep: (lowerName: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || !keep(name)) continue;
    out[canonicalHeaderName(name)] = Array.isArray(value) ? value[0]! : value;
  }
  return out;
}

/** The request path without its query string. */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
