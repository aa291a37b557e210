import { describe, expect, it } from 'vitest';
import {
  type AccessLogRecord,
  findAccessLog,
  formatAccessLog,
  parseAccessLog,
  parseAccessLogLines,
} from '../../../src/proxy/telemetry/access-log.js';
import { isoTimestamp } from '../../../src/proxy/telemetry/iso-timestamp.js';

// Lines from the book's chapter 5 walkthrough (the block_all one had its time and id elided there).
const BOOK_200 =
  '[2023-01-05T07:43:46.238Z] "GET /items HTTP/1.1" 200 - via_upstream - "-" 0 502 1 0 "172.17.0.1" "curl/7.84.0" "2203842e-e4f8-99b8-a22f-af671f9b3f0b" "catalog.istioinaction.io" "172.17.0.11:3000" outbound|80|version-v1|catalog.istioinaction.svc.cluster.local 172.17.0.6:51458 172.17.0.6:8080 172.17.0.1:17488 - -';
const BOOK_404_NR =
  '[2023-01-05T06:53:49.054Z] "GET / HTTP/1.1" 404 NR route_not_found - "-" 0 0 1 - "172.17.0.1" "curl/7.84.0" "6e6ac8e9-2e92-96fb-ad31-635c787f6fc4" "catalog.istioinaction.io" "-" - - 172.17.0.6:8080 172.17.0.1:60544 - -';
const BOOK_BLOCK_ALL =
  '[2023-01-05T08:12:03.007Z] "GET /users HTTP/1.1" 502 - direct_response - "-" 0 0 0 - "172.17.0.1" "Go-http-client/1.1" "5e17c3a1-0b7d-9d2c-8f3e-6a4b2c1d0e9f" "jsonplaceholder.typicode.com" "-" - - 104.21.55.162:80 172.17.0.1:0 - block_all';

const ok200: AccessLogRecord = {
  startTime: Date.parse('2023-01-05T07:43:46.238Z'),
  method: 'GET',
  path: '/items',
  protocol: 'HTTP/1.1',
  responseCode: 200,
  responseFlags: '-',
  responseCodeDetails: 'via_upstream',
  bytesReceived: 0,
  bytesSent: 502,
  durationMs: 1,
  upstreamServiceTimeMs: 0,
  xForwardedFor: '172.17.0.1',
  userAgent: 'curl/7.84.0',
  requestId: '2203842e-e4f8-99b8-a22f-af671f9b3f0b',
  authority: 'catalog.istioinaction.io',
  upstreamHost: '172.17.0.11:3000',
  upstreamCluster: 'outbound|80|version-v1|catalog.istioinaction.svc.cluster.local',
  upstreamLocalAddress: '172.17.0.6:51458',
  downstreamLocalAddress: '172.17.0.6:8080',
  downstreamRemoteAddress: '172.17.0.1:17488',
};

const noRoute: AccessLogRecord = {
  startTime: Date.parse('2023-01-05T06:53:49.054Z'),
  method: 'GET',
  path: '/',
  protocol: 'HTTP/1.1',
  responseCode: 404,
  responseFlags: 'NR',
  responseCodeDetails: 'route_not_found',
  bytesReceived: 0,
  bytesSent: 0,
  durationMs: 1,
  xForwardedFor: '172.17.0.1',
  userAgent: 'curl/7.84.0',
  requestId: '6e6ac8e9-2e92-96fb-ad31-635c787f6fc4',
  authority: 'catalog.istioinaction.io',
  downstreamLocalAddress: '172.17.0.6:8080',
  downstreamRemoteAddress: '172.17.0.1:60544',
};

const blockAll: AccessLogRecord = {
  startTime: Date.parse('2023-01-05T08:12:03.007Z'),
  method: 'GET',
  path: '/users',
  protocol: 'HTTP/1.1',
  responseCode: 502,
  responseFlags: '-',
  responseCodeDetails: 'direct_response',
  bytesReceived: 0,
  bytesSent: 0,
  durationMs: 0,
  xForwardedFor: '172.17.0.1',
  userAgent: 'Go-http-client/1.1',
  requestId: '5e17c3a1-0b7d-9d2c-8f3e-6a4b2c1d0e9f',
  authority: 'jsonplaceholder.typicode.com',
  downstreamLocalAddress: '104.21.55.162:80',
  downstreamRemoteAddress: '172.17.0.1:0',
  routeName: 'block_all',
};

