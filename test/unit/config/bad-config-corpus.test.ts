/**
 * The generated bad-config corpus (bad-config-corpus.ts) against the lab's validation, the way
 * `lab apply` runs it (parse every file, then validate every document) and the way the control
 * plane admits it: every reject case is rejected with an error naming the file, the document (and
 * List item), the kind/name and the mutated field path; every control is accepted; every dangling
 * reference Istio accepts applies with istioctl analyze's IST0101 warning at the reference.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { analyze } from '../../../src/config/analyze.js';
import type { ConfigError, ConfigWarning } from '../../../src/config/errors.js';
import { parseManifests, type ManifestSource } from '../../../src/config/manifest.js';
import { validateDocuments, validateObject } from '../../../src/config/validate.js';
import { admit } from '../../../src/controlplane/admission.js';
import type { KubeObject, SourceRef } from '../../../src/model/objects.js';
import { LabError } from '../../../src/shared/errors.js';
import {
  BASELINE_FILES,
  corpus,
  every,
  expectedMessageStart,
  expectedPrefix,
  NAMESPACE,
  SOURCE_DOCS,
  summary,
  type CaseClass,
  type CorpusCase,
  type Expectation,
} from './bad-config-corpus.js';
import { pruneNulls, validateStructural, type OpenApiSchema } from './openapi-structural.js';

const CASES = corpus();
const CLASSES: CaseClass[] = [
  'wrong-type',
  'unknown-field',
  'missing-field',
  'duplicate',
  'dangling-reference',
  'regex',
  'weights',
  'port-range',
  'yaml-syntax',
  'unknown-kind',
  'multi-document',
];

/** The baseline's objects, normalized as the store holds them. */
const BASELINE: KubeObject[] = SOURCE_DOCS.filter((d) => BASELINE_FILES.includes(d.file)).map(
  (d) => validateObject(d.object as unknown as KubeObject, { file: d.file, index: d.index }, { defaultNamespace: NAMESPACE }).object,
);

interface Outcome {
  errors: ConfigError[];
  warnings: ConfigWarning[];
  objects: KubeObject[];
  documents: Array<{ object: KubeObject; source: SourceRef }>;
  /** YAML errors stop `lab apply` before validation. */
  syntax: boolean;
}

/** What `lab apply -f f1 -f f2 ...` decides locally: parse every file, then validate every document. */
function run(c: CorpusCase): Outcome {
  const documents: Outcome['documents'] = [];
  const parseErrors: ConfigError[] = [];
  for (const f of c.files) {
    const p = parseManifests(f.text, f.name);
    documents.push(...p.documents);
    parseErrors.push(...p.errors);
  }
  if (parseErrors.length > 0) return { errors: parseErrors, warnings: [], objects: [], documents, syntax: true };
  const v = validateDocuments(documents, { defaultNamespace: NAMESPACE });
  return { errors: v.errors, warnings: v.warnings, objects: v.objects.map((o) => o.object), documents, syntax: false };
}

function relates(actual: string, e: Expectation): boolean {
  if (e.relation === 'exact' || e.relation === 'parent') return actual === e.path;
  return actual === e.path || actual.startsWith(`${e.path}.`) || actual.startsWith(`${e.path}[`);
}

const show = (problems: ReadonlyArray<{ toString(): string }>) => problems.map(String).join(' | ') || 'none';

