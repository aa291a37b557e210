import type { ServerExchange } from './http1/server.js';

/** Envoy's local reply bodies for the failures the lab reproduces. */
export const LOCAL_REPLY_BODY: Record<string, string> = {
  UH: 'no healthy upstream',
  UF: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
  UT: 'upstream request timeout',
  UC: 'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
  UPE: 'upstream connect error or disconnect/reset before headers. reset reason: protocol error',
  DF: 'upstream connect error or disconnect/reset before headers. reset reason: dns resolution failure',
};

/** Writes a response the proxy makes itself; returns the body length for the access log. */
export function sendLocalReply(ex: ServerExchange, status: number, body: string): number {
  return ex.respond(status, 'server: istio-envoy\r\n', body);
}
