import { describe, expect, test } from 'vitest';
import { validateJsonSchema } from '../../../src/verify/json-schema.js';
import { scenarioSchema } from '../../../src/verify/scenario.js';

const minimal = { scenario: 's', manifests: ['a.yaml'], cases: [{ name: 'c', request: { from: 'ingress', url: 'http://a/' }, expect: { code: 200 } }] };
const withCase = (c: Record<string, unknown>) => ({ ...minimal, cases: [{ ...minimal.cases[0], ...c }] });

describe('the shipped scenario schema', () => {
  test('a minimal scenario is valid', () => {
    expect(validateJsonSchema(scenarioSchema(), minimal)).toEqual([]);
  });

  test.each<[string, unknown, Array<{ path: string; message: RegExp }>]>([
    ['not an object', [], [{ path: '', message: /expected object, got array/ }]],
    ['missing fields', {}, [{ path: 'scenario', message: /required/ }, { path: 'manifests', message: /required/ }, { path: 'cases', message: /required/ }]],
    ['an unknown top-level field', { ...minimal, manifest: [] }, [{ path: 'manifest', message: /unknown field \(known: \$schema, scenario, namespace/ }]],
    ['no cases', { ...minimal, cases: [] }, [{ path: 'cases', message: /at least 1 item/ }]],
    ['a bad policy', { ...minimal, outboundTrafficPolicy: 'DENY' }, [{ path: 'outboundTrafficPolicy', message: /one of "ALLOW_ANY", "REGISTRY_ONLY"/ }]],
    ['alpha out of range', { ...minimal, alpha: 1 }, [{ path: 'alpha', message: /must be < 1/ }]],
    ['count 0', withCase({ count: 0 }), [{ path: 'cases[0].count', message: /must be >= 1/ }]],
    ['a count that is not whole', withCase({ count: 1.5 }), [{ path: 'cases[0].count', message: /expected integer, got number/ }]],
    ['request without from', withCase({ request: { url: 'http://a/' } }), [{ path: 'cases[0].request.from', message: /required/ }]],
    ['an https url', withCase({ request: { from: 'x', url: 'https://a/' } }), [{ path: 'cases[0].request.url', message: /does not match/ }]],
    ['a lowercase method', withCase({ request: { from: 'x', url: 'http://a/', method: 'get' } }), [{ path: 'cases[0].request.method', message: /does not match/ }]],
    ['a header that is not a string', withCase({ request: { from: 'x', url: 'http://a/', headers: { 'x-a': 1 } } }), [{ path: 'cases[0].request.headers.x-a', message: /expected string, got integer/ }]],
    ['an empty expect', withCase({ expect: {} }), [{ path: 'cases[0].expect', message: /at least 1 field/ }]],
    ['an unknown expectation', withCase({ expect: { status: 200 } }), [{ path: 'cases[0].expect.status', message: /unknown field/ }]],
    ['a bad egress verdict', withCase({ expect: { egress: 'denied' } }), [{ path: 'cases[0].expect.egress', message: /one of "allowed", "passthrough", "blocked"/ }]],
    ['a split share over 100', withCase({ count: 10, expect: { split: { a: 101 } } }), [{ path: 'cases[0].expect.split.a', message: /must be <= 100/ }]],
  ])('%s', (_name, value, want) => {
    const got = validateJsonSchema(scenarioSchema(), value);
    expect(got.length).toBe(want.length);
    want.forEach((w, i) => {
      expect(got[i]!.path).toBe(w.path);
      expect(got[i]!.message).toMatch(w.message);
    });
  });

  test('a keyword the checker does not implement is refused, not ignored', () => {
    expect(() => validateJsonSchema({ type: 'object', oneOf: [] }, {})).toThrow(/unsupported keyword oneOf/);
    expect(() => validateJsonSchema({ $ref: '#/$defs/missing' }, {})).toThrow(/unresolved \$ref/);
  });
});