describe('formatAccessLog', () => {
  it('reproduces the book lines byte for byte', () => {
    expect(formatAccessLog(ok200)).toBe(BOOK_200);
    expect(formatAccessLog(noRoute)).toBe(BOOK_404_NR);
    expect(formatAccessLog(blockAll)).toBe(BOOK_BLOCK_ALL);
  });

  it('truncates durations to whole milliseconds and prints 0 for no response', () => {
    const line = formatAccessLog({
      ...noRoute,
      responseCode: 0,
      responseFlags: 'URX,UF',
      durationMs: 12.97,
      upstreamServiceTimeMs: 3.2,
    });
    expect(line).toContain('" 0 URX,UF route_not_found - "-" 0 0 12 3 "');
  });

  it('prints - for empty strings and keeps details one token', () => {
    const line = formatAccessLog({
      ...noRoute,
      responseFlags: '',
      userAgent: '',
      responseCodeDetails: 'upstream reset before',
    });
    expect(line).toContain(' 404 - upstream_reset_before - ');
    expect(line).toContain(' "172.17.0.1" "-" ');
  });
});

describe('isoTimestamp', () => {
  it('matches Date#toISOString across seconds and for fractional input', () => {
    for (const ms of [0, 5, 99, 999, 1000, 1672905826238, 1672905826238.9, 1672905827001]) {
      expect(isoTimestamp(ms)).toBe(new Date(Math.floor(ms)).toISOString());
    }
  });
});

describe('parseAccessLog', () => {
  it('reads the fields of a book line', () => {
    const p = parseAccessLog(BOOK_200);
    expect(p).toEqual({
      startTime: '2023-01-05T07:43:46.238Z',
      method: 'GET',
      path: '/items',
      protocol: 'HTTP/1.1',
      responseCode: '200',
      responseFlags: '-',
      responseCodeDetails: 'via_upstream',
      connectionTerminationDetails: '-',
      upstreamTransportFailureReason: '-',
      bytesReceived: '0',
      bytesSent: '502',
      durationMs: '1',
      upstreamServiceTimeMs: '0',
      xForwardedFor: '172.17.0.1',
      userAgent: 'curl/7.84.0',
      requestId: '2203842e-e4f8-99b8-a22f-af671f9b3f0b',
      authority: 'catalog.istioinaction.io',
      upstreamHost: '172.17.0.11:3000',
      upstreamCluster: 'outbound|80|version-v1|catalog.istioinaction.svc.cluster.local',
      upstreamLocalAddress: '172.17.0.6:51458',
      downstreamLocalAddress: '172.17.0.6:8080',
      downstreamRemoteAddress: '172.17.0.1:17488',
      requestedServerName: '-',
      routeName: '-',
    });
  });

  it('round-trips format -> parse -> the same line', () => {
    for (const line of [BOOK_200, BOOK_404_NR, BOOK_BLOCK_ALL]) {
      const p = parseAccessLog(line + '\n');
      expect(p).toBeDefined();
      const back = formatAccessLog({
        ...p!,
        startTime: Date.parse(p!.startTime),
        responseCode: Number(p!.responseCode),
        bytesReceived: Number(p!.bytesReceived),
        bytesSent: Number(p!.bytesSent),
        durationMs: Number(p!.durationMs),
        upstreamServiceTimeMs:
          p!.upstreamServiceTimeMs === '-' ? undefined : Number(p!.upstreamServiceTimeMs),
      });
      expect(back).toBe(line);
    }
  });

  it('keeps a query string and a user agent with quotes inside', () => {
    const line = formatAccessLog({ ...ok200, path: '/items?x=1&y=2', userAgent: 'a "quoted" agent' });
    const p = parseAccessLog(line)!;
    expect(p.path).toBe('/items?x=1&y=2');
    expect(p.userAgent).toBe('a "quoted" agent');
    expect(p.requestId).toBe(ok200.requestId);
  });

  it('rejects lines that are not access log lines', () => {
    expect(parseAccessLog('')).toBeUndefined();
    expect(parseAccessLog('proxy listening on 127.0.0.1:15001')).toBeUndefined();
    expect(parseAccessLog(BOOK_200.slice(0, -4))).toBeUndefined();
    expect(parseAccessLog(BOOK_200 + ' extra')).toBeUndefined();
  });
});

describe('findAccessLog', () => {
  it('finds the line for a request id among other output', () => {
    const text = ['starting proxy', BOOK_200, BOOK_404_NR, ''].join('\n');
    expect(parseAccessLogLines(text)).toHaveLength(2);
    const hit = findAccessLog(text, '6e6ac8e9-2e92-96fb-ad31-635c787f6fc4');
    expect(hit?.responseFlags).toBe('NR');
    expect(hit?.upstreamCluster).toBe('-');
    expect(findAccessLog(text, 'missing')).toBeUndefined();
  });
});
