import { describe, expect, test } from 'vitest';
import { resolve } from 'node:path';
import { LabError } from '../../../src/shared/errors.js';
import { parseScenario } from '../../../src/verify/scenario.js';

function error(text: string): LabError {
  try {
    parseScenario(text, 'dir/s.yaml');
  } catch (err) {
    if (err instanceof LabError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

const HEAD = 'scenario: s\nmanifests: [../m.yaml]\n';

describe('parseScenario', () => {
  test('defaults and url parsing; manifests resolve against the scenario file', () => {
    const s = parseScenario(`${HEAD}cases:\n  - name: a\n    request: { from: webapp, url: "http://catalog:8080/items?x=1", headers: { X-Cohort: internal } }\n    expect: { code: 200 }\n`, 'dir/s.yaml');
    expect(s.namespace).toBe('istioinaction');
    expect(s.seed).toBe(1);
    expect(s.alpha).toBe(0.001);
    expect(s.manifests).toEqual([resolve('m.yaml')]);
    expect(s.cases[0]).toMatchObject({
      name: 'a',
      count: 1,
      outboundTrafficPolicy: 'ALLOW_ANY',
      line: 4,
      request: { from: 'webapp', method: 'GET', host: 'catalog:8080', port: 8080, path: '/items?x=1', headers: { 'x-cohort': 'internal' } },
    });
  });

  test('host, port and path; the scenario policy is each case\'s default', () => {
    const s = parseScenario(`${HEAD}outboundTrafficPolicy: REGISTRY_ONLY\ncases:\n  - name: a\n    request: { from: ingress, host: a.io }\n    expect: { code: 404 }\n  - name: b\n    outboundTrafficPolicy: ALLOW_ANY\n    request: { from: ingress, host: a.io, port: 443, path: /x }\n    expect: { code: 404 }\n`, 's.yaml');
    expect(s.cases.map((c) => [c.request.host, c.request.port, c.request.path, c.outboundTrafficPolicy])).toEqual([
      ['a.io', 80, '/', 'REGISTRY_ONLY'],
      ['a.io', 443, '/x', 'ALLOW_ANY'],
    ]);
  });

  test.each([
    ['YAML syntax', 'scenario: [\n', /^dir\/s\.yaml:\d+:\d+: not valid YAML/],
    ['a schema problem names file, line and field', `${HEAD}cases:\n  - name: a\n    request: { from: x, url: "http://a/" }\n    expect: { code: 99 }\n`, /^dir\/s\.yaml:6: cases\[0\]\.expect\.code: must be >= 100, got 99$/],
    ['neither url nor host', `${HEAD}cases:\n  - name: a\n    request: { from: x }\n    expect: { code: 200 }\n`, /^dir\/s\.yaml:5: cases\[0\]\.request: needs url or host$/],
    ['url and host', `${HEAD}cases:\n  - name: a\n    request: { from: x, url: "http://a/", host: b }\n    expect: { code: 200 }\n`, /cases\[0\]\.request\.host: give either url or host\/port\/path, not both/],
    ['split without count', `${HEAD}cases:\n  - name: a\n    request: { from: x, url: "http://a/" }\n    expect: { split: { v1: 100 } }\n`, /cases\[0\]\.expect\.split: needs count/],
    ['split not adding up', `${HEAD}cases:\n  - name: a\n    request: { from: x, url: "http://a/" }\n    count: 10\n    expect: { split: { v1: 90, v2: 5 } }\n`, /percentages must add up to 100, got 95/],
    ['duplicate case names', `${HEAD}cases:\n  - name: a\n    request: { from: x, url: "http://a/" }\n    expect: { code: 200 }\n  - name: a\n    request: { from: x, url: "http://a/" }\n    expect: { code: 200 }\n`, /^dir\/s\.yaml:7: cases\[1\]\.name: duplicate case name \(also cases\[0\]\)$/],
  ])('%s', (_name, text, message) => {
    const e = error(text);
    expect(e.code).toBe('LAB_ERR_USAGE');
    expect(e.message).toMatch(message);
  });
});
