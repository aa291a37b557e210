/**
 * Status lines and what the proxy process loads. The reason phrases are the proxy's own copy of
 * Node's table (so the process need not load node:http); these tests keep the copy equal and the
 * proxy's import graph free of node:http.
 */
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REASON_PHRASES } from '../../../src/proxy/http1/reason-phrases.js';
import { statusLine } from '../../../src/proxy/http1/wire.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src');

describe('statusLine', () => {
  it.each([
    [200, 'HTTP/1.1 200 OK\r\n'],
    [404, 'HTTP/1.1 404 Not Found\r\n'],
    [503, 'HTTP/1.1 503 Service Unavailable\r\n'],
    [504, 'HTTP/1.1 504 Gateway Timeout\r\n'],
    [299, 'HTTP/1.1 299 Unknown\r\n'],
  ])('%i -> %j', (status, line) => {
    expect(statusLine(status)).toBe(line);
  });

  it('uses a reason the upstream sent as is', () => {
    expect(statusLine(200, 'Fine')).toBe('HTTP/1.1 200 Fine\r\n');
  });

  it('has the same reason phrases as node:http', () => {
    expect({ ...REASON_PHRASES }).toEqual({ ...STATUS_CODES });
  });
});

/** Every module the file imports, transitively (relative .js specifiers map to .ts sources). */
function importGraph(entry: string): { files: Set<string>; builtins: Map<string, string> } {
  const files = new Set<string>();
  const builtins = new Map<string, string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\b(?:[^'"]*?from)?\s*'([^']+)'|import\(\s*'([^']+)'\s*\)/gm)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else builtins.set(spec, file);
    }
  };
  visit(entry);
  return { files, builtins };
}

describe('the proxy process', () => {
  it('does not load node:http', () => {
    const { files, builtins } = importGraph(join(SRC, 'proxy', 'main.ts'));
    expect(files.size).toBeGreaterThan(20);
    expect(builtins.has('node:net')).toBe(true);
    expect(builtins.get('node:http')).toBeUndefined();
  });
});
