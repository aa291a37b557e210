import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Connection-level headers a proxy must not forward (RFC 9110 7.6.1), plus the forward-proxy ones. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** Copies end-to-end headers; names listed in `Connection` are dropped too. */
export function endToEndHeaders(headers: IncomingHttpHeaders, drop?: ReadonlySet<string>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const conn = headers.connection;
  const listed = conn ? new Set(conn.toLowerCase().split(',').map((s) => s.trim())) : undefined;
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || listed?.has(name) || drop?.has(name)) continue;
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}
