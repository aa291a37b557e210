/**
 * Reading manifests: multi-document YAML (or JSON) files and directories, as `kubectl apply -f`.
 * Parsing is YAML 1.1, like kubectl's sigs.k8s.io/yaml (`yes` is a boolean, `012` octal), and
 * duplicate keys are errors. Each parsed object remembers where its fields are in the file, so
 * validation errors can carry line:column (`locateField`).
 */
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { extname, join } from 'node:path';
import { isCollection, isMap, isNode, isScalar, isSeq, LineCounter, parseAllDocuments, visit, type Document, type Node, type Tags } from 'yaml';
import type { KubeObject, SourceRef } from '../model/objects.js';
import { ConfigError } from './errors.js';

/** A document's origin; `item` is set for the objects of a `kind: List` document. */
export interface ManifestSource extends SourceRef {
  item?: number;
  /** 1-based line where the document (or List item) starts. */
  line?: number;
}

export interface ParsedManifests {
  documents: Array<{ object: KubeObject; source: ManifestSource }>;
  errors: ConfigError[];
}

interface Located {
  doc: Document.Parsed;
  lines: LineCounter;
  /** Path of the object inside the document (`['items', 2]` for a List item). */
  prefix: Array<string | number>;
}

const locations = new WeakMap<object, Located>();

/**
 * How kubectl's sigs.k8s.io/yaml reads YAML: 1.1 scalars (`yes` is a boolean, `012` octal), but a
 * date-like scalar (`2001-12-14`) stays a string (JSON has no dates), and keys must be unique.
 */
const PARSE_OPTIONS = {
  version: '1.1',
  // Checked by duplicateKeys (linear): the library's own check is quadratic in a mapping's size.
  uniqueKeys: false,
  prettyErrors: false,
  customTags: (tags: Tags) => tags.filter((t) => !(typeof t === 'object' && t.tag === 'tag:yaml.org,2002:timestamp')),
} as const;

/**
 * Parse every YAML document of `text` (from `file`, used in messages). Empty documents are skipped
 * (indexes still count them, so "document 3" is the third in the file); `kind: List` documents
 * contribute their `items`. Syntax errors name the file, the document and line:column, and, as far
 * as the broken document still says, its kind and name (and, for a duplicate key, the key's path).
 */
export function parseManifests(text: string, file: string): ParsedManifests {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { ...PARSE_OPTIONS, lineCounter: lines });
  const out: ParsedManifests = { documents: [], errors: [] };
  // parseAllDocuments returns an EmptyStream (an empty array) for an empty input.
  [...docs].forEach((doc, index) => {
    const where = (offset: number | undefined, path: Array<string | number> = []) => {
      const l: ConstructorParameters<typeof ConfigError>[0] = { file, index, kind: '', name: '', path: '' };
      if (offset !== undefined) {
        const pos = lines.linePos(offset);
        l.line = pos.line;
        l.column = pos.col;
        // Best effort, for a document that did not parse: what it is, as far as it still says.
        const who = identify(doc, offset);
        l.kind = who.kind;
        l.name = who.name;
        if (who.item !== undefined) l.item = who.item;
        l.path = formatYamlPath(path.slice(who.item !== undefined && path[0] === 'items' && path[1] === who.item ? 2 : 0));
      }
      return l;
    };
    const problems = [
      ...doc.errors.map((e) => ({ offset: e.pos[0], message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''), path: [] as Array<string | number> })),
      ...duplicateKeys(doc.contents, []).map(([offset, path]) => ({ offset, message: 'Map keys must be unique', path })),
    ].sort((a, b) => a.offset - b.offset);
    if (problems.length > 0) {
      for (const p of problems) {
        const pos = lines.linePos(p.offset);
        out.errors.push(new ConfigError(where(p.offset, p.path), `YAML syntax error at line ${pos.line}:${pos.col}: ${p.message}`));
      }
      return;
    }
    if (doc.contents === null) return; // empty document
    // JSON has only string keys: a sequence or mapping as a key is an error (not stringified).
    const complexKey = findComplexKey(doc.contents, []);
    if (complexKey) {
      const [offset, path] = complexKey;
      const pos = lines.linePos(offset);
      out.errors.push(new ConfigError(where(offset, path), `YAML error at line ${pos.line}:${pos.col}: a mapping key must be a scalar (a string), not a sequence or mapping`));
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // An alias to an anchor not (yet) defined, or aliases expanding beyond reason.
      const alias = firstBadAlias(doc);
      const offset = alias ?? doc.contents.range?.[0];
      const pos = offset === undefined ? undefined : lines.linePos(offset);
      const path = alias === undefined ? [] : (pathAt(doc.contents, alias, []) ?? []);
      out.errors.push(new ConfigError(where(offset, path), `YAML error${pos ? ` at line ${pos.line}:${pos.col}` : ''}: ${(err as Error).message}`));
      return;
    }
    if (value === null || value === undefined) return;
    const start = doc.contents.range ? lines.linePos(doc.contents.range[0]) : undefined;
    const at = (pos: { line: number; col: number } | undefined) => {
      const l: ConstructorParameters<typeof ConfigError>[0] = { file, index, kind: '', name: '', path: '' };
      if (pos) {
        l.line = pos.line;
        l.column = pos.col;
      }
      return l;
    };
    if (!isObject(value)) {
      out.errors.push(new ConfigError(at(start), `document must be a mapping (an object with apiVersion and kind), got ${Array.isArray(value) ? 'a sequence' : typeof value}`));
      return;
    }
    if (value['kind'] === 'List' && (value['apiVersion'] === 'v1' || value['apiVersion'] === undefined)) {
      const items = value['items'];
      if (items !== undefined && items !== null && !Array.isArray(items)) {
        out.errors.push(new ConfigError({ ...at(start), kind: 'List', path: 'items' }, 'expected array'));
        return;
      }
      (Array.isArray(items) ? items : []).forEach((item, i) => {
        const node = doc.getIn(['items', i], true) as Node | undefined;
        const pos = node?.range ? lines.linePos(node.range[0]) : undefined;
        if (!isObject(item)) {
          out.errors.push(new ConfigError({ ...at(pos), item: i }, 'List item must be a mapping (an object with apiVersion and kind)'));
          return;
        }
        const object = asKubeObject(item);
        locations.set(object, { doc, lines, prefix: ['items', i] });
        const source: ManifestSource = { file, index, item: i };
        if (pos) source.line = pos.line;
        out.documents.push({ object, source });
      });
      return;
    }
    const object = asKubeObject(value);
    locations.set(object, { doc, lines, prefix: [] });
    const source: ManifestSource = { file, index };
    if (start) source.line = start.line;
    out.documents.push({ object, source });
  });
  return out;
}

