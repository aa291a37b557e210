import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LabError } from '../shared/errors.js';

const MAX_BODY = 32 << 20;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof LabError) {
    if (err.code === 'LAB_ERR_UNAUTHORIZED') {
      // No details on what was wrong with the credentials; the client is told how to send them.
      res.setHeader('www-authenticate', 'Bearer realm="lab"');
      return sendJson(res, 401, { error: { code: err.code, message: err.message } });
    }
    const status = err.code === 'LAB_ERR_NOT_FOUND' ? 404 : err.code === 'LAB_ERR_INTERNAL' ? 500 : 422;
    return sendJson(res, status, { error: { code: err.code, message: err.message, details: err.details } });
  }
  sendJson(res, 500, { error: { code: 'LAB_ERR_INTERNAL', message: (err as Error).message ?? String(err) } });
}

export async function readJson<T>(req: IncomingMessage): Promise<T> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new LabError('LAB_ERR_USAGE', 'request body too large');
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {} as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new LabError('LAB_ERR_USAGE', 'request body is not JSON');
  }
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Whether the request carries `Authorization: Bearer <token>`. Compared in constant time (over
 * SHA-256 digests, so the lengths need not match and leak nothing either).
 */
export function hasBearerToken(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return false;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return timingSafeEqual(digest(m?.[1] ?? ''), digest(token)) && m !== null;
}
