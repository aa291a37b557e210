/** Test helpers for the demo services: a recording forward proxy, log capture, a plain HTTP client. */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** One request over a fresh connection (no pooling, so nothing lingers between tests). */
export function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: options.method ?? 'GET',
        headers: {
          ...(options.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(options.body)) } : {}),
          ...options.headers,
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Captured log lines, with a way to wait (event-driven, no polling) for a line to appear. */
export class LogCapture {
  readonly lines: string[] = [];
  private waiters: { re: RegExp; resolve: (line: string) => void }[] = [];

  readonly log = (line: string): void => {
    this.lines.push(line);
    this.waiters = this.waiters.filter((w) => {
      if (!w.re.test(line)) return true;
      w.resolve(line);
      return false;
    });
  };

  /** Resolves with the first line (already logged or future) matching `re`. */
  waitFor(re: RegExp): Promise<string> {
    const found = this.lines.find((l) => re.test(l));
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ re, resolve }));
  }

  /** Resolves once `n` lines match `re`. */
  async waitForCount(re: RegExp, n: number): Promise<string[]> {
    for (;;) {
      const matching = this.lines.filter((l) => re.test(l));
      if (matching.length >= n) return matching;
      await new Promise<string>((resolve) => this.waiters.push({ re, resolve }));
    }
  }

  clear(): void {
    this.lines.length = 0;
  }
}

export interface ProxyRecord {
  method: string;
  /** The request-target exactly as received (absolute-form for a forward proxy). */
  target: string;
  headers: IncomingHttpHeaders;
  /** The client's source port: equal ports mean a reused connection. */
  remotePort: number | undefined;
}

export interface TestProxy {
  url: string;
  port: number;
  records: ProxyRecord[];
  close(): Promise<void>;
}

/**
 * A tiny forward proxy: takes absolute-form requests and sends them to `routes[authority]`
 * (`127.0.0.1:PORT`), passing headers (Host included) unchanged. An unknown authority answers 502
 * with no body, like Istio's BlackHoleCluster; an origin-form request answers 400.
 */
export async function startForwardProxy(routes: Record<string, string>): Promise<TestProxy> {
  const records: ProxyRecord[] = [];
  const server = http.createServer((req, res) => {
    const target = req.url ?? '';
    records.push({ method: req.method ?? 'GET', target, headers: { ...req.headers }, remotePort: req.socket.remotePort });
    const m = /^http:\/\/([^/?#]+)([^#]*)$/i.exec(target);
    if (!m) {
      res.writeHead(400, { 'Content-Length': '0' }).end();
      return;
    }
    const to = routes[m[1]!];
    if (!to) {
      res.writeHead(502, { 'Content-Length': '0' }).end();
      return;
    }
    const [host, port] = to.split(':');
    const up = http.request(
      { host, port: Number(port), method: req.method, path: m[2] === '' ? '/' : m[2], headers: req.headers, agent: false },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(503, { 'Content-Length': '0' }).end();
      else res.destroy();
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    records,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port that nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
