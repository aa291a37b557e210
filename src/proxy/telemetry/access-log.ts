/**
 * Istio's default access log line (MeshConfig `accessLogFile` with the built-in TEXT format, see
 * pilot/pkg/model/telemetry_logging.go), so lab output can be compared with the book line by line:
 *
 * [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
 * %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS%
 * "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
 * %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
 * "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW%
 * %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS%
 * %REQUESTED_SERVER_NAME% %ROUTE_NAME%
 */

import { isoTimestamp } from './iso-timestamp.js';

export interface AccessLogRecord {
  /** Epoch milliseconds when the proxy received the first byte of the request. */
  startTime: number;
  method: string;
  /** The original path incl. query (before any rewrite, like X-ENVOY-ORIGINAL-PATH). */
  path: string;
  /** `HTTP/1.1`. */
  protocol: string;
  /** 0 = no response was sent (Envoy prints `0`). */
  responseCode: number;
  /** `-` when none, e.g. `NR`, `UH`, `UF`, `NC`, `URX,UF`. */
  responseFlags: string;
  responseCodeDetails?: string;
  connectionTerminationDetails?: string;
  upstreamTransportFailureReason?: string;
  /** Request body bytes. */
  bytesReceived: number;
  /** Response body bytes. */
  bytesSent: number;
  durationMs: number;
  upstreamServiceTimeMs?: number;
  xForwardedFor?: string;
  userAgent?: string;
  requestId?: string;
  authority?: string;
  upstreamHost?: string;
  upstreamCluster?: string;
  upstreamLocalAddress?: string;
  downstreamLocalAddress?: string;
  downstreamRemoteAddress?: string;
  requestedServerName?: string;
  routeName?: string;
}

/** A parsed line: every field as the text the log shows (`-` for unset), START_TIME without brackets. */
export type ParsedAccessLog = { [K in keyof AccessLogRecord]-?: string };

function opt(v: string | undefined): string {
  return v === undefined || v === '' ? '-' : v;
}

function optMs(v: number | undefined): string {
  // Envoy truncates durations to whole milliseconds.
  return v === undefined ? '-' : String(Math.floor(v));
}

/** Envoy replaces whitespace in details strings so the unquoted field stays one token. */
function optToken(v: string | undefined): string {
  if (v === undefined || v === '') return '-';
  return v.indexOf(' ') === -1 ? v : v.replace(/\s/g, '_');
}

/** One log line, without the trailing newline. Runs once per request: plain concatenation only. */
export function formatAccessLog(r: AccessLogRecord): string {
  return (
    '[' + isoTimestamp(r.startTime) + '] "' +
    r.method + ' ' + r.path + ' ' + r.protocol + '" ' +
    r.responseCode + ' ' +
    opt(r.responseFlags) + ' ' +
    optToken(r.responseCodeDetails) + ' ' +
    optToken(r.connectionTerminationDetails) + ' "' +
    opt(r.upstreamTransportFailureReason) + '" ' +
    r.bytesReceived + ' ' +
    r.bytesSent + ' ' +
    optMs(r.durationMs) + ' ' +
    optMs(r.upstreamServiceTimeMs) + ' "' +
    opt(r.xForwardedFor) + '" "' +
    opt(r.userAgent) + '" "' +
    opt(r.requestId) + '" "' +
    opt(r.authority) + '" "' +
    opt(r.upstreamHost) + '" ' +
    opt(r.upstreamCluster) + ' ' +
    opt(r.upstreamLocalAddress) + ' ' +
    opt(r.downstreamLocalAddress) + ' ' +
    opt(r.downstreamRemoteAddress) + ' ' +
    opt(r.requestedServerName) + ' ' +
    opt(r.routeName)
  );
}

