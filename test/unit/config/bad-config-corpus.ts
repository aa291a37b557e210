/**
 * A generated corpus of bad manifests (issue 15, item 6). Every case starts from the book's valid
 * manifests in the repo (ch5/, ch5/flagger/, services/STAR/kubernetes/, services/webapp/istio/) and
 * applies one systematic mutation; its expected verdict (reject, accept, or accept with an
 * istioctl-analyze warning) and where the problem must be reported (file, document, List item,
 * kind/name, field path) are derived from the mutation itself, never listed per case.
 *
 * The derivation uses a few facts about the APIs, stated once below rather than per case: which
 * objects are maps with free keys (labels, selectors, header matches; `FREE_MAP`), which fields are
 * required and where their absence is reported (`REQUIRED`), which arrays are keyed lists
 * (`LIST_KEYS`), which integers are port numbers, and which regexes RE2 rejects (`BAD_RE2`).
 *
 * Pure and deterministic: no randomness, no I/O besides reading the book's files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, LineCounter, parseAllDocuments, parseDocument, Scalar, stringify, type Document, type Node, type Pair } from 'yaml';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** The book's manifest files, as `lab apply -f` takes them (paths relative to the repo). */
export const SOURCE_FILES: readonly string[] = (() => {
  const dirs = ['ch5', 'ch5/flagger', 'services/catalog/kubernetes', 'services/forum/kubernetes', 'services/webapp/kubernetes', 'services/webapp/istio'];
  return dirs.flatMap((d) =>
    readdirSync(join(REPO, d))
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => `${d}/${f}`),
  );
})();

/**
 * The book's state the integration test applies before the corpus (and the state IST0101
 * warnings are computed against): every service, both catalog versions, both gateways and their
 * VirtualServices, the DestinationRule, a mesh VirtualService and the ServiceEntry. No Canary (its
 * controller would change the mesh on its own).
 */
export const BASELINE_FILES: readonly string[] = [
  'services/catalog/kubernetes/catalog.yaml',
  'services/catalog/kubernetes/catalog-deployment-v2.yaml',
  'services/webapp/kubernetes/webapp.yaml',
  'services/forum/kubernetes/forum-all.yaml',
  'ch5/catalog-gateway.yaml',
  'ch5/catalog-dest-rule.yaml',
  'ch5/catalog-vs-v2-request.yaml',
  'services/webapp/istio/webapp-catalog-gw-vs.yaml',
  'ch5/catalog-vs-v2-10-90-mesh.yaml',
  'ch5/forum-serviceentry.yaml',
];

export const NAMESPACE = 'istioinaction';

export type CaseClass =
  | 'wrong-type'
  | 'unknown-field'
  | 'missing-field'
  | 'duplicate'
  | 'dangling-reference'
  | 'regex'
  | 'weights'
  | 'port-range'
  | 'yaml-syntax'
  | 'unknown-kind'
  | 'multi-document';

export type Verdict = 'reject' | 'accept' | 'warn';

/** How the reported path relates to `path`: equal, its parent, or equal/below it (a whole required object removed). */
export type PathRelation = 'exact' | 'parent' | 'self-or-descendant';

export interface Expectation {
  verdict: Verdict;
  /** Where the problem must be reported (reject and warn). */
  file: string;
  document: number;
  item?: number;
  kind: string;
  name: string;
  path: string;
  relation: PathRelation;
  /** For `warn`: istioctl analyze's code. */
  code?: string;
  /** YAML syntax errors: the 1-based line the mutation is on (the error is there or after it). */
  line?: number;
  /** YAML syntax errors carry no field path unless they are duplicate keys. */
  syntax?: boolean;
}

export interface CorpusCase {
  id: string;
  class: CaseClass;
  /** The files of one `lab apply -f a -f b`, in order; names as given on the command line. */
  files: Array<{ name: string; text: string }>;
  expect: Expectation;
  /**
   * What the manifests parse to, for the generator's self-check (a mutation the YAML writer
   * could not express would test nothing): one array of objects per file. Absent for text-level
   * (syntax) mutations.
   */
  parsed?: unknown[][];
}

// ---- the book's documents ------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

export interface SourceDoc {
  file: string;
  index: number;
  text: string;
  /** 1-based line where the document's content starts in its file, and where it ends. */
  firstLine: number;
  lastLine: number;
  object: Obj;
}

function readSourceDocs(file: string): SourceDoc[] {
  const text = readFileSync(join(REPO, file), 'utf8');
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
  return parseAllDocuments(text, { version: '1.1' }).flatMap((d: Document, index: number): SourceDoc[] => {
    if (d.errors.length > 0) throw new Error(`${file}: the book's manifest does not parse: ${d.errors[0]!.message}`);
    const range = d.contents?.range;
    if (!range) return [];
    return [{ file, index, text: text.slice(range[0], range[2]), firstLine: lineOf(range[0]), lastLine: lineOf(Math.max(range[0], range[1] - 1)), object: d.toJS() as Obj }];
  });
}

export const SOURCE_DOCS: readonly SourceDoc[] = SOURCE_FILES.flatMap(readSourceDocs);
const SOURCE_OBJECTS = new WeakSet<object>(SOURCE_DOCS.map((d) => d.object));

export function sourceText(file: string): string {
  return readFileSync(join(REPO, file), 'utf8');
}

// ---- paths -----------------------------------------------------------------------------------

/** One step of a path: a struct field, a key of a free map, or an array index. */
type Seg = { k: string; map: boolean } | { i: number };

/** kubectl's notation: `spec.http[0].route[0].destination.host`, `metadata.labels[app]`. */
export function formatPath(segs: readonly Seg[]): string {
  let s = '';
  for (const g of segs) {
    if ('i' in g) s += `[${g.i}]`;
    else if (g.map) s += `[${g.k}]`;
    else s += s ? `.${g.k}` : g.k;
  }
  return s;
}

/** The path with indexes and map keys generalized: `spec.http[].route[].destination.host`, `metadata.labels[*]`. */
function genericPath(segs: readonly Seg[]): string {
  let s = '';
  for (const g of segs) {
    if ('i' in g) s += '[]';
    else if (g.map) s += '[*]';
    else s += s ? `.${g.k}` : g.k;
  }
  return s;
}

/**
 * Objects whose keys are data, not field names (Kubernetes label maps and selectors, Istio's
 * header/query matches and header operations, ServiceEntry endpoint ports): adding a key there
 * is not an unknown field, and removing one is not a missing field.
 */