/** Why the outcome does not meet the case's expectation (undefined: it does). */
function judge(c: CorpusCase, o: Outcome): string | undefined {
  const e = c.expect;
  if (e.verdict === 'accept') return o.errors.length === 0 ? undefined : `expected acceptance, got ${show(o.errors)}`;
  if (e.verdict === 'warn') {
    if (o.errors.length > 0) return `expected acceptance with ${e.code}, got ${show(o.errors)}`;
    const keys = new Set(o.objects.map((x) => `${x.kind}/${x.metadata.namespace}/${x.metadata.name}`));
    const state = [...BASELINE.filter((x) => !keys.has(`${x.kind}/${x.metadata.namespace}/${x.metadata.name}`)), ...o.objects];
    const warnings = analyze(state);
    const hit = warnings.find((w) => w.code === e.code && w.kind === e.kind && w.name === e.name && w.path === e.path);
    return hit ? undefined : `expected ${e.code} at ${e.path}, got ${show(warnings.filter((w) => w.kind === e.kind && w.name === e.name))}`;
  }
  if (o.errors.length === 0) return 'expected rejection, got none';
  const elsewhere = o.errors.filter((x) => x.file !== e.file || x.index !== e.document || x.item !== e.item);
  if (elsewhere.length > 0) return `errors outside ${expectedPrefix(e)}: ${show(elsewhere)}`;
  if (e.syntax) {
    if (!o.syntax) return `expected a YAML error, got ${show(o.errors)}`;
    const located = o.errors.filter((x) => x.line !== undefined && (e.line === undefined || x.line >= e.line));
    if (located.length === 0) return `expected a YAML error at or after line ${e.line}, got ${show(o.errors)}`;
    // Duplicate keys are located at the key: kind/name and the field path are known.
    if (e.path && !o.errors.some((x) => x.path === e.path && x.kind === e.kind && x.name === e.name)) {
      return `expected ${expectedPrefix(e)}: ${e.path}, got ${show(o.errors)}`;
    }
    return undefined;
  }
  const hit = o.errors.find((x) => x.kind === e.kind && x.name === e.name && relates(x.path, e));
  if (!hit) return `expected ${expectedPrefix(e)}: ${e.path} (${e.relation}), got ${show(o.errors)}`;
  if (!String(hit).startsWith(`${expectedPrefix(e)}: ${hit.path}`)) return `message does not name the object: ${String(hit)}`;
  if (hit.line === undefined) return `no line for ${String(hit)}`;
  return undefined;
}

/**
 * The generator's self-check: the manifests parse to the mutated objects (a mutation the YAML
 * writer could not express would test nothing). `kind: List` documents count as their items.
 */
function expressed(c: CorpusCase, o: Outcome): string | undefined {
  if (!c.parsed) return undefined;
  if (o.syntax) return `the manifests do not parse: ${show(o.errors)}`;
  const expected = c.parsed.flat().flatMap((d) => (isList(d) ? (d as { items: unknown[] }).items : [d]));
  const got = o.documents.map((d) => d.object);
  return JSON.stringify(got) === JSON.stringify(expected) ? undefined : `the manifests parse to ${JSON.stringify(got).slice(0, 400)}`;
}

function isList(d: unknown): boolean {
  return typeof d === 'object' && d !== null && (d as { kind?: unknown }).kind === 'List' && (d as { apiVersion?: unknown }).apiVersion === 'v1';
}

function failures(cases: readonly CorpusCase[], check: (c: CorpusCase) => string | undefined): string[] {
  const out: string[] = [];
  for (const c of cases) {
    const why = check(c);
    if (why) out.push(`${c.id}\n    ${why}`);
  }
  return out;
}

describe('the generated bad-config corpus', () => {
  test('has hundreds of cases in every class, generated (not listed) and deterministic', () => {
    const counts = summary(CASES);
    // Printed so a run shows the corpus' size by class.
    console.log(
      `bad-config corpus: ${CASES.length} cases\n${Object.entries(counts)
        .map(([k, v]) => `  ${k.padEnd(20)} reject ${String(v.reject).padStart(5)}  accept ${String(v.accept).padStart(4)}  warn ${String(v.warn).padStart(4)}`)
        .join('\n')}`,
    );
    for (const cls of CLASSES) expect(counts[cls]?.reject ?? 0, cls).toBeGreaterThanOrEqual(cls === 'dangling-reference' ? 10 : 20);
    expect(counts['dangling-reference']!.warn).toBeGreaterThanOrEqual(20);
    expect(CASES.length).toBeGreaterThan(1000);
    expect(new Set(CASES.map((c) => c.id)).size).toBe(CASES.length);
    expect(corpus()).toBe(CASES);
  });

  test.each(CLASSES)('%s: every case gets the verdict and location derived from its mutation', (cls) => {
    expect(failures(CASES.filter((c) => c.class === cls), (c) => {
      const o = run(c);
      return expressed(c, o) ?? judge(c, o);
    })).toEqual([]);
  }, 60_000);
});

