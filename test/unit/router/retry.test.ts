/**
 * Envoy's retry decisions as pure functions (src/router/retry.ts): what each `retry_on` condition
 * covers, the retry limit (URX), replayability, back-off bounds, `previous_hosts` host selection
 * and the order Envoy prints response flags in.
 */
import { describe, expect, it } from 'vitest';
import { defaultRetryPolicy } from '../../../src/compiler/retry.js';
import type { Endpoint, RetryPolicy } from '../../../src/model/table.js';
import { backoffMs, joinResponseFlags, pickAvoiding, retryVerdict, wouldRetry, type AttemptOutcome } from '../../../src/router/retry.js';

const ISTIO_DEFAULT = defaultRetryPolicy();
const on = (...retryOn: string[]): RetryPolicy => ({ ...defaultRetryPolicy(), retryOn, retriableStatusCodes: [] });
const withCodes = (codes: number[], ...retryOn: string[]): RetryPolicy => ({ ...defaultRetryPolicy(), retryOn, retriableStatusCodes: codes });

const CONNECT: AttemptOutcome = { kind: 'connect-failure' };
const RESET: AttemptOutcome = { kind: 'reset' };
const PROTOCOL: AttemptOutcome = { kind: 'protocol-error' };
const PER_TRY: AttemptOutcome = { kind: 'per-try-timeout' };
const status = (s: number, grpcStatus?: string): AttemptOutcome => ({ kind: 'response', status: s, ...(grpcStatus !== undefined ? { grpcStatus } : {}) });

describe('wouldRetry: which outcomes each retry_on covers', () => {
  const cases: Array<[string, RetryPolicy, AttemptOutcome, boolean]> = [
    // Istio's default: connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes + [503]
    ['default: connection refused', ISTIO_DEFAULT, CONNECT, true],
    ['default: 503 from upstream', ISTIO_DEFAULT, status(503), true],
    ['default: 500 is passed on (retriable-status-codes is 503 only, not 5xx)', ISTIO_DEFAULT, status(500), false],
    ['default: 502', ISTIO_DEFAULT, status(502), false],
    ['default: 504', ISTIO_DEFAULT, status(504), false],
    ['default: 200', ISTIO_DEFAULT, status(200), false],
    ['default: 409', ISTIO_DEFAULT, status(409), false],
    ['default: reset before the response head is not retried (503 UC)', ISTIO_DEFAULT, RESET, false],
    ['default: invalid response', ISTIO_DEFAULT, PROTOCOL, false],
    ['default: per-try timeout', ISTIO_DEFAULT, PER_TRY, false],
    ['default: gRPC UNAVAILABLE (14) in a 200', ISTIO_DEFAULT, status(200, '14'), true],
    ['default: gRPC CANCELLED (1)', ISTIO_DEFAULT, status(200, '1'), true],
    ['default: gRPC INTERNAL (13) is not in the default', ISTIO_DEFAULT, status(200, '13'), false],
    ['default: gRPC OK (0)', ISTIO_DEFAULT, status(200, '0'), false],
    // 5xx
    ['5xx: 500', on('5xx'), status(500), true],
    ['5xx: 599', on('5xx'), status(599), true],
    ['5xx: 499', on('5xx'), status(499), false],
    ['5xx: connection refused', on('5xx'), CONNECT, true],
    ['5xx: reset', on('5xx'), RESET, true],
    ['5xx: per-try timeout', on('5xx'), PER_TRY, true],
    ['5xx: invalid response', on('5xx'), PROTOCOL, true],
    // gateway-error
    ['gateway-error: 502', on('gateway-error'), status(502), true],
    ['gateway-error: 503', on('gateway-error'), status(503), true],
    ['gateway-error: 504', on('gateway-error'), status(504), true],
    ['gateway-error: 500', on('gateway-error'), status(500), false],
    ['gateway-error: reset', on('gateway-error'), RESET, true],
    ['gateway-error: connection refused', on('gateway-error'), CONNECT, true],
    // reset / connect-failure / reset-before-request
    ['reset: reset', on('reset'), RESET, true],
    ['reset: connection refused', on('reset'), CONNECT, true],
    ['reset: per-try timeout', on('reset'), PER_TRY, true],
    ['reset: a 503 response', on('reset'), status(503), false],
    ['connect-failure: connection refused', on('connect-failure'), CONNECT, true],
    ['connect-failure: reset', on('connect-failure'), RESET, false],
    ['connect-failure: 503', on('connect-failure'), status(503), false],
    ['reset-before-request: connection refused (nothing was sent)', on('reset-before-request'), CONNECT, true],
    ['reset-before-request: reset after the request went out', on('reset-before-request'), RESET, false],
    ['refused-stream never fires on HTTP/1.1', on('refused-stream'), RESET, false],
    // retriable-4xx, retriable-status-codes
    ['retriable-4xx: 409', on('retriable-4xx'), status(409), true],
    ['retriable-4xx: 404', on('retriable-4xx'), status(404), false],
    ['retriable-status-codes: listed 429', withCodes([429, 503], 'retriable-status-codes'), status(429), true],
    ['retriable-status-codes: unlisted 500', withCodes([429, 503], 'retriable-status-codes'), status(500), false],
    ['codes without the retriable-status-codes condition do nothing', withCodes([503], 'connect-failure'), status(503), false],
    // gRPC
    ['deadline-exceeded: 4', on('deadline-exceeded'), status(200, '4'), true],
    ['resource-exhausted: 8', on('resource-exhausted'), status(200, '8'), true],
    ['internal: 13', on('internal'), status(200, '13'), true],
    ['unavailable: 14 with spaces', on('unavailable'), status(200, ' 14 '), true],
    ['unavailable: no grpc-status', on('unavailable'), status(200), false],
    ['unknown conditions never match', on('retriable-headers', 'bogus'), status(503), false],
    ['no conditions', on(), CONNECT, false],
  ];
  it.each(cases)('%s', (_name, policy, outcome, want) => {
    expect(wouldRetry(policy, outcome)).toBe(want);
  });
});