function isFreeMap(kind: string, generic: string): boolean {
  if (/(^|\.)(labels|annotations|matchLabels|sourceLabels|nodeSelector|queryParams|withoutHeaders|data|binaryData|templateVariables)$/.test(generic)) return true;
  if (/\.match\[\]\.headers$/.test(generic)) return true;
  if (/\.headers\.(request|response)\.(set|add)$/.test(generic)) return true;
  if (generic === 'spec.selector' && (kind === 'Service' || kind === 'Gateway')) return true;
  return generic === 'spec.endpoints[].ports';
}

interface NodeAt {
  segs: Seg[];
  value: Json;
  /** The node is an entry of a free map. */
  inFreeMap: boolean;
}

function nodes(kind: string, value: Json, segs: Seg[] = [], inFreeMap = false): NodeAt[] {
  const out: NodeAt[] = [{ segs, value, inFreeMap }];
  if (Array.isArray(value)) {
    value.forEach((v, i) => out.push(...nodes(kind, v, [...segs, { i }])));
  } else if (isObj(value)) {
    const free = isFreeMap(kind, genericPath(segs));
    for (const [k, v] of Object.entries(value)) out.push(...nodes(kind, v, [...segs, { k, map: free }], free));
  }
  return out;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** A copy of `root` with the node at `segs` replaced (`undefined`: removed). */
function setAt(root: Obj, segs: readonly Seg[], value: Json | undefined): Obj {
  const out = clone(root);
  let cur: Json = out;
  segs.forEach((g, n) => {
    const last = n === segs.length - 1;
    const key: string | number = 'i' in g ? g.i : g.k;
    const container = cur as Record<string | number, Json>;
    if (last) {
      if (value === undefined) {
        if (Array.isArray(container)) container.splice(key as number, 1);
        else delete container[key];
      } else if (key === '__proto__') {
        Object.defineProperty(container, key, { value, enumerable: true, writable: true, configurable: true });
      } else {
        container[key] = value;
      }
    } else {
      cur = container[key]!;
    }
  });
  return out;
}

function getAt(root: Json, segs: readonly Seg[]): Json | undefined {
  let cur: Json | undefined = root;
  for (const g of segs) {
    if (cur === undefined || cur === null || typeof cur !== 'object') return undefined;
    cur = 'i' in g ? (cur as Json[])[g.i] : (cur as Obj)[g.k];
  }
  return cur;
}

const field = (k: string): Seg => ({ k, map: false });

/** kind and metadata.name as an error about the object names them ('' when not strings). */
function kindName(o: Json): { kind: string; name: string } {
  if (!isObj(o)) return { kind: '', name: '' };
  const meta = o['metadata'];
  return {
    kind: typeof o['kind'] === 'string' ? o['kind'] : '',
    name: isObj(meta) && typeof meta['name'] === 'string' ? meta['name'] : '',
  };
}

// ---- writing manifests -----------------------------------------------------------------------

const written = new WeakMap<object, string>();

/**
 * YAML 1.1 text (as kubectl reads it: `"yes"`, `"80"`, `"0100"` stay strings) for one object.
 * The book's own objects are written once (they are never mutated: mutations work on copies).
 */
export function toYaml(o: Json): string {
  const isSource = typeof o === 'object' && o !== null && SOURCE_OBJECTS.has(o);
  const cached = isSource ? written.get(o) : undefined;
  if (cached !== undefined) return cached;
  const text = stringify(o, { version: '1.1', lineWidth: 0 });
  if (isSource) written.set(o, text);
  return text;
}

function joinDocs(texts: readonly string[]): string {
  return texts.map((t) => (t.endsWith('\n') ? t : `${t}\n`)).join('---\n');
}

// ---- the API facts the verdicts are derived from ---------------------------------------------

/**
 * Where the absence of a field is reported, by kind and generic path (fields not listed are
 * optional: removing them must be accepted). `self`: at the field; `parent`: at the object holding
 * it (a one-of group, or a rule over the whole object); `self-or-descendant`: a whole object whose
 * own required fields are then missing; a path: at that path (a cross-field rule).
 */
type Where = 'self' | 'parent' | 'self-or-descendant' | { at: string };

const REQUIRED_ANY_KIND: Record<string, Where> = {
  apiVersion: 'self',
  kind: 'self',
  metadata: 'self',
  'metadata.name': 'self',
  spec: 'self-or-descendant',
};

const REQUIRED: Record<string, Record<string, Where>> = {
  Deployment: {
    'spec.selector': 'self',
    'spec.selector.matchLabels': 'parent', // an empty selector is invalid
    'spec.template': 'self',
    'spec.template.metadata': { at: 'spec.template.metadata.labels' }, // the selector no longer matches
    'spec.template.metadata.labels': 'self',
    'spec.template.spec': 'self',
    'spec.template.spec.containers': 'self',
    'spec.template.spec.containers[].name': 'self',
    'spec.template.spec.containers[].image': 'self',
    'spec.template.spec.containers[].ports[].containerPort': 'self',
    'spec.template.spec.containers[].env[].name': 'self',
    'spec.template.spec.containers[].env[].valueFrom.fieldRef': 'parent', // exactly one source is required
    'spec.template.spec.containers[].env[].valueFrom.fieldRef.fieldPath': 'self',
  },
  Service: {
    'spec.ports': 'self',
    'spec.ports[].port': 'self',
  },
  Gateway: {
    'spec.servers': 'self',
    'spec.servers[].port': 'self',
    'spec.servers[].hosts': 'self',
    'spec.servers[].port.number': 'self',
    'spec.servers[].port.name': 'self',
    'spec.servers[].port.protocol': 'self',
  },
  VirtualService: {
    spec: 'self', // "http, tcp or tls must be provided"
    'spec.hosts': 'self', // the book's VirtualServices name gateways, so they are not delegates
    'spec.http': 'parent',
    'spec.http[].route': 'self',
    'spec.http[].route[].destination': 'self',
    'spec.http[].route[].destination.host': 'self',
    'spec.http[].route[].destination.port.number': 'self', // Istio: port 0 is out of range
    'spec.http[].mirror.host': 'self',
  },
  DestinationRule: {
    'spec.host': 'self',
    'spec.subsets[].name': 'self',
  },
  ServiceEntry: {
    'spec.hosts': 'self',
    'spec.ports[].number': 'self',
    'spec.ports[].name': 'self',
  },
  Canary: {
    'spec.targetRef': 'self',
    'spec.targetRef.apiVersion': 'self',
    'spec.targetRef.kind': 'self',
    'spec.targetRef.name': 'self',
    'spec.service': 'self',
    'spec.service.port': 'self',
    'spec.analysis': 'self',
    'spec.analysis.interval': 'self',
    'spec.analysis.threshold': 'self',
    'spec.analysis.stepWeight': 'parent', // one of iterations, stepWeight, stepWeights
    'spec.analysis.metrics[].name': 'self',
    'spec.analysis.metrics[].thresholdRange.min': 'parent', // one of min, max
    'spec.analysis.metrics[].thresholdRange.max': 'parent',
  },
};

function requiredWhere(kind: string, generic: string): Where | undefined {
  return REQUIRED[kind]?.[generic] ?? REQUIRED_ANY_KIND[generic];
}

/** Keyed lists: a second item with the same key is a duplicate (`[kind, generic path, key]`). */
const LIST_KEYS: ReadonlyArray<[string, string, string]> = [
  ['DestinationRule', 'spec.subsets', 'name'],
  ['Service', 'spec.ports', 'name'],
  ['ServiceEntry', 'spec.ports', 'name'],
  ['Deployment', 'spec.template.spec.containers', 'name'],
  ['Deployment', 'spec.template.spec.containers[].ports', 'name'],
];

/** Regexes Go's regexp (Istio's validation) and RE2 (Envoy) reject; most are valid JavaScript. */
export const BAD_RE2: readonly string[] = [
  '/items(?=/1)', // lookahead
  '/items(?!/secret)', // negative lookahead
  '(?<=/)items', // lookbehind
  '(?<!x)items', // negative lookbehind
  '(a)\\1', // backreference
  '(?<n>a)\\k<n>', // named backreference
  '(?>atomic)', // atomic group
  'a*+', // possessive
  'a**', // nested repetition
  'x{1,2}{3}', // nested repetition
  'a{1001}', // repeat count above 1000
  'a{2,1}', // max < min
  '(unclosed',
  '[unclosed',
  'unopened)',
  '*leading',
  '[z-a]', // reversed range
  '\\8', // not an escape
  '\\Z', // no \Z in RE2
  '[[:word2:]]', // unknown POSIX class
  '\\p{NoSuchScript}', // unknown Unicode class
];

/** Valid RE2 (controls: these must be accepted). */
export const GOOD_RE2: readonly string[] = [
  '^/items(/[0-9]+)?$',
  '(?i)internal',
  '(?P<id>[a-z]+)',
  '(?<id>[a-z]+)',
  'a{2,5}?',
  '\\Qa.b\\E',
  '[[:alpha:]]+',
  '\\p{Greek}\\pL\\p{Lu}',
  '[^/]+\\.json',
  '.*',
];

/** A port number: `port`, `targetPort`, `containerPort`, or `number` of a port object. */
function isPortNumber(segs: readonly Seg[], value: Json): boolean {
  if (typeof value !== 'number') return false;
  const last = segs[segs.length - 1];
  if (!last || 'i' in last || last.map) return false;
  if (['port', 'targetPort', 'containerPort', 'hostPort'].includes(last.k)) return true;
  if (last.k !== 'number') return false;
  const parent = segs[segs.length - 2];
  const grand = segs[segs.length - 3];
  if (parent && !('i' in parent) && parent.k === 'port') return true;
  return !!parent && 'i' in parent && !!grand && !('i' in grand) && grand.k === 'ports';
}

// ---- generation ------------------------------------------------------------------------------

/** Other values of another type for a value (string <-> number <-> boolean <-> list <-> map). */
function otherTypes(v: Json): Json[] {
  if (typeof v === 'string') return [42, true, [v], { value: v }];
  if (typeof v === 'number') return [String(v), false, [v], { value: v }];
  if (typeof v === 'boolean') return [String(v), 1, [v], { value: v }];
  if (Array.isArray(v)) return ['text', 7, {}];
  if (isObj(v)) return ['text', 7, [v]];
  return [];
}

function typeName(v: Json): string {
  return Array.isArray(v) ? 'list' : v === null ? 'null' : typeof v === 'object' ? 'map' : typeof v;
}

/** A misspelling: two letters swapped (`hosts` -> `hsots`), or the last one doubled. */
export function misspell(key: string, avoid: readonly string[]): string {
  for (let i = 1; i + 1 < key.length; i++) {
    if (key[i] !== key[i + 1]) {
      const m = key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2);
      if (!avoid.includes(m)) return m;
    }
  }
  return `${key}${key[key.length - 1] ?? 'x'}`;
}

