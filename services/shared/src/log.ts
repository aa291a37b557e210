/**
 * Logging for the demo services: one line per call to a `LogFn` (stdout by default, injectable in
 * tests), and a tiny per-request logger that reports once the exchange ends.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type LogFn = (line: string) => void;

export const stdoutLog: LogFn = (line) => {
  process.stdout.write(`${line}\n`);
};

export interface RequestLogInfo {
  method: string;
  /** Request-target as received (path and query). */
  url: string;
  /** The Host header as received, `-` when absent. */
  host: string;
  /** Status sent, undefined if no response was sent (dropped connection). */
  status: number | undefined;
  /** The response's Content-Length, undefined if not set. */
  bytes: number | undefined;
  /** Milliseconds until the response headers were written (undefined if never written). */
  responseMs: number | undefined;
  /** Milliseconds until the exchange ended. */
  totalMs: number;
  /** Client address: first X-Forwarded-For entry, else the socket peer (IPv4-mapped prefix removed). */
  clientIp: string;
  userAgent: string;
  referer: string;
  httpVersion: string;
  start: Date;
  end: Date;
}

function plainIp(ip: string | undefined): string {
  if (!ip) return '-';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/** Calls `done` once when the response finishes or the connection closes before that. */
export function onRequestDone(req: IncomingMessage, res: ServerResponse, done: (info: RequestLogInfo) => void): void {
  const start = new Date();
  const t0 = performance.now();
  let headersAt: number | undefined;
  const origWriteHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    if (headersAt === undefined) headersAt = performance.now();
    return (origWriteHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.writeHead;
  let reported = false;
  const report = () => {
    if (reported) return;
    reported = true;
    const now = performance.now();
    const xff = req.headers['x-forwarded-for'];
    const firstXff = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
    const len = res.getHeader('content-length');
    const sent = res.headersSent;
    done({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      host: req.headers.host ?? '-',
      status: sent ? res.statusCode : undefined,
      bytes: sent && len !== undefined ? Number(len) : undefined,
      responseMs: headersAt === undefined ? undefined : headersAt - t0,
      totalMs: now - t0,
      clientIp: firstXff && firstXff !== '' ? firstXff : plainIp(req.socket.remoteAddress),
      userAgent: String(req.headers['user-agent'] ?? ''),
      referer: String(req.headers.referer ?? ''),
      httpVersion: req.httpVersion,
      start,
      end: new Date(),
    });
  };
  res.on('finish', report);
  res.on('close', report);
}

/**
 * morgan `:method :host :url :status :res[content-length] - :response-time ms`, the catalog's first
 * line: `GET catalog.istioinaction:80 /items 200 502 - 0.958 ms`.
 */
export function formatHostLine(i: RequestLogInfo): string {
  const ms = i.responseMs === undefined ? '-' : i.responseMs.toFixed(3);
  return `${i.method} ${i.host} ${i.url} ${i.status ?? '-'} ${i.bytes ?? '-'} - ${ms} ms`;
}

/** morgan `dev` (without colours): `GET /items 200 0.958 ms - 502`. */
export function formatDevLine(i: RequestLogInfo): string {
  const ms = i.responseMs === undefined ? '-' : i.responseMs.toFixed(3);
  return `${i.method} ${i.url} ${i.status ?? '-'} ${ms} ms - ${i.bytes ?? '-'}`;
}

/** Logs each exchange with `format` (default: the host line). */
export function logRequests(log: LogFn, format: (i: RequestLogInfo) => string = formatHostLine) {
  return (req: IncomingMessage, res: ServerResponse): void => onRequestDone(req, res, (i) => log(format(i)));
}
