/**
 * VirtualService `http[].retries` -> the route's Envoy retry policy, as pilot's
 * `networking/core/v1alpha3/route/retry` builds it (Istio 1.16):
 *
 * - no `retries`: Istio's default, 2 retries on
 *   `connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes` with 503 as the
 *   retriable status, the `previous_hosts` host predicate and 5 host selection attempts, no
 *   per-try timeout. Sidecar routes without any VirtualService get the same default
 *   (`BuildDefaultHTTPOutboundRoute`); inbound and `allow_any` routes get none.
 * - `attempts <= 0` (including `retries` without `attempts`, proto3's zero): no policy, no retries.
 * - otherwise the default with `attempts`, and `retryOn` when set: its integers become the
 *   retriable status codes (replacing 503; `retriable-status-codes` is added when codes are given
 *   without it), the rest the conditions; `perTryTimeout`; `backoff` (Istio >= 1.22);
 *   `retryIgnorePreviousHosts: false` drops `previous_hosts`. `retryRemoteLocalities` changes
 *   nothing here: the lab has one locality.
 */
import { parseGoDuration } from '../config/duration.js';
import type { HTTPRetry } from '../model/specs.js';
import type { RetryPolicy } from '../model/table.js';

export const DEFAULT_RETRY_ON = ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'] as const;

/** Istio's `retry.DefaultPolicy()`. A fresh object each time: tables are plain JSON. */
export function defaultRetryPolicy(): RetryPolicy {
  return {
    numRetries: 2,
    retryOn: [...DEFAULT_RETRY_ON],
    retriableStatusCodes: [503],
    previousHosts: true,
    hostSelectionRetryMaxAttempts: 5,
  };
}

/** Istio's `retry.ConvertPolicy`: undefined means the route is not retried. */
export function convertRetryPolicy(retries: HTTPRetry | undefined): RetryPolicy | undefined {
  if (retries === undefined) return defaultRetryPolicy();
  const attempts = retries.attempts ?? 0;
  if (!(attempts > 0)) return undefined;
  const out = defaultRetryPolicy();
  out.numRetries = Math.floor(attempts);
  if (retries.retryOn !== undefined && retries.retryOn !== '') {
    const { conditions, codes } = parseRetryOn(retries.retryOn);
    out.retryOn = conditions;
    out.retriableStatusCodes = codes;
    if (codes.length > 0 && !conditions.includes('retriable-status-codes')) out.retryOn.push('retriable-status-codes');
  }
  if (retries.perTryTimeout !== undefined) {
    const ms = parseGoDuration(retries.perTryTimeout);
    if (ms !== undefined && ms > 0) out.perTryTimeoutMs = ms;
  }
  if (retries.backoff !== undefined) {
    const ms = parseGoDuration(retries.backoff);
    if (ms !== undefined && ms > 0) out.backoffBaseMs = ms;
  }
  if (retries.retryIgnorePreviousHosts === false) out.previousHosts = false;
  return out;
}

/**
 * Istio's `parseRetryOn`: comma-separated, trimmed, empty parts dropped; a part that is a known
 * HTTP status code (Go's `http.StatusText`) is a retriable status code, anything else a condition.
 */
export function parseRetryOn(retryOn: string): { conditions: string[]; codes: number[] } {
  const conditions: string[] = [];
  const codes: number[] = [];
  for (const raw of retryOn.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const n = /^[+-]?\d+$/.test(part) ? Number(part) : NaN;
    if (GO_STATUS_CODES.has(n)) codes.push(n);
    else conditions.push(part);
  }
  return { conditions, codes };
}

/** The codes Go's `net/http.StatusText` names (Go 1.19, what Istio 1.16 is built with). */
const GO_STATUS_CODES: ReadonlySet<number> = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424,
  425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);