/** JavaScript's own property names: a schema lookup by plain indexing would find them. */
const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

interface Builder {
  cases: CorpusCase[];
  add(c: CorpusCase): void;
}

function builder(): Builder {
  const ids = new Set<string>();
  const b: Builder = {
    cases: [],
    add(c) {
      if (ids.has(c.id)) throw new Error(`duplicate case id ${c.id}`);
      ids.add(c.id);
      b.cases.push(c);
    },
  };
  return b;
}

/** The case for one mutated document, written into its file among the file's other documents. */
function objectCase(
  cls: CaseClass,
  src: SourceDoc,
  mutated: Obj,
  variant: string,
  verdict: Verdict,
  path: string,
  relation: PathRelation = 'exact',
  code?: string,
): CorpusCase {
  const docs = SOURCE_DOCS.filter((d) => d.file === src.file);
  const objects = docs.map((d) => (d.index === src.index ? mutated : d.object));
  const { kind, name } = kindName(mutated);
  const expect: Expectation = { verdict, file: src.file, document: docs.findIndex((d) => d.index === src.index), kind, name, path, relation };
  if (code) expect.code = code;
  return {
    id: `${cls}:${src.file}#${src.index + 1}:${path || '<object>'}:${variant}`,
    class: cls,
    files: [{ name: src.file, text: joinDocs(objects.map(toYaml)) }],
    expect,
    parsed: [objects],
  };
}

