/**
 * Reading manifests: multi-document YAML (or JSON) files and directories, as `kubectl apply -f`.
 * Parsing is YAML 1.1, like kubectl's sigs.k8s.io/yaml (`yes` is a boolean, `012` octal), and
 * duplicate keys are errors. Each parsed object remembers where its fields are in the file, so
 * validation errors can carry line:column (`locateField`).
 */
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { extname, join } from 'node:path';
import { isMap, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
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
 * Parse every YAML document of `text` (from `file`, used in messages). Empty documents are skipped
 * (indexes still count them, so "document 3" is the third in the file); `kind: List` documents
 * contribute their `items`. Syntax errors name the file, the document and line:column.
 */
export function parseManifests(text: string, file: string): ParsedManifests {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, version: '1.1', uniqueKeys: true, prettyErrors: false });
  const out: ParsedManifests = { documents: [], errors: [] };
  // parseAllDocuments returns an EmptyStream (an empty array) for an empty input.
  [...docs].forEach((doc, index) => {
    const where = (line?: number, column?: number) => {
      const l: ConstructorParameters<typeof ConfigError>[0] = { file, index, kind: '', name: '', path: '' };
      if (line !== undefined) l.line = line;
      if (column !== undefined) l.column = column;
      return l;
    };
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const pos = lines.linePos(e.pos[0]);
        const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        out.errors.push(new ConfigError(where(pos.line, pos.col), `YAML syntax error at line ${pos.line}:${pos.col}: ${message}`));
      }
      return;
    }
    if (doc.contents === null) return; // empty document
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    const start = doc.contents.range ? lines.linePos(doc.contents.range[0]) : undefined;
    if (!isObject(value)) {
      out.errors.push(new ConfigError(where(start?.line, start?.col), `document must be a mapping (an object with apiVersion and kind), got ${Array.isArray(value) ? 'a sequence' : typeof value}`));
      return;
    }
    if (value['kind'] === 'List' && (value['apiVersion'] === 'v1' || value['apiVersion'] === undefined)) {
      const items = value['items'];
      if (items !== undefined && items !== null && !Array.isArray(items)) {
        out.errors.push(new ConfigError({ ...where(start?.line, start?.col), kind: 'List', path: 'items' }, 'expected array'));
        return;
      }
      (Array.isArray(items) ? items : []).forEach((item, i) => {
        const node = doc.getIn(['items', i], true) as Node | undefined;
        const pos = node?.range ? lines.linePos(node.range[0]) : undefined;
        if (!isObject(item)) {
          out.errors.push(new ConfigError({ ...where(pos?.line, pos?.col), item: i }, 'List item must be a mapping (an object with apiVersion and kind)'));
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
