import type { ServerResponse } from 'node:http';

/** Envoy's local reply bodies for the failures the lab reproduces. */
export const LOCAL_REPLY_BODY: Record<string, string> = {
  UH: 'no healthy upstream',
  UF: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
  UT: 'upstream request timeout',
  UC: 'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
  DF: 'upstream connect error or disconnect/reset before headers. reset reason: dns resolution failure',
};

/** Writes a response the proxy makes itself; returns the body length for the access log. */
export function sendLocalReply(res: ServerResponse, status: number, body: string, extraHeaders?: Record<string, string>): number {
  if (res.headersSent) {
    res.destroy();
    return 0;
  }
  const buf = Buffer.from(body);
  const headers: Record<string, string | number> = { 'server': 'istio-envoy', 'content-length': buf.length, ...extraHeaders };
  if (buf.length > 0) headers['content-type'] = 'text/plain';
  res.writeHead(status, headers);
  res.end(buf);
  return buf.length;
}
