import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadManifestPaths, locateField, parseManifests, splitFieldPath } from '../../../src/config/manifest.js';
import { BOOK } from './book-manifests.js';
import { dedent } from './helpers.js';

describe('parseManifests', () => {
  test('splits documents, skips empty ones, keeps file indexes', () => {
    const text = dedent(`
      ---
      apiVersion: v1
      kind: ServiceAccount
      metadata: {name: a}
      ---
      # only a comment
      ---
      ---
      apiVersion: v1
      kind: ServiceAccount
      metadata: {name: b}
      ---
      `);
    const r = parseManifests(text, 'sa.yaml');
    expect(r.errors).toEqual([]);
    expect(r.documents.map((d) => [d.object.metadata.name, d.source])).toEqual([
      ['a', { file: 'sa.yaml', index: 0, line: 2 }],
      ['b', { file: 'sa.yaml', index: 3, line: 9 }],
    ]);
  });

  test('the book\'s catalog.yaml has three objects', () => {
    const r = parseManifests(BOOK['services/catalog/kubernetes/catalog.yaml']!, 'catalog.yaml');
    expect(r.documents.map((d) => `${d.object.kind}/${d.object.metadata.name}`)).toEqual(['ServiceAccount/catalog', 'Service/catalog', 'Deployment/catalog']);
  });

  test('an empty file has no documents and no errors', () => {
    expect(parseManifests('', 'e.yaml')).toEqual({ documents: [], errors: [] });
    expect(parseManifests('# nothing\n', 'e.yaml')).toEqual({ documents: [], errors: [] });
  });

  test('JSON is YAML', () => {
    const r = parseManifests('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}', 'ns.json');
    expect(r.documents[0]!.object).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } });
  });

  test('kind: List contributes its items, each naming its position', () => {
    const text = dedent(`
      apiVersion: v1
      kind: List
      items:
      - apiVersion: v1
        kind: ServiceAccount
        metadata: {name: a}
      - apiVersion: v1
        kind: ServiceAccount
        metadata: {name: b}
      `);
    const r = parseManifests(text, 'list.yaml');
    expect(r.documents.map((d) => [d.object.metadata.name, d.source])).toEqual([
      ['a', { file: 'list.yaml', index: 0, item: 0, line: 4 }],
      ['b', { file: 'list.yaml', index: 0, item: 1, line: 7 }],
    ]);
  });

  test('YAML 1.1 like kubectl: yes is a boolean, 012 is octal', () => {
    const r = parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: yes, b: 012}\n', 'c.yaml');
    expect(r.documents[0]!.object['data']).toEqual({ a: true, b: 10 });
  });

  const SYNTAX: Array<[string, string, string[]]> = [
    [
      'a nested mapping on one line',
      'apiVersion: v1\nkind: ConfigMap\n---\nmetadata:\n  name: a: b\n',
      ['bad.yaml: document 2: YAML syntax error at line 5:9: Nested mappings are not allowed in compact mappings'],
    ],
    [
      'an unclosed flow sequence',
      'hosts: [a, b\n',
      ['bad.yaml: document 1: YAML syntax error at line 2:1: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ],
    [
      'a duplicate key',
      'apiVersion: v1\nkind: Service\nkind: ConfigMap\n',
      ['bad.yaml: document 1 (Service): kind: YAML syntax error at line 3:1: Map keys must be unique'],
    ],
    [
      'a tab for indentation',
      'spec:\n\thosts: [a]\n',
      ['bad.yaml: document 1: YAML syntax error at line 2:1: Tabs are not allowed as indentation'],
    ],
    [
      'a document that is a list',
      '- apiVersion: v1\n',
      ['bad.yaml: document 1: document must be a mapping (an object with apiVersion and kind), got a sequence'],
    ],
    [
      'a document that is a string',
      'hello\n',
      ['bad.yaml: document 1: document must be a mapping (an object with apiVersion and kind), got string'],
    ],
    [
      'a List whose items is not a list',
      'apiVersion: v1\nkind: List\nitems: {a: b}\n',
      ['bad.yaml: document 1 (List): items: expected array'],
    ],
  ];
  test.each(SYNTAX)('%s', (_name, text, expected) => {
    const r = parseManifests(text, 'bad.yaml');
    expect(r.errors.map(String)).toEqual(expected);
  });

  test('syntax errors carry line and column', () => {
    const [e] = parseManifests('a: 1\n---\nb: [1,\n', 'x.yaml').errors;
    expect(e).toMatchObject({ file: 'x.yaml', index: 1, line: 4, column: 1, path: '', kind: '', name: '' });
  });

  test('good documents of a file with a broken one are still returned', () => {
    const r = parseManifests('apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nx: [\n', 'x.yaml');
    expect(r.documents).toHaveLength(1);
    expect(r.errors).toHaveLength(1);
  });
});

