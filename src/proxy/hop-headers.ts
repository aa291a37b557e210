import type { HeaderMap } from './http1/wire.js';

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

function connectionListed(connection: string | undefined): Set<string> | undefined {
  return connection ? new Set(connection.toLowerCase().split(',').map((s) => s.trim())) : undefined;
}

/** Copies end-to-end request headers; names listed in `Connection` are dropped too. */
export function endToEndHeaders(headers: Readonly<Record<string, string>>, drop?: ReadonlySet<string>): HeaderMap {
  const out: HeaderMap = {};
  const listed = connectionListed(headers.connection);
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || listed?.has(name) || drop?.has(name)) continue;
    out[name] = headers[name]!;
  }
  return out;
}

/** The same for a response's header list, which keeps repeated fields (set-cookie) apart. */
export function endToEndResponseHeaders(headers: ReadonlyArray<readonly [string, string]>): HeaderMap {
  const out: HeaderMap = {};
  let listed: Set<string> | undefined;
  for (const [name, value] of headers) if (name === 'connection') listed = connectionListed(value);
  for (const [name, value] of headers) {
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    const prev = out[name];
    out[name] = prev === undefined ? value : typeof prev === 'string' ? [prev, value] : [...prev, value];
  }
  return out;
}

/**
 * The hot-path forms of the two functions above: serialize the end-to-end headers straight to
 * `name: value\r\n` lines, leaving out the names in `skip` (the ones the proxy sets itself), with
 * no intermediate map. Used when no VirtualService header operation needs the map.
 */
export function requestHeaderLines(headers: Readonly<Record<string, string>>, skip: Readonly<Record<string, unknown>>, drop?: ReadonlySet<string>): string {
  const conn = headers.connection;
  const listed = conn !== undefined && !isPlainConnection(conn) ? connectionListed(conn) : undefined;
  let out = '';
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || Object.hasOwn(skip, name) || listed?.has(name) || drop?.has(name)) continue;
    out += name + ': ' + headers[name] + '\r\n';
  }
  return out;
}

export function responseHeaderLines(headers: ReadonlyArray<readonly [string, string]>, skip: ReadonlySet<string>): string {
  let listed: Set<string> | undefined;
  for (const [name, value] of headers) if (name === 'connection' && !isPlainConnection(value)) listed = connectionListed(value);
  let out = '';
  for (const [name, value] of headers) {
    if (HOP_BY_HOP.has(name) || skip.has(name) || listed?.has(name)) continue;
    out += name + ': ' + value + '\r\n';
  }
  return out;
}

/** `keep-alive` / `close`: the usual Connection values, which list no other header. */
function isPlainConnection(v: string): boolean {
  const l = v.length === 10 || v.length === 5 ? v.toLowerCase() : '';
  return l === 'keep-alive' || l === 'close';
}
