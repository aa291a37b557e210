/**
 * Hop-by-hop filtering, in both the map form (header operations, mirrors) and the hot-path text
 * form: the two must agree on what is forwarded.
 */
import { describe, expect, it } from 'vitest';
import { endToEndHeaders, endToEndResponseHeaders, requestHeaderLines, responseHeaderLines } from '../../../src/proxy/hop-headers.js';
import { headerLines } from '../../../src/proxy/http1/wire.js';

const lines = (text: string) => text.split('\r\n').filter(Boolean);

describe('request headers', () => {
  it.each([
    ['plain end-to-end headers pass', { accept: '*/*', 'x-custom': '1' }, {}, ['accept: */*', 'x-custom: 1']],
    ['hop-by-hop headers are dropped', { connection: 'keep-alive', 'keep-alive': 'timeout=5', te: 'trailers', upgrade: 'h2c', 'proxy-connection': 'x', host: 'a', accept: 'x' }, {}, ['accept: x']],
    ['names listed in Connection are dropped', { connection: 'close, X-Secret', 'x-secret': '1', accept: 'x' }, {}, ['accept: x']],
    ['names the proxy sets are left out (it appends its own)', { 'x-request-id': 'client', accept: 'x' }, { 'x-request-id': 'ours' }, ['accept: x']],
    ['a header called "constructor" is not mistaken for a set name', { constructor: 'c' }, {}, ['constructor: c']],
  ])('%s', (_name, headers, skip, want) => {
    expect(lines(requestHeaderLines(headers, skip))).toEqual(want);
    // The map path forwards the same set.
    const map = endToEndHeaders(headers);
    for (const k of Object.keys(skip)) delete map[k];
    expect(lines(headerLines(map))).toEqual(want);
  });

  it('drops the names the inbound side consumes', () => {
    expect(lines(requestHeaderLines({ 'x-envoy-peer-metadata': 'p', a: '1' }, {}, new Set(['x-envoy-peer-metadata'])))).toEqual(['a: 1']);
  });
});

describe('response headers', () => {
  it.each([
    ['repeated set-cookie stays separate', [['set-cookie', 'a=1'], ['set-cookie', 'b=2']], ['set-cookie: a=1', 'set-cookie: b=2']],
    ['hop-by-hop and Connection-listed are dropped', [['connection', 'keep-alive, x-hop'], ['x-hop', '1'], ['transfer-encoding', 'chunked'], ['content-type', 'text/plain']], ['content-type: text/plain']],
    ['upstream server and service time are replaced by the proxy', [['server', 'node'], ['x-envoy-upstream-service-time', '9'], ['etag', '"1"']], ['etag: "1"']],
  ] as const)('%s', (_name, headers, want) => {
    const skip = new Set(['server', 'x-envoy-upstream-service-time']);
    expect(lines(responseHeaderLines(headers, skip))).toEqual(want);
    const map = endToEndResponseHeaders(headers);
    for (const k of skip) delete map[k];
    expect(lines(headerLines(map))).toEqual(want);
  });
});