describe('field locations', () => {
  test('splitFieldPath', () => {
    expect(splitFieldPath('spec.http[0].match[10].headers[x-istio-cohort].exact')).toEqual(['spec', 'http', 0, 'match', 10, 'headers', 'x-istio-cohort', 'exact']);
    expect(splitFieldPath('metadata.labels[app.kubernetes.io/name]')).toEqual(['metadata', 'labels', 'app.kubernetes.io/name']);
    expect(splitFieldPath('')).toEqual([]);
  });

  test('locateField finds keys, values and the parent of missing fields', () => {
    const r = parseManifests(BOOK['ch5/catalog-vs-v2-request.yaml']!, 'vs.yaml');
    const o = r.documents[0]!.object;
    expect(locateField(o, 'spec.http[0].match[0].headers[x-istio-cohort].exact')).toEqual({ line: 14, column: 11 });
    expect(locateField(o, 'spec.http[1].route[0].destination.subset')).toEqual({ line: 22, column: 9 });
    expect(locateField(o, 'spec.http[1].route[0].destination.port')).toEqual({ line: 20, column: 7 });
    expect(locateField(o, '')).toEqual({ line: 1, column: 1 });
    expect(locateField({}, 'spec')).toBeUndefined();
  });
});

describe('loadManifestPaths', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lab-config-'));
    mkdirSync(join(dir, 'ch5', 'flagger'), { recursive: true });
    writeFileSync(join(dir, 'ch5', 'b.yaml'), 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: b}\n');
    writeFileSync(join(dir, 'ch5', 'a.yml'), 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a2}\n');
    writeFileSync(join(dir, 'ch5', 'flagger', 'c.json'), '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"c"}}');
    writeFileSync(join(dir, 'ch5', 'README.md'), '# not a manifest\n');
    writeFileSync(join(dir, 'ch5', 'z.yaml'), 'a: [\n');
    writeFileSync(join(dir, 'explicit.txt'), 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: t}\n');
    mkdirSync(join(dir, 'empty'));
    symlinkSync(join(dir, 'ch5', 'b.yaml'), join(dir, 'ch5', 'flagger', 'link.yaml'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('reads directories recursively in sorted order, manifests only', () => {
    const r = loadManifestPaths([join(dir, 'ch5')]);
    expect(r.documents.map((d) => [d.object.metadata.name, d.source.file.slice(dir.length + 1), d.source.index])).toEqual([
      ['a', 'ch5/a.yml', 0],
      ['a2', 'ch5/a.yml', 1],
      ['b', 'ch5/b.yaml', 0],
      ['c', 'ch5/flagger/c.json', 0],
      ['b', 'ch5/flagger/link.yaml', 0],
    ]);
    expect(r.errors.map((e) => String(e).slice(dir.length + 1))).toEqual([
      'ch5/z.yaml: document 1: YAML syntax error at line 2:1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  test('reads a file named explicitly whatever its extension, in the order given', () => {
    const r = loadManifestPaths([join(dir, 'explicit.txt'), join(dir, 'ch5', 'b.yaml')]);
    expect(r.documents.map((d) => d.object.metadata.name)).toEqual(['t', 'b']);
  });

  test('a missing path and an empty directory are errors', () => {
    const missing = join(dir, 'nope.yaml');
    const r = loadManifestPaths([missing, join(dir, 'empty')]);
    expect(r.documents).toEqual([]);
    expect(r.errors.map(String)).toEqual([
      `${missing}: document 1: the path "${missing}" does not exist`,
      `${join(dir, 'empty')}: document 1: no manifests (*.yaml, *.yml, *.json) found in directory "${join(dir, 'empty')}"`,
    ]);
  });
});
