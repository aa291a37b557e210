/**
 * Log lines in the format of the book's beego webapp:
 *
 *   2023/01/05 09:33:21.205 [M] [router.go:1014]  172.17.0.1 - - [05/Jan/2023 09:33:21] "GET /api/catalog HTTP/1.1 200 0" 0.053679  curl/7.84.0
 *
 * (UTC; client address from X-Forwarded-For when present; body bytes are always 0 in beego's log;
 * elapsed seconds with 6 decimals; then the referer, usually empty, and the user agent.)
 */
import type { RequestLogInfo } from '../../shared/src/log.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/** `2023/01/05 09:33:21.205` */
export function beegoStamp(d: Date): string {
  return `${d.getUTCFullYear()}/${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
}

/** `05/Jan/2023 09:33:21` */
export function apacheStamp(d: Date): string {
  return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
}

export function formatBeegoAccess(i: RequestLogInfo): string {
  const status = i.status ?? 0;
  return `${beegoStamp(i.end)} [M] [router.go:1014]  ${i.clientIp} - - [${apacheStamp(i.start)}] "${i.method} ${i.url} HTTP/${i.httpVersion} ${status} 0" ${(i.totalMs / 1000).toFixed(6)} ${i.referer} ${i.userAgent}`;
}

/** A beego-style error line: `2023/01/05 09:33:21.205 [E] [catalog.go:24]  message`. */
export function formatBeegoError(where: string, message: string, at: Date = new Date()): string {
  return `${beegoStamp(at)} [E] [${where}]  ${message}`;
}

/** The startup line: `2023/01/05 09:33:21.205 [I] [server.go:241]  http server Running on http://:8080`. */
export function formatBeegoStart(port: number, at: Date = new Date()): string {
  return `${beegoStamp(at)} [I] [server.go:241]  http server Running on http://:${port}`;
}