function wrongTypes(b: Builder, src: SourceDoc): void {
  const kind = src.object['kind'] as string;
  for (const n of nodes(kind, src.object)) {
    if (n.segs.length === 0) continue;
    for (const alt of otherTypes(n.value)) {
      const mutated = setAt(src.object, n.segs, alt);
      b.add(objectCase('wrong-type', src, mutated, `${typeName(n.value)}->${typeName(alt)}`, 'reject', formatPath(n.segs)));
    }
  }
}

function unknownFields(b: Builder, src: SourceDoc): void {
  const kind = src.object['kind'] as string;
  let counter = 0;
  for (const n of nodes(kind, src.object)) {
    if (!isObj(n.value) || isFreeMap(kind, genericPath(n.segs))) continue;
    const extra = ['corpusUnknownField', PROTOTYPE_NAMES[counter++ % PROTOTYPE_NAMES.length]!];
    for (const k of extra) {
      const mutated = setAt(src.object, [...n.segs, field(k)], k === '__proto__' ? { polluted: true } : 'x');
      b.add(objectCase('unknown-field', src, mutated, `add ${k}`, 'reject', formatPath([...n.segs, field(k)])));
    }
    const keys = Object.keys(n.value);
    for (const k of keys) {
      // apiVersion and kind decide the schema: misspelling them is the unknown-kind class.
      if (n.segs.length === 0 && (k === 'apiVersion' || k === 'kind')) continue;
      const m = misspell(k, keys);
      const renamed: Obj = {};
      for (const [kk, vv] of Object.entries(n.value)) renamed[kk === k ? m : kk] = vv;
      const mutated = n.segs.length === 0 ? renamed : setAt(src.object, n.segs, renamed);
      b.add(objectCase('unknown-field', src, mutated, `misspell ${k}`, 'reject', formatPath([...n.segs, field(m)])));
    }
  }
}

function missingFields(b: Builder, src: SourceDoc): void {
  const kind = src.object['kind'] as string;
  for (const n of nodes(kind, src.object)) {
    const last = n.segs[n.segs.length - 1];
    if (!last || 'i' in last || n.inFreeMap) continue;
    const mutated = setAt(src.object, n.segs, undefined);
    const path = formatPath(n.segs);
    const where = requiredWhere(kind, genericPath(n.segs));
    if (where === undefined) {
      b.add(objectCase('missing-field', src, mutated, 'removed, optional', 'accept', path));
    } else if (typeof where === 'object') {
      // The cross-field rule's path, with this node's indexes.
      b.add(objectCase('missing-field', src, mutated, `${path} removed, reported at ${where.at}`, 'reject', where.at));
    } else if (where === 'parent') {
      b.add(objectCase('missing-field', src, mutated, `${path} removed, reported at its parent`, 'reject', formatPath(n.segs.slice(0, -1)), 'parent'));
    } else {
      b.add(objectCase('missing-field', src, mutated, 'removed, required', 'reject', path, where === 'self' ? 'exact' : 'self-or-descendant'));
    }
  }
}

function withNamespace(o: Obj, ns: string): Obj {
  const out = clone(o);
  (out['metadata'] as Obj)['namespace'] = ns;
  return out;
}

function withoutNamespace(o: Obj): Obj {
  const out = clone(o);
  delete (out['metadata'] as Obj)['namespace'];
  return out;
}

function istioVersionSwap(o: Obj): Obj | undefined {
  const av = o['apiVersion'] as string;
  if (!av.startsWith('networking.istio.io/')) return undefined;
  const out = clone(o);
  out['apiVersion'] = av === 'networking.istio.io/v1' ? 'networking.istio.io/v1beta1' : 'networking.istio.io/v1';
  return out;
}

function duplicates(b: Builder, src: SourceDoc): void {
  const o = src.object;
  const { kind, name } = kindName(o);
  const id = (v: string) => `duplicate:${src.file}#${src.index + 1}:metadata.name:${v}`;
  const expect = (file: string, document: number, item?: number): Expectation => {
    const e: Expectation = { verdict: 'reject', file, document, kind, name, path: 'metadata.name', relation: 'exact' };
    if (item !== undefined) e.item = item;
    return e;
  };
  const twice = (second: Obj, variant: string) =>
    b.add({ id: id(variant), class: 'duplicate', files: [{ name: 'dup.yaml', text: joinDocs([toYaml(o), toYaml(second)]) }], expect: expect('dup.yaml', 1), parsed: [[o, second]] });
  twice(o, 'same file twice');
  const explicit = isObj(o['metadata']) && typeof o['metadata']['namespace'] === 'string';
  twice(explicit ? withoutNamespace(o) : withNamespace(o, NAMESPACE), explicit ? 'namespace left to the default' : 'namespace given explicitly');
  const swapped = istioVersionSwap(o);
  if (swapped) twice(swapped, `as ${swapped['apiVersion'] as string}`);
  b.add({
    id: id('in two files'),
    class: 'duplicate',
    files: [
      { name: 'first.yaml', text: toYaml(o) },
      { name: 'second.yaml', text: toYaml(o) },
    ],
    expect: expect('second.yaml', 0),
    parsed: [[o], [o]],
  });
  const list: Obj = { apiVersion: 'v1', kind: 'List', items: [o, o] };
  b.add({ id: id('twice in a List'), class: 'duplicate', files: [{ name: 'list.yaml', text: toYaml(list) }], expect: expect('list.yaml', 0, 1), parsed: [[list]] });
  // Control: the same name in another namespace is another object.
  const other = withNamespace(o, 'corpus-other');
  b.add({
    id: id('other namespace (accepted)'),
    class: 'duplicate',
    files: [{ name: 'dup.yaml', text: joinDocs([toYaml(o), toYaml(other)]) }],
    expect: { ...expect('dup.yaml', 1), verdict: 'accept' },
    parsed: [[o, other]],
  });

  // Keyed lists: a copy of an item under the same key.
  for (const n of nodes(kind, o)) {
    if (!Array.isArray(n.value) || n.value.length === 0) continue;
    const key = LIST_KEYS.find(([k, g]) => k === kind && g === genericPath(n.segs))?.[2];
    if (!key) continue;
    const first = n.value[0]!;
    if (!isObj(first) || first[key] === undefined) continue;
    const copy = clone(first);
    const mutated = setAt(o, n.segs, [...n.value, copy]);
    const at = formatPath([...n.segs, { i: n.value.length }, field(key)]);
    b.add(objectCase('duplicate', src, mutated, `repeated ${key}`, 'reject', at));
  }

  // YAML duplicate keys, in every struct object (maps' keys are data: see isFreeMap).
  for (const n of nodes(kind, o)) {
    if (!isObj(n.value) || isFreeMap(kind, genericPath(n.segs)) || Object.keys(n.value).length === 0) continue;
    const doc = parseDocument(toYaml(o), { version: '1.1' });
    const node = (n.segs.length === 0 ? doc.contents : doc.getIn(n.segs.map((g) => ('i' in g ? g.i : g.k)), true)) as Node;
    if (!isMap(node)) continue;
    const key = String((node.items[0] as Pair<Scalar, unknown>).key.value);
    node.items.push(doc.createPair(key, getAt(o, [...n.segs, field(key)])));
    const path = formatPath([...n.segs, field(key)]);
    b.add({
      id: `duplicate:${src.file}#${src.index + 1}:${path}:YAML key twice`,
      class: 'duplicate',
      files: [{ name: src.file, text: replaceDoc(src, doc.toString({ lineWidth: 0 })) }],
      expect: { verdict: 'reject', file: src.file, document: docPosition(src), kind, name, path, relation: 'exact', syntax: true },
    });
  }
}