const KIND_TEXT = /^[A-Za-z][A-Za-z0-9]*$/;
const NAME_TEXT = /^[-A-Za-z0-9._]{1,253}$/;

function scalarText(node: unknown, pattern: RegExp): string {
  return isScalar(node) && typeof node.value === 'string' && pattern.test(node.value) ? node.value : '';
}

/** kind and metadata.name of a document that failed to parse (of the List item around `offset`). */
function identify(doc: Document.Parsed, offset: number): { kind: string; name: string; item?: number } {
  let target: unknown = doc.contents;
  let item: number | undefined;
  if (isMap(target) && scalarText(target.get('kind', true), KIND_TEXT) === 'List') {
    const items = target.get('items', true);
    if (isSeq(items)) {
      const i = items.items.findIndex((n) => isNode(n) && n.range !== undefined && n.range !== null && offset >= n.range[0] && offset < n.range[2]);
      if (i >= 0) {
        item = i;
        target = items.items[i];
      }
    }
  }
  if (!isMap(target)) return item === undefined ? { kind: '', name: '' } : { kind: '', name: '', item };
  const meta = target.get('metadata', true);
  const who = { kind: scalarText(target.get('kind', true), KIND_TEXT), name: isMap(meta) ? scalarText(meta.get('name', true), NAME_TEXT) : '' };
  return item === undefined ? who : { ...who, item };
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/** The path of the mapping key (a duplicate key) or the scalar or alias value at `offset`, or undefined. */
function pathAt(node: unknown, offset: number, path: Array<string | number>): Array<string | number> | undefined {
  const within = (n: unknown, end: 1 | 2) => isNode(n) && n.range !== undefined && n.range !== null && offset >= n.range[0] && offset < n.range[end];
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = keyText(pair.key);
      if (within(pair.key, 1)) return [...path, key];
      if (within(pair.value, 2)) return isCollection(pair.value) ? pathAt(pair.value, offset, [...path, key]) : [...path, key];
    }
  } else if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) if (within(item, 2)) return isCollection(item) ? pathAt(item, offset, [...path, i]) : [...path, i];
  }
  return undefined;
}

/**
 * Keys that repeat an earlier key of the same mapping (as JSON sees them: `1` and `"1"` are the
 * same key): their offsets and paths. YAML 1.1 merge keys (`<<`) may repeat.
 */
function duplicateKeys(node: unknown, path: Array<string | number>): Array<[number, Array<string | number>]> {
  const out: Array<[number, Array<string | number>]> = [];
  if (isMap(node)) {
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = keyText(pair.key);
      // The YAML 1.1 merge key parses to a symbol.
      if (isScalar(pair.key) && typeof pair.key.value !== 'symbol' && key !== '<<') {
        if (seen.has(key)) out.push([pair.key.range?.[0] ?? node.range?.[0] ?? 0, [...path, key]]);
        seen.add(key);
      }
      out.push(...duplicateKeys(pair.value, [...path, key]));
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => out.push(...duplicateKeys(item, [...path, i])));
  }
  return out;
}

