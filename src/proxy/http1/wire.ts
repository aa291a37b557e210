/** Small writers for HTTP/1.1 heads, shared by the server and client sides. */
import { REASON_PHRASES } from './reason-phrases.js';

export type HeaderValue = string | string[];
export type HeaderMap = Record<string, HeaderValue>;

const statusLines = new Map<number, string>();

/** `HTTP/1.1 200 OK\r\n`, cached per status. */
export function statusLine(status: number, reason?: string): string {
  if (reason !== undefined) return `HTTP/1.1 ${status} ${reason}\r\n`;
  let line = statusLines.get(status);
  if (!line) {
    line = `HTTP/1.1 ${status} ${REASON_PHRASES[status] ?? 'Unknown'}\r\n`;
    statusLines.set(status, line);
  }
  return line;
}

let dateSecond = 0;
let dateText = '';

/** The IMF-fixdate for the Date header, recomputed at most once a second. */
export function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/** `name: value\r\n` lines; array values become repeated fields (set-cookie). */
export function headerLines(headers: HeaderMap): string {
  let out = '';
  for (const name in headers) {
    const v = headers[name]!;
    if (typeof v === 'string') out += `${name}: ${v}\r\n`;
    else for (const item of v) out += `${name}: ${item}\r\n`;
  }
  return out;
}

/** A value that could split a header line (from configuration, not the wire): refused. */
export function isSafeHeaderValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 0x20 && c !== 9) || c === 0x7f) return false;
  }
  return true;
}