/** Two definitions of one object in one apply (not a keyed list inside one object, not a YAML key). */
const isObjectDuplicate = (c: CorpusCase) => c.class === 'duplicate' && c.expect.path === 'metadata.name' && !c.expect.syntax;

/** What the control plane's admission decides for a case (it validates again: it is the authority). */
function admitted(c: CorpusCase): string | undefined {
  const o = run(c);
  let outcome: { warnings: string[] } | LabError;
  try {
    outcome = admit(o.documents, NAMESPACE, BASELINE);
  } catch (err) {
    if (!(err instanceof LabError)) return `admit threw ${String(err)}`;
    outcome = err;
  }
  const e = c.expect;
  if (e.verdict !== 'reject') return outcome instanceof LabError ? `admission rejected: ${outcome.message}` : undefined;
  if (!(outcome instanceof LabError)) return 'admission accepted it';
  const lines = outcome.details ?? [outcome.message];
  return lines.some((l) => l.startsWith(expectedMessageStart(e))) ? undefined : `admission said ${lines.join(' | ')}`;
}

describe('the control plane admits the corpus the same way (a third of each class)', () => {
  test.each(CLASSES.filter((c) => c !== 'yaml-syntax'))('%s', (cls) => {
    const cases = every(CASES.filter((c) => c.class === cls && !c.expect.syntax && !isObjectDuplicate(c)), 3);
    expect(failures(cases, admitted)).toEqual([]);
  }, 60_000);

  // `lab apply` rejects these (the CLI validates the batch with validateDocuments), and so does the
  // control plane's admit(), for clients that POST /apply directly.
  test('duplicate objects in one apply are refused by admission too', () => {
    expect(failures(CASES.filter(isObjectDuplicate).filter((c) => c.expect.verdict === 'reject'), admitted)).toEqual([]);
  });
});

const CRDS = fileURLToPath(new URL('../../../../shared/data/crds/', import.meta.url));
const haveCrds = existsSync(`${CRDS}istio-networking.yaml`) && existsSync(`${CRDS}flagger.yaml`);

describe.skipIf(!haveCrds)(`the CRDs' structural schemas agree on wrong types and unknown fields (${haveCrds ? CRDS : `skipped: ${CRDS} is absent`})`, () => {
  const schemas = new Map<string, OpenApiSchema>();
  if (haveCrds) {
    for (const file of ['istio-networking.yaml', 'flagger.yaml']) {
      for (const d of parseAllDocuments(readFileSync(`${CRDS}${file}`, 'utf8'))) {
        const crd = d.toJS() as { spec: { group: string; names: { kind: string }; versions: Array<{ name: string; schema: { openAPIV3Schema: OpenApiSchema } }> } } | null;
        if (!crd) continue;
        for (const v of crd.spec.versions) schemas.set(`${crd.spec.group}/${v.name} ${crd.spec.names.kind}`, v.schema.openAPIV3Schema);
      }
    }
  }

  test('every wrong type and unknown field below spec of an Istio or Flagger object fails the CRD too', () => {
    // Not `targetPort` as a numeric string: int-or-string in the CRD, and an invalid port name
    // (no letter) only for the Service Flagger would generate from it.
    const cases = CASES.filter(
      (c) => (c.class === 'wrong-type' || c.class === 'unknown-field') && c.expect.path.startsWith('spec') && !(c.expect.path.endsWith('.targetPort') && c.id.endsWith('number->string')),
    );
    let checked = 0;
    const problems = failures(cases, (c) => {
      const o = run(c);
      const d = o.documents[c.expect.document];
      if (!d) return undefined;
      const schema = schemas.get(`${String(d.object.apiVersion)} ${String(d.object.kind)}`);
      if (!schema?.properties?.['spec']) return undefined;
      checked++;
      const spec = schema.properties['spec'];
      const errors = validateStructural(spec, pruneNulls(spec, (d.object as unknown as Record<string, unknown>)['spec']), 'spec');
      return errors.length > 0 ? undefined : 'the CRD schema accepts it';
    });
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(300);
  }, 60_000);
});