/** The file of `src` with that document's text replaced (other documents as the book has them). */
function replaceDoc(src: SourceDoc, text: string): string {
  return joinDocs(SOURCE_DOCS.filter((d) => d.file === src.file).map((d) => (d.index === src.index ? text : d.text)));
}

function docPosition(src: SourceDoc): number {
  return SOURCE_DOCS.filter((d) => d.file === src.file).findIndex((d) => d.index === src.index);
}

/** Every destination (route and mirror) of a VirtualService: path segments of the destination object. */
function destinations(o: Obj): Seg[][] {
  const out: Seg[][] = [];
  const http = (o['spec'] as Obj | undefined)?.['http'];
  if (!Array.isArray(http)) return out;
  http.forEach((r, i) => {
    if (!isObj(r)) return;
    const base: Seg[] = [field('spec'), field('http'), { i }];
    const routes = r['route'];
    if (Array.isArray(routes)) routes.forEach((_, j) => out.push([...base, field('route'), { i: j }, field('destination')]));
    if (isObj(r['mirror'])) out.push([...base, field('mirror')]);
  });
  return out;
}

function danglingReferences(b: Builder, src: SourceDoc): void {
  const o = src.object;
  const kind = o['kind'];
  if (kind === 'VirtualService') {
    // Istio accepts these; istioctl analyze reports IST0101 (ReferencedResourceNotFound).
    for (const d of destinations(o)) {
      const dest = getAt(o, d) as Obj;
      const at = formatPath(d);
      b.add(objectCase('dangling-reference', src, setAt(o, [...d, field('host')], 'corpus-missing'), 'missing host', 'warn', at, 'exact', 'IST0101'));
      b.add(objectCase('dangling-reference', src, setAt(o, [...d, field('subset')], 'version-v9'), 'missing subset', 'warn', at, 'exact', 'IST0101'));
      const port = isObj(dest['port']) && typeof dest['port']['number'] === 'number' ? dest['port']['number'] + 1 : 8081;
      b.add(objectCase('dangling-reference', src, setAt(o, [...d, field('port')], { number: port }), 'missing port', 'warn', formatPath([...d, field('port')]), 'exact', 'IST0101'));
    }
    const gateways = (o['spec'] as Obj)['gateways'];
    if (Array.isArray(gateways)) {
      gateways.forEach((g, i) => {
        const segs: Seg[] = [field('spec'), field('gateways'), { i }];
        b.add(objectCase('dangling-reference', src, setAt(o, segs, 'corpus-missing-gateway'), `missing gateway (was ${String(g)})`, 'warn', formatPath(segs), 'exact', 'IST0101'));
      });
    }
  }
  if (kind === 'ServiceEntry') {
    // Istio rejects endpoint ports the ServiceEntry does not define (by name).
    const ports = ((o['spec'] as Obj)['ports'] as Obj[] | undefined) ?? [];
    const defined = ports.map((p) => p['name'] as string);
    for (const name of ['web', 'https', 'HTTP', ...defined]) {
      const mutated = setAt(o, [field('spec'), field('endpoints')], [{ address: 'jsonplaceholder.typicode.com', ports: { [name]: 80 } }]);
      const path = formatPath([field('spec'), field('endpoints'), { i: 0 }, field('ports'), { k: name, map: true }]);
      b.add(objectCase('dangling-reference', src, mutated, `endpoint port ${name}`, defined.includes(name) ? 'accept' : 'reject', path));
    }
  }
  if (kind === 'Deployment') {
    // A template whose labels the selector does not select (the selector dangles).
    const labelsPath = [field('spec'), field('template'), field('metadata'), field('labels')];
    const selected = getAt(o, [field('spec'), field('selector'), field('matchLabels')]);
    if (isObj(selected)) {
      for (const k of Object.keys(selected)) {
        const segs = [...labelsPath, { k, map: true }];
        b.add(objectCase('dangling-reference', src, setAt(o, segs, `${String(selected[k])}-corpus`), `template label ${k} changed`, 'reject', formatPath(labelsPath)));
      }
    }
  }
}

