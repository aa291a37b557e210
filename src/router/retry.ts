/**
 * Envoy's retry decisions (source/common/router/retry_state_impl.cc), as pure functions of the
 * route's retry policy and what one attempt came to. The proxy asks after every attempt that did
 * not forward a response yet; once response bytes have gone downstream nothing is retried.
 *
 * - `wouldRetry`: does the policy's `retry_on` cover this outcome?
 *   - connection failure (refused, unreachable, connect timeout): `connect-failure`, `reset`,
 *     `5xx`, `gateway-error`, `reset-before-request` (the request never left);
 *   - connection closed or reset before the response head, or an invalid response: `reset`, `5xx`,
 *     `gateway-error` (NOT in Istio's default: such a request fails with 503 UC);
 *   - per-try timeout: `reset`, `5xx`, `gateway-error`;
 *   - a response: `5xx` (any 5xx), `gateway-error` (502/503/504), `retriable-4xx` (409),
 *     `retriable-status-codes` (the listed codes), and the gRPC conditions (`cancelled` 1,
 *     `deadline-exceeded` 4, `resource-exhausted` 8, `internal` 13, `unavailable` 14) on the
 *     response's `grpc-status` header. Note `5xx` vs `retriable-status-codes`: Istio's default
 *     retries 503 only, so a 500 or a 502 from upstream is passed on as is.
 *   (`refused-stream` is HTTP/2's REFUSED_STREAM and never happens on HTTP/1.1.)
 * - `retryVerdict`: `retry`; `limit` when it would retry but the retries are used up (Envoy's
 *   NoRetryLimitExceeded: the access log gets `URX`); `final` when the outcome is not retriable, or
 *   the route has no policy, or the request body could not be kept for a replay (Envoy disables
 *   retries once a body overflows its buffer).
 * - `backoffMs`: Envoy's fully jittered exponential back-off: retry n (0-based) waits a uniform
 *   random time below min(base * 2^n, 10 * base), base 25 ms by default.
 * - `pickAvoiding`: the `previous_hosts` predicate: redraw a pick that lands on a host already
 *   tried, at most `hostSelectionRetryMaxAttempts` times; the last draw is used regardless.
 */
import type { Endpoint, RetryPolicy } from '../model/table.js';

export type AttemptOutcome =
  | { kind: 'connect-failure' }
  | { kind: 'reset' }
  | { kind: 'protocol-error' }
  | { kind: 'per-try-timeout' }
  | { kind: 'response'; status: number; grpcStatus?: string };

export type RetryVerdict = 'retry' | 'limit' | 'final';

const GRPC_CONDITIONS: ReadonlyArray<readonly [string, string]> = [
  ['cancelled', '1'],
  ['deadline-exceeded', '4'],
  ['resource-exhausted', '8'],
  ['internal', '13'],
  ['unavailable', '14'],
];

/** Whether `retry_on` covers the outcome (retries left or not). */
export function wouldRetry(policy: RetryPolicy, outcome: AttemptOutcome): boolean {
  const on = policy.retryOn;
  const has = (c: string) => on.includes(c);
  switch (outcome.kind) {
    case 'connect-failure':
      return has('connect-failure') || has('reset') || has('5xx') || has('gateway-error') || has('reset-before-request');
    case 'reset':
    case 'protocol-error':
    case 'per-try-timeout':
      return has('reset') || has('5xx') || has('gateway-error');
    case 'response': {
      const s = outcome.status;
      if (has('5xx') && s >= 500 && s <= 599) return true;
      if (has('gateway-error') && (s === 502 || s === 503 || s === 504)) return true;
      if (has('retriable-4xx') && s === 409) return true;
      if (has('retriable-status-codes') && policy.retriableStatusCodes.includes(s)) return true;
      const grpc = outcome.grpcStatus?.trim();
      if (grpc !== undefined) for (const [cond, code] of GRPC_CONDITIONS) if (grpc === code && has(cond)) return true;
      return false;
    }
  }
}

/**
 * After attempt number `retriesDone + 1` came to `outcome`: retry, or stop (`limit`: URX).
 * `replayable`: the request can be sent again (no body, or a body kept whole in the buffer).
 */
export function retryVerdict(policy: RetryPolicy | undefined, outcome: AttemptOutcome, retriesDone: number, replayable: boolean): RetryVerdict {
  if (!policy || !replayable) return 'final';
  if (!wouldRetry(policy, outcome)) return 'final';
  return retriesDone < policy.numRetries ? 'retry' : 'limit';
}

export const DEFAULT_BACKOFF_BASE_MS = 25;

/** Wait before retry `retryIndex` (0 = the first retry); `random01` is uniform in [0, 1). */
export function backoffMs(policy: RetryPolicy, retryIndex: number, random01: number): number {
  const base = policy.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const max = base * 10;
  const interval = Math.min(base * 2 ** Math.min(retryIndex, 30), max);
  return Math.floor(random01 * interval);
}

/** A pick for a retry that avoids `tried` hosts (`address:port`) when the policy asks for it. */
export function pickAvoiding(
  policy: RetryPolicy | undefined,
  pick: () => Endpoint | undefined,
  tried: ReadonlySet<string>,
): Endpoint | undefined {
  let ep = pick();
  if (!policy?.previousHosts || tried.size === 0) return ep;
  for (let i = 0; i < policy.hostSelectionRetryMaxAttempts && ep !== undefined && tried.has(hostKey(ep)); i++) ep = pick();
  return ep;
}

export function hostKey(ep: { address: string; port: number }): string {
  return `${ep.address}:${ep.port}`;
}

/**
 * %RESPONSE_FLAGS% as Envoy prints several: in its fixed order (`UF,URX`, `UT,URX`, `DC,URX`),
 * not the order they were raised in.
 */
const FLAG_ORDER = ['LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'DC', 'URX', 'SI', 'IH', 'DPE', 'UMSDR', 'RFCF', 'NFCF', 'DT', 'UPE', 'NC', 'OM', 'DF', 'DO', 'DR'];

export function joinResponseFlags(flags: readonly string[]): string {
  const set = new Set(flags.filter((f) => f !== '-' && f !== ''));
  if (set.size === 0) return '-';
  const rank = (f: string) => {
    const i = FLAG_ORDER.indexOf(f);
    return i < 0 ? FLAG_ORDER.length : i;
  };
  return [...set].sort((a, b) => rank(a) - rank(b)).join(',');
}