describe('error locations', () => {
  test('a field error carries the line of the field in the file', () => {
    const c = CASES.find((x) => x.class === 'wrong-type' && x.expect.file === 'ch5/catalog-vs.yaml' && x.expect.path === 'spec.http[0].route[0].destination.host')!;
    const hit = run(c).errors.find((e) => e.path === 'spec.http[0].route[0].destination.host')!;
    const line = c.files[0]!.text.split('\n')[hit.line! - 1]!;
    expect(line).toMatch(/^\s*host:/);
    expect((hit as ConfigError & ManifestSource).file).toBe('ch5/catalog-vs.yaml');
  });
});

describe('parsing gaps the corpus found (regressions)', () => {
  const cm = (data: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata:\n${data}`;

  test('an alias to an undefined anchor, and an alias bomb, are errors at the alias (not exceptions)', () => {
    expect(parseManifests(cm('  a: *nowhere\n'), 'a.yaml').errors.map(String)).toEqual([
      'a.yaml: document 1 (ConfigMap cfg): data.a: YAML error at line 5:6: Unresolved alias (the anchor must be set before the alias): nowhere',
    ]);
    let bomb = '  l0: &l0 [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 9; i++) bomb += `  l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(', ')}]\n`;
    const [e] = parseManifests(cm(bomb), 'b.yaml').errors;
    expect(String(e)).toMatch(/^b\.yaml: document 1 \(ConfigMap cfg\): data\.l\d\[0\]: YAML error at line \d+:\d+: Excessive alias count/);
  });

  test('a date-like scalar stays a string; a collection as a key is an error', () => {
    const [d] = parseManifests(cm('  day: 2001-12-14\n'), 'd.yaml').documents;
    expect(d!.object['data']).toEqual({ day: '2001-12-14' });
    expect(parseManifests(cm('  [a, b]: c\n'), 'k.yaml').errors.map(String)).toEqual([
      'k.yaml: document 1 (ConfigMap cfg): data: YAML error at line 5:3: a mapping key must be a scalar (a string), not a sequence or mapping',
    ]);
  });

  test('keys repeated as JSON sees them are duplicates, in a mapping of any size; merge keys may repeat', () => {
    const many = Array.from({ length: 20_000 }, (_, i) => `  k${i}: v\n`).join('');
    expect(parseManifests(cm(`${many}  "1": x\n  1: y\n  k7: again\n`), 'm.yaml').errors.map((e) => `${e.path} ${e.line}`)).toEqual(['data[1] 20006', 'data.k7 20007']);
    expect(parseManifests(cm('  <<: {a: b}\n  <<: {c: d}\n'), 'ok.yaml').errors).toEqual([]);
  });

  test('a `__proto__` key is data: kept as a ConfigMap key, never the object\'s prototype', () => {
    const [d] = parseManifests(cm('  __proto__: x\n'), 'p.yaml').documents;
    const r = validateObject(d!.object, d!.source, { defaultNamespace: NAMESPACE });
    expect(r.errors).toEqual([]);
    expect(Object.getPrototypeOf(r.object['data'])).toBe(Object.prototype);
    expect(Object.keys(r.object['data'] as object)).toEqual(['__proto__']);
  });
});