function regexes(b: Builder, src: SourceDoc): void {
  const o = src.object;
  const positions: Array<{ segs: Seg[]; build: (re: string) => Obj; label: string }> = [];
  if (o['kind'] === 'VirtualService') {
    const http = ((o['spec'] as Obj)['http'] as Obj[] | undefined) ?? [];
    http.forEach((route, i) => {
      const base: Seg[] = [field('spec'), field('http'), { i }];
      positions.push({
        label: `http[${i}] uri`,
        segs: [...base, field('match'), { i: 0 }, field('uri'), field('regex')],
        build: (re) => setAt(o, [...base, field('match')], [{ uri: { regex: re } }]),
      });
      const matches = (route['match'] as Obj[] | undefined) ?? [];
      matches.forEach((m, j) => {
        for (const h of Object.keys((m['headers'] as Obj | undefined) ?? {})) {
          positions.push({
            label: `http[${i}] header ${h}`,
            segs: [...base, field('match'), { i: j }, field('headers'), { k: h, map: true }, field('regex')],
            build: (re) => setAt(o, [...base, field('match'), { i: j }, field('headers'), { k: h, map: true }], { regex: re }),
          });
        }
      });
      if (i === 0) {
        for (const [what, value, tail] of [
          ['authority', (re: string) => ({ authority: { regex: re } }), [field('authority'), field('regex')]],
          ['queryParams', (re: string) => ({ queryParams: { q: { regex: re } } }), [field('queryParams'), { k: 'q', map: true }, field('regex')]],
          ['withoutHeaders', (re: string) => ({ withoutHeaders: { 'x-skip': { regex: re } } }), [field('withoutHeaders'), { k: 'x-skip', map: true }, field('regex')]],
        ] as Array<[string, (re: string) => Obj, Seg[]]>) {
          positions.push({ label: `http[0] ${what}`, segs: [...base, field('match'), { i: 0 }, ...tail], build: (re) => setAt(o, [...base, field('match')], [value(re)]) });
        }
        positions.push({
          label: 'http[0] rewrite',
          segs: [...base, field('rewrite'), field('uriRegexRewrite'), field('match')],
          build: (re) => setAt(o, [...base, field('rewrite')], { uriRegexRewrite: { match: re, rewrite: '/' } }),
        });
      }
    });
  }
  if (o['kind'] === 'Canary') {
    positions.push({
      label: 'analysis.match headers',
      segs: [field('spec'), field('analysis'), field('match'), { i: 0 }, field('headers'), { k: 'x-canary', map: true }, field('regex')],
      build: (re) => setAt(o, [field('spec'), field('analysis'), field('match'), { i: 0 }, field('headers')], { 'x-canary': { regex: re } }),
    });
    positions.push({
      label: 'service.match uri',
      segs: [field('spec'), field('service'), field('match'), { i: 0 }, field('uri'), field('regex')],
      build: (re) => setAt(o, [field('spec'), field('service'), field('match')], [{ uri: { regex: re } }]),
    });
  }
  positions.forEach((p, i) => {
    // Every invalid regex at the first position of each object, a third of them (in turn) at the others.
    const bad = i === 0 ? BAD_RE2 : BAD_RE2.filter((_, k) => k % 3 === i % 3);
    for (const re of bad) b.add(objectCase('regex', src, p.build(re), `${p.label} ${JSON.stringify(re)}`, 'reject', formatPath(p.segs)));
    // Controls: valid RE2 is accepted (at the first positions of each object, which cover every kind of match).
    if (i < 3) for (const re of GOOD_RE2) b.add(objectCase('regex', src, p.build(re), `${p.label} ${JSON.stringify(re)} (valid)`, 'accept', formatPath(p.segs)));
  });
}

function weights(b: Builder, src: SourceDoc): void {
  const o = src.object;
  if (o['kind'] === 'VirtualService') {
    const http = ((o['spec'] as Obj)['http'] as Obj[] | undefined) ?? [];
    http.forEach((route, i) => {
      const routeSegs: Seg[] = [field('spec'), field('http'), { i }, field('route')];
      const dests = (route['route'] as Obj[] | undefined) ?? [];
      const at = formatPath(routeSegs);
      // Relative weights (Istio >= 1.15): with two or more destinations a total of 0 is invalid.
      const two = dests.length >= 2 ? dests : [...dests, clone(dests[0]!)];
      b.add(objectCase('weights', src, setAt(o, routeSegs, two.map((d) => ({ ...d, weight: 0 }))), 'all weights 0', 'reject', at));
      // Istio reads an omitted weight as 0: two or more destinations without weights total 0 too.
      b.add(objectCase('weights', src, setAt(o, routeSegs, two.map(withoutWeight)), 'no weights', 'reject', at));
      b.add(objectCase('weights', src, setAt(o, routeSegs, [{ ...dests[0]!, weight: 0 }]), 'a lone destination with weight 0', 'accept', at));
      b.add(objectCase('weights', src, setAt(o, routeSegs, two.map((d, j) => ({ ...d, weight: j + 1 }))), 'relative weights 1, 2', 'accept', at));
      dests.forEach((_, j) => {
        for (const w of [-1, -100, 2147483648]) {
          b.add(objectCase('weights', src, setAt(o, [...routeSegs, { i: j }, field('weight')], w), `weight ${w}`, 'reject', formatPath([...routeSegs, { i: j }, field('weight')])));
        }
      });
      if (isObj(route['mirror'])) {
        for (const v of [101, -1, 100.5]) {
          const segs: Seg[] = [field('spec'), field('http'), { i }, field('mirrorPercentage')];
          b.add(objectCase('weights', src, setAt(o, segs, { value: v }), `mirrorPercentage ${v}`, 'reject', formatPath([...segs, field('value')])));
        }
        b.add(objectCase('weights', src, setAt(o, [field('spec'), field('http'), { i }, field('mirrorPercentage')], { value: 0 }), 'mirrorPercentage 0', 'accept', ''));
      }
    });
  }
  if (o['kind'] === 'Canary') {
    const analysis: Seg[] = [field('spec'), field('analysis')];
    for (const [k, bad, good] of [
      ['stepWeight', [0, -10, 101], [1, 50]],
      ['maxWeight', [-1, 101], [0, 100]],
    ] as Array<[string, number[], number[]]>) {
      for (const w of bad) b.add(objectCase('weights', src, setAt(o, [...analysis, field(k)], w), `${k} ${w}`, 'reject', formatPath([...analysis, field(k)])));
      for (const w of good) b.add(objectCase('weights', src, setAt(o, [...analysis, field(k)], w), `${k} ${w}`, 'accept', formatPath([...analysis, field(k)])));
    }
  }
}

function withoutWeight(d: Obj): Obj {
  const { weight: _, ...rest } = d;
  return rest;
}

function portRanges(b: Builder, src: SourceDoc): void {
  const kind = src.object['kind'] as string;
  for (const n of nodes(kind, src.object)) {
    if (!isPortNumber(n.segs, n.value)) continue;
    for (const p of [0, -1, 65536, 99999]) {
      b.add(objectCase('port-range', src, setAt(src.object, n.segs, p), `port ${p}`, 'reject', formatPath(n.segs)));
    }
    b.add(objectCase('port-range', src, setAt(src.object, n.segs, 65535), 'port 65535', 'accept', formatPath(n.segs)));
  }
}