describe('retryVerdict: retry, limit (URX) or final', () => {
  const three = { ...defaultRetryPolicy(), numRetries: 3 };
  const cases: Array<[string, RetryPolicy | undefined, AttemptOutcome, number, boolean, string]> = [
    ['no policy: never retried, no URX', undefined, CONNECT, 0, true, 'final'],
    ['first attempt refused: retry', ISTIO_DEFAULT, CONNECT, 0, true, 'retry'],
    ['second attempt refused: retry', ISTIO_DEFAULT, CONNECT, 1, true, 'retry'],
    ['third attempt refused with 2 retries used: limit (UF,URX)', ISTIO_DEFAULT, CONNECT, 2, true, 'limit'],
    ['503 after 2 retries: limit (503 URX via_upstream)', ISTIO_DEFAULT, status(503), 2, true, 'limit'],
    ['500 is final at any point, no URX', ISTIO_DEFAULT, status(500), 2, true, 'final'],
    ['reset under the default: final (UC, no URX)', ISTIO_DEFAULT, RESET, 0, true, 'final'],
    ['attempts 3: the fourth attempt is the last', three, status(503), 2, true, 'retry'],
    ['attempts 3: after 3 retries', three, status(503), 3, true, 'limit'],
    ['a body that could not be kept: final, as Envoy once its buffer overflowed', ISTIO_DEFAULT, CONNECT, 0, false, 'final'],
    ['a body that could not be kept, retries used: still final (no URX)', ISTIO_DEFAULT, CONNECT, 2, false, 'final'],
    ['numRetries 0 in a table: retriable outcomes are limit', { ...defaultRetryPolicy(), numRetries: 0 }, CONNECT, 0, true, 'limit'],
  ];
  it.each(cases)('%s', (_name, policy, outcome, done, replayable, want) => {
    expect(retryVerdict(policy, outcome, done, replayable)).toBe(want);
  });
});

describe('backoffMs: fully jittered exponential, base 25 ms, max 10x base', () => {
  it.each([
    [0, 0, 0],
    [0, 0.999, 24],
    [1, 0.999, 49],
    [2, 0.5, 50],
    [3, 0.999, 199],
    [4, 0.999, 249],
    [20, 0.999, 249],
  ])('retry %i with random %f waits %i ms', (index, r, want) => {
    expect(backoffMs(ISTIO_DEFAULT, index, r)).toBe(want);
  });
  it('a configured base interval scales it', () => {
    expect(backoffMs({ ...ISTIO_DEFAULT, backoffBaseMs: 100 }, 0, 0.5)).toBe(50);
    expect(backoffMs({ ...ISTIO_DEFAULT, backoffBaseMs: 100 }, 9, 0.999)).toBe(999);
  });
});

describe('pickAvoiding: previous_hosts', () => {
  const ep = (n: number): Endpoint => ({ address: `127.0.0.${n}`, port: 3000 });
  const sequence = (...eps: Array<Endpoint | undefined>) => {
    let i = 0;
    const calls = { n: 0 };
    return { pick: () => (calls.n++, eps[Math.min(i++, eps.length - 1)]), calls };
  };
  const tried = new Set(['127.0.0.1:3000']);

  it('redraws a pick that lands on a host already tried', () => {
    const s = sequence(ep(1), ep(1), ep(2));
    expect(pickAvoiding(ISTIO_DEFAULT, s.pick, tried)).toEqual(ep(2));
    expect(s.calls.n).toBe(3);
  });
  it('gives up after host_selection_retry_max_attempts (5) redraws and uses the last pick', () => {
    const s = sequence(ep(1));
    expect(pickAvoiding(ISTIO_DEFAULT, s.pick, tried)).toEqual(ep(1));
    expect(s.calls.n).toBe(6);
  });
  it('without previous_hosts the first pick stands', () => {
    const s = sequence(ep(1), ep(2));
    expect(pickAvoiding({ ...ISTIO_DEFAULT, previousHosts: false }, s.pick, tried)).toEqual(ep(1));
    expect(s.calls.n).toBe(1);
  });
  it('nothing tried yet, or no endpoint at all: one pick', () => {
    const s = sequence(ep(1));
    expect(pickAvoiding(ISTIO_DEFAULT, s.pick, new Set())).toEqual(ep(1));
    const none = sequence(undefined);
    expect(pickAvoiding(ISTIO_DEFAULT, none.pick, tried)).toBeUndefined();
    expect(none.calls.n).toBe(1);
  });
});

describe('joinResponseFlags: Envoy prints flags in its own fixed order', () => {
  it.each([
    [['UF', 'URX'], 'UF,URX'],
    [['URX', 'UF'], 'UF,URX'],
    [['URX', 'UC'], 'UC,URX'],
    [['URX', 'UT'], 'UT,URX'],
    [['URX', 'DC'], 'DC,URX'],
    [['UPE', 'URX'], 'URX,UPE'],
    [['-', 'DC'], 'DC'],
    [['UF', '-'], 'UF'],
    [['-'], '-'],
    [[], '-'],
  ])('%j -> %s', (flags, want) => {
    expect(joinResponseFlags(flags)).toBe(want);
  });
});