/** The first mapping key that is a sequence or mapping: its offset and the path of its mapping. */
function findComplexKey(node: unknown, path: Array<string | number>): [number, Array<string | number>] | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isCollection(pair.key)) return [pair.key.range?.[0] ?? node.range?.[0] ?? 0, path];
      const found = findComplexKey(pair.value, [...path, keyText(pair.key)]);
      if (found) return found;
    }
  } else if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) {
      const found = findComplexKey(item, [...path, i]);
      if (found) return found;
    }
  }
  return undefined;
}

/** Offset of the first alias whose anchor is not defined before it (else of the first alias). */
function firstBadAlias(doc: Document.Parsed): number | undefined {
  let first: number | undefined;
  let bad: number | undefined;
  visit(doc, {
    Alias(_, node) {
      const offset = node.range?.[0];
      first ??= offset;
      if (bad === undefined && node.resolve(doc) === undefined) bad = offset;
    },
  });
  return bad ?? first;
}

/** `spec.http[0].match[0].headers[x-istio-cohort]`: a key that is not a plain name goes in brackets. */
function formatYamlPath(path: ReadonlyArray<string | number>): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) s += s ? `.${seg}` : seg;
    else s += `[${seg}]`;
  }
  return s;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The parsed mapping as a KubeObject; a missing `metadata` stays missing for validation to report. */
function asKubeObject(v: Record<string, unknown>): KubeObject {
  return v as KubeObject;
}

/** Split `spec.http[0].match[0].headers[x-istio-cohort]` into `['spec','http',0,'match',0,'headers','x-istio-cohort']`. */
export function splitFieldPath(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  let i = 0;
  let cur = '';
  while (i < path.length) {
    const c = path[i]!;
    if (c === '.') {
      if (cur) out.push(cur);
      cur = '';
      i++;
    } else if (c === '[') {
      if (cur) out.push(cur);
      cur = '';
      const end = path.indexOf(']', i);
      const inner = path.slice(i + 1, end < 0 ? path.length : end);
      out.push(/^\d+$/.test(inner) ? Number(inner) : inner);
      i = end < 0 ? path.length : end + 1;
    } else {
      cur += c;
      i++;
    }
  }
  if (cur) out.push(cur);
  return out;
}

/**
 * 1-based line and column of a field of an object returned by `parseManifests` (of its nearest
 * existing parent when the field is missing); undefined for objects from elsewhere.
 */
export function locateField(object: object, path: string): { line: number; column: number } | undefined {
  const where = locations.get(object);
  if (!where) return undefined;
  const segments = splitFieldPath(path);
  let node: unknown = where.doc.getIn(where.prefix, true);
  // The key of the deepest field found: a missing field is reported at its parent's key
  // (`destination:`), an unknown or misspelt one at its own key.
  let key: unknown;
  for (const [i, seg] of segments.entries()) {
    const isLast = i === segments.length - 1;
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value) === String(seg));
      if (!pair) {
        if (key) node = key;
        break;
      }
      key = pair.key;
      next = isLast ? pair.key : pair.value;
      if (next === null || next === undefined) next = pair.key;
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
    }
    if (next === undefined || next === null) break;
    node = next;
  }
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  if (!range) return undefined;
  const pos = where.lines.linePos(range[0]);
  return { line: pos.line, column: pos.col };
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/**
 * Read manifests from files and directories (`lab apply -f a.yaml -f dir/`): a directory is read
 * recursively, taking `*.yaml`, `*.yml` and `*.json` in sorted order; a file named explicitly is
 * read whatever its extension. A missing path is an error, as is a directory with no manifests.
 * Synchronous: manifests are small and the CLI reads them before doing anything else.
 */
export function loadManifestPaths(paths: string[]): ParsedManifests {
  const out: ParsedManifests = { documents: [], errors: [] };
  const pathError = (file: string, message: string) => new ConfigError({ file, index: 0, kind: '', name: '', path: '' }, message);
  for (const p of paths) {
    let st: Stats;
    try {
      st = statSync(p);
    } catch {
      out.errors.push(pathError(p, `the path ${JSON.stringify(p)} does not exist`));
      continue;
    }
    const files = st.isDirectory() ? listManifestFiles(p) : [p];
    if (st.isDirectory() && files.length === 0) {
      out.errors.push(pathError(p, `no manifests (*.yaml, *.yml, *.json) found in directory ${JSON.stringify(p)}`));
      continue;
    }
    for (const f of files) {
      let text: string;
      try {
        text = readFileSync(f, 'utf8');
      } catch (e) {
        out.errors.push(pathError(f, `cannot read file: ${(e as Error).message}`));
        continue;
      }
      const parsed = parseManifests(text, f);
      out.documents.push(...parsed.documents);
      out.errors.push(...parsed.errors);
    }
  }
  return out;
}

function listManifestFiles(dir: string): string[] {
  const entries = readdirSync(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    const full = join(dir, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      let target: Stats | undefined;
      try {
        target = statSync(full);
      } catch {
        target = undefined;
      }
      isDir = target?.isDirectory() ?? false;
      isFile = target?.isFile() ?? false;
    }
    if (isDir) out.push(...listManifestFiles(full));
    else if (isFile && MANIFEST_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push(full);
  }
  return out;
}