function unknownKinds(b: Builder, src: SourceDoc): void {
  const o = src.object;
  const kind = o['kind'] as string;
  const av = o['apiVersion'] as string;
  const group = av.includes('/') ? av.slice(0, av.lastIndexOf('/')) : '';
  const kinds: Array<[string, string]> = [
    [kind.toLowerCase(), 'lower case'],
    [misspell(kind, []), 'misspelt'],
    [`${kind}s`, 'plural'],
    ['CorpusWidget', 'unknown'],
  ];
  for (const [k, v] of kinds) b.add(objectCase('unknown-kind', src, { ...clone(o), kind: k }, `kind ${v}`, 'reject', 'kind'));
  b.add(objectCase('unknown-kind', src, { ...clone(o), apiVersion: 'v1', kind: 'Pod' }, 'Pod (made by the lab)', 'reject', 'kind'));
  const versions: Array<[string, string]> = [
    [group ? `${group}/v2` : 'v2', 'unserved version'],
    [group === 'networking.istio.io' || group === 'flagger.app' ? 'apps/v1' : 'networking.istio.io/v1', 'another group'],
    [group ? `${group.split('').reverse().join('')}/v1` : 'core/v1', 'misspelt group'],
    [av.toUpperCase(), 'upper case'],
  ];
  for (const [a, v] of versions) b.add(objectCase('unknown-kind', src, { ...clone(o), apiVersion: a }, `apiVersion ${v}`, 'reject', 'apiVersion'));
}

// ---- YAML syntax ------------------------------------------------------------------------------

interface LineMutation {
  name: string;
  /** The mutated line, or undefined when the mutation does not apply to this line. */
  apply(line: string): string | undefined;
}

const KEY_VALUE = /^(\s*(?:- )?)([A-Za-z][-\w.]*):( +)(\S.*)$/;
const LIST_ITEM = /^(\s*)- (\S.*)$/;

const LINE_MUTATIONS: readonly LineMutation[] = [
  { name: 'unclosed flow sequence', apply: (l) => (KEY_VALUE.test(l) ? l.replace(KEY_VALUE, '$1$2:$3[$4') : undefined) },
  { name: 'unclosed flow mapping', apply: (l) => (KEY_VALUE.test(l) ? l.replace(KEY_VALUE, '$1$2:$3{$4') : undefined) },
  { name: 'unclosed quote', apply: (l) => (KEY_VALUE.test(l) ? l.replace(KEY_VALUE, '$1$2:$3"$4') : undefined) },
  { name: 'nested mapping in a compact one', apply: (l) => (KEY_VALUE.test(l) ? `${l}: x` : undefined) },
  { name: 'reserved indicator', apply: (l) => (KEY_VALUE.test(l) ? l.replace(KEY_VALUE, '$1$2:$3@$4') : LIST_ITEM.test(l) ? l.replace(LIST_ITEM, '$1- `$2') : undefined) },
  { name: 'tab indentation', apply: (l) => (/^ {2,}\S/.test(l) && !/^\s*- /.test(l) ? l.replace(/^ +/, '\t') : undefined) },
  { name: 'undefined alias', apply: (l) => (KEY_VALUE.test(l) ? l.replace(KEY_VALUE, '$1$2:$3*corpus-no-such-anchor') : undefined) },
];

/** The path of the field whose key is on line `ln` of the document's file. */
function fieldOnLine(doc: SourceDoc, ln: number): Seg[] | undefined {
  const find = (value: Json, segs: Seg[]): Seg[] | undefined => {
    const free = isObj(value) && isFreeMap(doc.object['kind'] as string, genericPath(segs));
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) {
        const found = find(v, [...segs, { i }]);
        if (found) return found;
      }
    } else if (isObj(value)) {
      for (const [k, v] of Object.entries(value)) {
        const here = [...segs, { k, map: free }];
        if (keyLine(doc, here) === ln) return here;
        const found = find(v, here);
        if (found) return found;
      }
    }
    return undefined;
  };
  return find(doc.object, []);
}

const fileLines = new Map<string, { doc: Document[]; lc: LineCounter }>();

/** The 1-based line of the key of the field at `segs` in the document's file. */
function keyLine(doc: SourceDoc, segs: readonly Seg[]): number | undefined {
  let parsed = fileLines.get(doc.file);
  if (!parsed) {
    const lc = new LineCounter();
    parsed = { doc: parseAllDocuments(sourceText(doc.file), { version: '1.1', lineCounter: lc }) as Document[], lc };
    fileLines.set(doc.file, parsed);
  }
  const d = parsed.doc[doc.index]!;
  const parent = segs.slice(0, -1).map((g) => ('i' in g ? g.i : g.k));
  const last = segs[segs.length - 1]!;
  if ('i' in last) return undefined;
  const map = (parent.length === 0 ? d.contents : d.getIn(parent, true)) as Node | undefined;
  if (!isMap(map)) return undefined;
  const pair = map.items.find((p) => String((p.key as Scalar).value) === last.k);
  const start = (pair?.key as Node | undefined)?.range?.[0];
  return start === undefined ? undefined : parsed.lc.linePos(start).line;
}

