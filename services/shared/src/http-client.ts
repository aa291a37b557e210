/**
 * Outbound HTTP for the demo services, shaped like the Go clients of the book's apps.
 *
 * - Honours a forward proxy (`HTTP_PROXY` / `http_proxy`, passed in explicitly so tests never pick up
 *   the developer's environment by accident): the request goes to the proxy's host:port with an
 *   absolute-form request-target (`GET http://catalog.istioinaction:80/items HTTP/1.1`). That is how
 *   the lab's sidecar sees the app's outbound calls.
 * - The `Host` header is the URL's authority exactly as written: `catalog.istioinaction:80` keeps its
 *   `:80` (WHATWG `URL` would drop the default port; Go keeps it, and the book's logs show it).
 * - One keep-alive agent per client; a request that fails on a reused idle connection before any
 *   response byte is retried once when idempotent (what Go's transport does).
 * - Optional Go-like transparent gzip: adds `Accept-Encoding: gzip` and decodes the answer.
 */
import http from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface ParsedHttpUrl {
  /** `host[:port]` exactly as written in the URL: the Host header and the absolute-form authority. */
  authority: string;
  /** Host name or IP to connect to (IPv6 without brackets). */
  hostname: string;
  port: number;
  /** Whether the URL spelled a port (even the default one). */
  explicitPort: boolean;
  /** Origin-form request-target: path and query, at least `/`. */
  path: string;
  /** Absolute-form request-target: `http://authority/path`. */
  href: string;
}

/** Parses an `http://` URL without normalising its authority (keeps `:80`). */
export function parseHttpUrl(url: string): ParsedHttpUrl {
  const m = /^http:\/\/([^/?#]+)([^#]*)/i.exec(url.trim());
  if (!m) throw new TypeError(`unsupported URL (only http:// is supported): ${url}`);
  const authority = m[1]!;
  if (authority.includes('@')) throw new TypeError(`user info in URLs is not supported: ${url}`);
  let hostname: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end < 0) throw new TypeError(`bad IPv6 authority in URL: ${url}`);
    hostname = authority.slice(1, end);
    const rest = authority.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new TypeError(`bad authority in URL: ${url}`);
      portText = rest.slice(1);
    }
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0) {
      hostname = authority.slice(0, colon);
      portText = authority.slice(colon + 1);
    } else {
      hostname = authority;
    }
  }
  if (hostname === '') throw new TypeError(`empty host in URL: ${url}`);
  let port = 80;
  const explicitPort = portText !== undefined && portText !== '';
  if (explicitPort) {
    if (!/^\d{1,5}$/.test(portText!)) throw new TypeError(`bad port in URL: ${url}`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw new TypeError(`port out of range in URL: ${url}`);
  }
  let path = m[2] ?? '';
  if (path === '') path = '/';
  else if (!path.startsWith('/')) path = `/${path}`;
  return { authority, hostname, port, explicitPort, path, href: `http://${authority}${path}` };
}

export interface ProxyAddress {
  host: string;
  port: number;
}

/** Parses a proxy setting: `http://host:port`, `host:port` or `http://host` (port 80). Empty -> none. */
export function parseProxy(value: string | undefined | null): ProxyAddress | undefined {
  if (value === undefined || value === null) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) && !/^http:\/\//i.test(v)) {
    throw new TypeError(`unsupported proxy scheme (only http:// is supported): ${value}`);
  }
  const u = parseHttpUrl(/^http:\/\//i.test(v) ? v : `http://${v}`);
  return { host: u.hostname, port: u.port };
}

/** The proxy an app should use per its environment: `HTTP_PROXY`, else `http_proxy` (as Go does). */
export function proxyFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env.HTTP_PROXY || env.http_proxy;
  return v && v.trim() !== '' ? v : undefined;
}

/** `NO_PROXY`, else `no_proxy`. */
export function noProxyFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env.NO_PROXY || env.no_proxy;
  return v && v.trim() !== '' ? v : undefined;
}

/**
 * Whether `NO_PROXY` exempts a target. Entries are comma-separated: `*` (everything), a host name
 * (matches itself and its subdomains), `.domain` (subdomains and the domain), an IP, each optionally
 * with `:port`. Unlike Go, loopback targets are not exempt by themselves (the lab relies on that).
 */
export function bypassesProxy(hostname: string, port: number, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = hostname.toLowerCase().replace(/\.$/, '');
  for (const raw of noProxy.split(',')) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    let entryPort: number | undefined;
    const m = /^(.*[^:]):(\d+)$/.exec(entry);
    if (m && !entry.startsWith('[')) {
      entry = m[1]!;
      entryPort = Number(m[2]);
    } else if (entry.startsWith('[')) {
      const end = entry.indexOf(']');
      const rest = entry.slice(end + 1);
      entry = entry.slice(1, end);
      if (rest.startsWith(':')) entryPort = Number(rest.slice(1));
    }
    if (entryPort !== undefined && entryPort !== port) continue;
    const domain = entry.replace(/^\*?\./, '').replace(/\.$/, '');
    if (host === domain || host.endsWith(`.${domain}`)) return true;
  }
  return false;
}

export interface HttpClientOptions {
  /** Forward proxy (`http://host:port`); undefined or empty: connect directly. */
  proxy?: string;
  /** Hosts that skip the proxy (NO_PROXY syntax). */
  noProxy?: string;
  /** Sent unless the request sets its own `User-Agent`. */
  userAgent?: string;
  /** Socket idle timeout per request, ms (default 60 s, beego's httplib default). */
  timeoutMs?: number;
  /** Go-like transparent gzip: ask for it and decode it (default false). */
  acceptGzip?: boolean;
  /** Max sockets per upstream (default 64). */
  maxSockets?: number;
}

