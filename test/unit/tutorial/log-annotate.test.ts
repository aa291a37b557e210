import { describe, expect, it } from 'vitest';
import { loadCommon } from '../../../lab/tutorial/content.js';
import { annotate } from '../../../lab/tutorial/log-annotate.js';
import { parseAccessLogLines } from '../../../src/proxy/telemetry/access-log.js';

const line = (s: string) => parseAccessLogLines([s])[0]!;
const en = loadCommon('en').log;
const ko = loadCommon('ko').log;

describe('an access log line read field by field', () => {
  const v1 = line('[2026-01-01T00:00:00.000Z] "GET /items HTTP/1.1" 200 - via_upstream - "-" 0 502 3 2 "127.0.0.1" "curl/lab" "id-1" "catalog.istioinaction.io" "127.115.1.3:3000" outbound|80|version-v1|catalog.istioinaction.svc.cluster.local 127.0.0.1:40000 127.0.0.1:8080 127.0.0.1:5000 - -');
  const nr = line('[2026-01-01T00:00:00.000Z] "GET / HTTP/1.1" 404 NR route_not_found - "-" 0 0 0 - "127.0.0.1" "curl/lab" "id-2" "catalog.istioinaction.io" "-" - - 127.0.0.1:8080 127.0.0.1:5000 - -');
  const blocked = line('[2026-01-01T00:00:00.000Z] "GET /users HTTP/1.1" 502 - direct_response - "-" 0 0 0 - "-" "-" "id-3" "jsonplaceholder.typicode.com" "-" - - 1.2.3.4:80 127.0.0.1:5000 - block_all');

  it('splits the upstream cluster into direction, port, subset and host', () => {
    const cluster = annotate(v1, en).find((r) => r.field === 'upstream cluster')!;
    expect(cluster.value).toBe('outbound|80|version-v1|catalog.istioinaction.svc.cluster.local');
    expect(cluster.meaning).toContain('port 80 | subset version-v1 | host catalog.istioinaction.svc.cluster.local');
  });

  it('explains the flags, and "-" as a route name by whether a route matched', () => {
    const rows = annotate(nr, en);
    expect(rows.find((r) => r.field === 'response flags')!.meaning).toMatch(/^NR: no route/);
    expect(rows.find((r) => r.field === 'route name')!.meaning).toBe(en.route['-']);
    expect(annotate(v1, en).find((r) => r.field === 'route name')!.meaning).toBe(en.route.unnamed);
    expect(rows.find((r) => r.field === 'upstream host')!.meaning).toBe(en.host.none);
  });

  it('block_all in Korean', () => {
    const rows = annotate(blocked, ko);
    expect(rows.find((r) => r.field === 'route 이름')!.meaning).toContain('REGISTRY_ONLY');
    expect(rows.map((r) => r.field)).toEqual(['응답 코드', 'response flags', '응답 코드 상세', 'authority (Host)', 'upstream cluster', 'upstream host', 'route 이름']);
  });
});