function yamlSyntax(b: Builder, file: string): void {
  const text = sourceText(file);
  const lines = text.split('\n');
  const docs = SOURCE_DOCS.filter((d) => d.file === file);
  docs.forEach((doc, position) => {
    for (let ln = doc.firstLine; ln <= doc.lastLine; ln++) {
      const original = lines[ln - 1]!;
      if (original.trim() === '' || original.trim().startsWith('#') || original.startsWith('---')) continue;
      // Every line gets two of the mutations, in turn: each mutation meets every kind of line.
      const applicable = LINE_MUTATIONS.filter((m) => m.apply(original.replace(/\s+#.*$/, '')) !== undefined);
      const chosen = applicable.length <= 2 ? applicable : [0, 1].map((k) => applicable[(ln * 2 + k) % applicable.length]!);
      for (const m of chosen) {
        const changed = m.apply(original.replace(/\s+#.*$/, ''));
        if (changed === undefined) continue;
        const mutated = [...lines];
        mutated[ln - 1] = changed;
        const { kind, name } = kindName(doc.object);
        // An alias is located at its field (outside free maps, whose keys the parser cannot tell from fields).
        const segs = m.name === 'undefined alias' ? fieldOnLine(doc, ln) : undefined;
        const path = segs && !segs.some((g) => !('i' in g) && g.map) ? formatPath(segs) : '';
        b.add({
          id: `yaml-syntax:${file}#${doc.index + 1}:line ${ln}:${m.name}`,
          class: 'yaml-syntax',
          files: [{ name: file, text: mutated.join('\n') }],
          expect: { verdict: 'reject', file, document: position, kind: path === 'kind' ? '' : kind, name: path === 'metadata.name' ? '' : name, path, relation: 'exact', line: ln, syntax: true },
        });
      }
    }
  });
}

// ---- several documents --------------------------------------------------------------------------

const BASELINE_DOCS = (): SourceDoc[] => SOURCE_DOCS.filter((d) => BASELINE_FILES.includes(d.file));

function objectKey(o: Json): string {
  const { kind, name } = kindName(o);
  const meta = isObj(o) && isObj(o['metadata']) ? o['metadata'] : {};
  return `${kind}/${typeof meta['namespace'] === 'string' ? meta['namespace'] : NAMESPACE}/${name}`;
}

/**
 * The same bad document among valid ones: in a multi-document file at position p, and as item p
 * of a `kind: List`. Other documents are the baseline's (none with the bad one's kind/name).
 */
function multiDocument(b: Builder, from: readonly CorpusCase[]): void {
  const context = BASELINE_DOCS();
  let n = 0;
  for (const c of from) {
    if (c.files.length !== 1 || c.expect.verdict !== 'reject') continue;
    const badText = c.files[0]!.text;
    const badDocs = SOURCE_DOCS.filter((d) => d.file === c.expect.file);
    if (badDocs.length !== 1) continue; // keep it to single-document sources
    const srcDoc = badDocs[0]!;
    const key = objectKey(srcDoc.object);
    const others = context.filter((d) => objectKey(d.object) !== key);
    const count = 2 + (n % 4);
    const picked = Array.from({ length: count }, (_, i) => others[(n * 3 + i) % others.length]!);
    const position = n % (count + 1);
    n++;
    const bundleName = `corpus/bundle-${n}.yaml`;
    const id = `multi-document:${bundleName}:document ${position + 1} of ${count + 1}:${c.id}`;
    if (c.class === 'yaml-syntax') {
      // The mutated text among the others; its line moves down by the lines before it.
      const lead = badText.startsWith('---\n') ? 1 : 0;
      const body = badText.slice(lead * 4);
      const prefix = position === 0 ? '' : `${joinDocs(picked.slice(0, position).map((d) => d.text))}---\n`;
      const after = picked.slice(position).map((d) => d.text);
      const text = after.length === 0 ? `${prefix}${body}` : `${prefix}${body}${body.endsWith('\n') ? '' : '\n'}---\n${joinDocs(after)}`;
      const shift = prefix.split('\n').length - 1 - lead;
      b.add({ id, class: 'multi-document', files: [{ name: bundleName, text }], expect: { ...c.expect, file: bundleName, document: position, line: c.expect.line! + shift } });
      continue;
    }
    const bad = c.parsed![0]![0] as Obj;
    const objects = [...picked.slice(0, position).map((d) => d.object), bad, ...picked.slice(position).map((d) => d.object)];
    b.add({
      id,
      class: 'multi-document',
      files: [{ name: bundleName, text: joinDocs(objects.map(toYaml)) }],
      expect: { ...c.expect, file: bundleName, document: position },
      parsed: [objects],
    });
    const list: Obj = { apiVersion: 'v1', kind: 'List', items: objects };
    const listName = `corpus/list-${n}.yaml`;
    b.add({
      id: `multi-document:${listName}:item ${position + 1} of ${count + 1}:${c.id}`,
      class: 'multi-document',
      files: [{ name: listName, text: toYaml(list) }],
      expect: { ...c.expect, file: listName, document: 0, item: position },
      parsed: [[list]],
    });
  }
}

/** `file: document N[, item M] (Kind name)`: how every message about the object starts. */
export function expectedPrefix(e: Expectation, file = e.file): string {
  let s = `${file}: document ${e.document + 1}`;
  if (e.item !== undefined) s += `, item ${e.item + 1}`;
  if (e.kind || e.name) s += ` (${[e.kind, e.name].filter(Boolean).join(' ')})`;
  return s;
}

/**
 * The start of the message a rejected case must produce, for `file` as named on the command line:
 * `file: document N (Kind name): path: ` (a whole removed object: `...: path` and below it; a YAML
 * error without a field: `file: document N`).
 */
export function expectedMessageStart(e: Expectation, file = e.file): string {
  if (e.syntax && !e.path) return `${file}: document ${e.document + 1}`;
  return `${expectedPrefix(e, file)}: ${e.relation === 'self-or-descendant' ? e.path : `${e.path}: `}`;
}

/** Every `step`-th case of `cases` (deterministic sample). */
export function every<T>(cases: readonly T[], step: number, offset = 0): T[] {
  return cases.filter((_, i) => i % step === offset % step);
}

let memo: CorpusCase[] | undefined;

/** The whole corpus (built once). */
export function corpus(): CorpusCase[] {
  if (memo) return memo;
  const b = builder();
  for (const src of SOURCE_DOCS) {
    wrongTypes(b, src);
    unknownFields(b, src);
    missingFields(b, src);
    duplicates(b, src);
    danglingReferences(b, src);
    regexes(b, src);
    weights(b, src);
    portRanges(b, src);
    unknownKinds(b, src);
  }
  for (const f of SOURCE_FILES) yamlSyntax(b, f);
  // A sample of every single-document class, moved among valid documents.
  const byClass = (cls: CaseClass) => b.cases.filter((c) => c.class === cls);
  const sample: CorpusCase[] = [];
  for (const cls of ['wrong-type', 'unknown-field', 'missing-field', 'regex', 'weights', 'port-range', 'unknown-kind', 'dangling-reference', 'yaml-syntax'] as CaseClass[]) {
    const rejects = byClass(cls).filter((c) => c.expect.verdict === 'reject' && c.files.length === 1);
    sample.push(...every(rejects, Math.max(1, Math.floor(rejects.length / 25))));
  }
  multiDocument(b, sample);
  memo = b.cases;
  return memo;
}

/** Counts by class and verdict, for the test's summary. */
export function summary(cases: readonly CorpusCase[]): Record<string, Record<Verdict, number>> {
  const out: Record<string, Record<Verdict, number>> = {};
  for (const c of cases) {
    const row = (out[c.class] ??= { reject: 0, accept: 0, warn: 0 });
    row[c.expect.verdict]++;
  }
  return out;
}