/** Fields after the request line, in log order; `true` = quoted. */
const TAIL_FIELDS: ReadonlyArray<readonly [keyof ParsedAccessLog, boolean]> = [
  ['responseCode', false],
  ['responseFlags', false],
  ['responseCodeDetails', false],
  ['connectionTerminationDetails', false],
  ['upstreamTransportFailureReason', true],
  ['bytesReceived', false],
  ['bytesSent', false],
  ['durationMs', false],
  ['upstreamServiceTimeMs', false],
  ['xForwardedFor', true],
  ['userAgent', true],
  ['requestId', true],
  ['authority', true],
  ['upstreamHost', true],
  ['upstreamCluster', false],
  ['upstreamLocalAddress', false],
  ['downstreamLocalAddress', false],
  ['downstreamRemoteAddress', false],
  ['requestedServerName', false],
  ['routeName', false],
];

/** Whether the `"` at `at` ends a quoted value, judged by what must follow it. */
function closesQuoted(text: string, at: number, nextQuoted: boolean): boolean {
  if (text[at + 1] !== ' ') return false;
  return nextQuoted ? text[at + 2] === '"' : text[at + 2] !== '"';
}

/**
 * Reads one line back into its fields (as strings), or undefined when it is not an access log line.
 * Envoy does not escape quotes inside quoted values, so a quoted value ends at the first `"` that is
 * followed by what the next field must start with (` "` for a quoted field, ` x` otherwise).
 */
export function parseAccessLog(line: string): ParsedAccessLog | undefined {
  const text = line.replace(/\r?\n$/, '');
  if (text[0] !== '[') return undefined;
  const close = text.indexOf('] "');
  if (close < 0) return undefined;
  const out = { startTime: text.slice(1, close) } as ParsedAccessLog;
  let pos = close + 2;

  // `nextQuoted`: the following field is quoted too, so the closing quote is the one before `" "`.
  const quoted = (nextQuoted: boolean): string | undefined => {
    if (text[pos] !== '"') return undefined;
    let end = text.indexOf('"', pos + 1);
    while (end >= 0 && !closesQuoted(text, end, nextQuoted)) end = text.indexOf('"', end + 1);
    if (end < 0) return undefined;
    const value = text.slice(pos + 1, end);
    pos = end + 2;
    return value;
  };
  const word = (): string | undefined => {
    if (pos > text.length) return undefined;
    let end = text.indexOf(' ', pos);
    if (end < 0) end = text.length;
    const value = text.slice(pos, end);
    pos = end + 1;
    return value === '' ? undefined : value;
  };

  const request = quoted(false);
  if (request === undefined) return undefined;
  const firstSpace = request.indexOf(' ');
  const lastSpace = request.lastIndexOf(' ');
  if (firstSpace < 0 || lastSpace === firstSpace) return undefined;
  out.method = request.slice(0, firstSpace);
  out.path = request.slice(firstSpace + 1, lastSpace);
  out.protocol = request.slice(lastSpace + 1);

  for (let i = 0; i < TAIL_FIELDS.length; i++) {
    const [key, isQuoted] = TAIL_FIELDS[i];
    const value = isQuoted ? quoted(TAIL_FIELDS[i + 1]?.[1] === true) : word();
    if (value === undefined) return undefined;
    out[key] = value;
  }
  return pos >= text.length ? out : undefined;
}

/** Every access log line in a log file's text (other lines, e.g. proxy diagnostics, are skipped). */
export function parseAccessLogLines(text: string | readonly string[]): ParsedAccessLog[] {
  const lines = typeof text === 'string' ? text.split('\n') : text;
  const out: ParsedAccessLog[] = [];
  for (const line of lines) {
    const parsed = parseAccessLog(line);
    if (parsed) out.push(parsed);
  }
  return out;
}

/** The first access log line for a request id (what the lab runner uses to check a request's route). */
export function findAccessLog(
  text: string | readonly string[],
  requestId: string,
): ParsedAccessLog | undefined {
  return parseAccessLogLines(text).find((entry) => entry.requestId === requestId);
}