export interface HttpRequestOptions {
  method?: string;
  url: string;
  headers?: Record<string, string | string[] | undefined>;
  body?: string | Buffer;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Whether the body was gzip-decoded by the client. */
  uncompressed: boolean;
  text(): string;
  json<T = unknown>(): T;
}

export class HttpClientError extends Error {
  readonly code: string;
  readonly url: string;
  constructor(url: string, code: string, message: string) {
    super(message);
    this.name = 'HttpClientError';
    this.code = code;
    this.url = url;
  }
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export class HttpClient {
  readonly proxy: ProxyAddress | undefined;
  readonly noProxy: string | undefined;
  readonly agent: http.Agent;
  private readonly userAgent: string | undefined;
  private readonly timeoutMs: number;
  private readonly acceptGzip: boolean;

  constructor(options: HttpClientOptions = {}) {
    this.proxy = parseProxy(options.proxy);
    this.noProxy = options.noProxy;
    this.userAgent = options.userAgent;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.acceptGzip = options.acceptGzip ?? false;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
  }

  /** The proxy a request to `target` goes through, if any. */
  proxyFor(target: ParsedHttpUrl): ProxyAddress | undefined {
    if (!this.proxy) return undefined;
    return bypassesProxy(target.hostname, target.port, this.noProxy) ? undefined : this.proxy;
  }

  get(url: string, headers?: HttpRequestOptions['headers']): Promise<HttpResponse> {
    return this.request({ method: 'GET', url, headers });
  }

  async request(options: HttpRequestOptions): Promise<HttpResponse> {
    const method = (options.method ?? 'GET').toUpperCase();
    let target: ParsedHttpUrl;
    try {
      target = parseHttpUrl(options.url);
    } catch (err) {
      throw new HttpClientError(options.url, 'ERR_INVALID_URL', (err as Error).message);
    }
    try {
      return await this.once(method, target, options);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { reused?: boolean; responded?: boolean };
      const retryable =
        e.reused === true &&
        e.responded !== true &&
        IDEMPOTENT.has(method) &&
        (e.code === 'ECONNRESET' || e.code === 'EPIPE' || e.message === 'socket hang up');
      if (!retryable) throw wrap(options.url, method, e);
      try {
        return await this.once(method, target, options);
      } catch (err2) {
        throw wrap(options.url, method, err2 as NodeJS.ErrnoException);
      }
    }
  }

  private once(method: string, target: ParsedHttpUrl, options: HttpRequestOptions): Promise<HttpResponse> {
    const proxy = this.proxyFor(target);
    const headers = new Map<string, [string, string | string[]]>();
    const set = (name: string, value: string | string[]) => headers.set(name.toLowerCase(), [name, value]);
    set('Host', target.authority);
    if (this.userAgent) set('User-Agent', this.userAgent);
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      if (value === undefined) continue;
      if (name.toLowerCase() === 'host') continue; // the URL decides the authority
      set(name, value);
    }
    let addedGzip = false;
    if (this.acceptGzip && method !== 'HEAD' && !headers.has('accept-encoding') && !headers.has('range')) {
      set('Accept-Encoding', 'gzip');
      addedGzip = true;
    }
    const body = options.body === undefined ? undefined : Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body);
    if (body !== undefined) set('Content-Length', String(body.length));
    const outHeaders: http.OutgoingHttpHeaders = {};
    for (const [name, value] of headers.values()) outHeaders[name] = value;

    return new Promise<HttpResponse>((resolve, reject) => {
      let responded = false;
      const req = http.request({
        host: proxy ? proxy.host : target.hostname,
        port: proxy ? proxy.port : target.port,
        method,
        path: proxy ? target.href : target.path,
        headers: outHeaders,
        agent: this.agent,
      });
      const fail = (err: Error) => {
        const e = err as Error & { reused?: boolean; responded?: boolean };
        e.reused = req.reusedSocket;
        e.responded = responded;
        reject(e);
      };
      req.setTimeout(options.timeoutMs ?? this.timeoutMs, () => {
        const err = new Error(`timeout after ${options.timeoutMs ?? this.timeoutMs} ms`) as NodeJS.ErrnoException;
        err.code = 'ETIMEDOUT';
        req.destroy(err);
      });
      req.on('error', fail);
      req.on('response', (res) => {
        responded = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('aborted', () => fail(new Error('response aborted')));
        res.on('end', () => {
          let buf = Buffer.concat(chunks);
          const responseHeaders = { ...res.headers };
          let uncompressed = false;
          if (addedGzip && String(res.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
            try {
              buf = gunzipSync(buf);
            } catch (err) {
              fail(err as Error);
              return;
            }
            delete responseHeaders['content-encoding'];
            delete responseHeaders['content-length'];
            uncompressed = true;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: responseHeaders,
            body: buf,
            uncompressed,
            text: () => buf.toString('utf8'),
            json: <T>() => JSON.parse(buf.toString('utf8')) as T,
          });
        });
      });
      req.end(body);
    });
  }

  /** Closes pooled connections. */
  close(): void {
    this.agent.destroy();
  }
}

function wrap(url: string, method: string, err: NodeJS.ErrnoException): HttpClientError {
  if (err instanceof HttpClientError) return err;
  const code = err.code ?? 'ERR_HTTP';
  return new HttpClientError(url, code, `${method} ${url}: ${err.message}`);
}
