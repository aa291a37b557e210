/**
 * Conformance with Istio's CRDs (../shared/data/crds/istio-networking.yaml, laid beside the repo by
 * CI; never read at runtime). For a corpus of good and bad manifests, our verdict must equal the
 * verdict of the CRD's OpenAPI schema under strict field validation. Entries tagged `beyond` break a
 * rule the structural schema cannot express: a CEL rule of the CRD (`cel`) or a check of Istio's
 * validating webhook (`webhook`); for those the schema says valid and we must say invalid.
 * A second test compares field trees: every field the CRDs declare, we know, with the same type,
 * enum and required-ness, and we know no field they do not declare.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseManifests } from '../../../src/config/manifest.js';
import type { Schema } from '../../../src/config/schema.js';
import { ISTIO_SPECS } from '../../../src/config/schemas/istio.js';
import { validateObject } from '../../../src/config/validate.js';
import { CORPUS } from './corpus.js';
import { pruneNulls, validateStructural, type OpenApiSchema } from './openapi-structural.js';

const CRD_URL = new URL('../../../../shared/data/crds/istio-networking.yaml', import.meta.url);
const CRD_PATH = fileURLToPath(CRD_URL);
const haveCrds = existsSync(CRD_PATH);

interface Crd {
  spec: { names: { kind: string }; versions: Array<{ name: string; schema: { openAPIV3Schema: OpenApiSchema } }> };
}

function loadSchemas(): Map<string, OpenApiSchema> {
  const out = new Map<string, OpenApiSchema>();
  for (const d of parseAllDocuments(readFileSync(CRD_PATH, 'utf8'))) {
    const crd = d.toJS() as Crd | null;
    if (!crd) continue;
    for (const v of crd.spec.versions) out.set(`${crd.spec.names.kind}/${v.name}`, v.schema.openAPIV3Schema);
  }
  return out;
}

/** The object as the API server validates it: apiVersion, kind and metadata are checked elsewhere. */
function rootSchema(s: OpenApiSchema): OpenApiSchema {
  return {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      ...s.properties,
    },
    ...(s.required ? { required: s.required } : {}),
  };
}

describe.skipIf(!haveCrds)(`CRD conformance (${haveCrds ? CRD_PATH : `skipped: ${CRD_PATH} is absent; CI lays shared/ beside the repo as ../shared`})`, () => {
  const schemas = haveCrds ? loadSchemas() : new Map<string, OpenApiSchema>();

  function structuralErrors(text: string): string[] {
    const parsed = parseManifests(text, 'corpus.yaml');
    expect(parsed.errors).toEqual([]);
    return parsed.documents.flatMap(({ object }) => {
      const version = object.apiVersion.split('/')[1];
      const schema = schemas.get(`${object.kind}/${version}`);
      if (!schema) return object.apiVersion.startsWith('networking.istio.io/') ? [`no CRD schema for ${object.kind}/${version}`] : [];
      const root = rootSchema(schema);
      return validateStructural(root, pruneNulls(root, object));
    });
  }

  function ourErrors(text: string): string[] {
    return parseManifests(text, 'corpus.yaml').documents.flatMap((d) => validateObject(d.object, d.source, { defaultNamespace: 'istioinaction' }).errors.map(String));
  }

  test.each(CORPUS)('%s', (_name, text, valid, beyond) => {
    const crd = structuralErrors(text);
    const ours = ourErrors(text);
    if (beyond) {
      // A CEL or webhook rule: the structural schema accepts it, we must not.
      expect(crd, 'the structural schema should accept this (else drop the tag)').toEqual([]);
      expect(ours.length, `we should reject this (${beyond} rule)`).toBeGreaterThan(0);
      expect(valid).toBe(false);
      return;
    }
    expect(crd.length === 0, `CRD verdict: ${crd.join('; ') || 'valid'}`).toBe(valid);
    expect(ours.length === 0, `our verdict: ${ours.join('; ') || 'valid'}`).toBe(valid);
  });

  test('the corpus covers every Istio kind, valid and invalid, structural and beyond', () => {
    for (const kind of ['VirtualService', 'DestinationRule', 'Gateway', 'ServiceEntry', 'Sidecar']) {
      const of = CORPUS.filter(([, text]) => text.includes(`kind: ${kind}\n`));
      expect(of.some(([, , valid]) => valid), `${kind} valid`).toBe(true);
      expect(of.some(([, , valid, beyond]) => !valid && !beyond), `${kind} structurally invalid`).toBe(true);
      expect(of.some(([, , , beyond]) => beyond), `${kind} beyond the schema`).toBe(true);
    }
  });

  test('the three served versions carry the same schema (so one field tree serves all)', () => {
    for (const kind of Object.keys(ISTIO_SPECS)) {
      const v1 = JSON.stringify(schemas.get(`${kind}/v1`)?.properties?.['spec']);
      expect(v1).toBeDefined();
      expect(JSON.stringify(schemas.get(`${kind}/v1beta1`)?.properties?.['spec'])).toBe(v1);
      expect(JSON.stringify(schemas.get(`${kind}/v1alpha3`)?.properties?.['spec'])).toBe(v1);
    }
  });

  /**
   * Fields we require although the CRD does not (Istio's webhook does): `path` -> why. Anything
   * else must match the CRD's `required` exactly.
   */
  const EXTRA_REQUIRED: Record<string, string> = {
    'VirtualService spec.tcp[]': 'route (webhook: TCP route is required)',
    'VirtualService spec.tls[]': 'route (webhook: TLS route is required)',
  };

  test.each(Object.keys(ISTIO_SPECS))('%s: same fields, types, enums and required fields as the CRD', (kind) => {
    const crd = schemas.get(`${kind}/v1`)!.properties!['spec']!;
    const problems: string[] = [];
    compareTrees(kind, crd, ISTIO_SPECS[kind]!, 'spec', problems, EXTRA_REQUIRED);
    expect(problems).toEqual([]);
  });
});

function compareTrees(kind: string, crd: OpenApiSchema, ours: Schema, path: string, problems: string[], extraRequired: Record<string, string>): void {
  const say = (m: string): void => {
    problems.push(`${path}: ${m}`);
  };
  if (crd['x-kubernetes-int-or-string']) {
    if (ours.type !== 'int-or-string') say(`CRD int-or-string, ours ${ours.type}`);
    return;
  }
  if (crd.type === 'object' && isMapSchema(crd)) {
    if (ours.type !== 'map') return say(`CRD map, ours ${ours.type}`);
    return compareTrees(kind, crd.additionalProperties as OpenApiSchema, ours.values, `${path}[*]`, problems, extraRequired);
  }
  if (crd.type === 'object') {
    if (ours.type !== 'object') return say(`CRD object, ours ${ours.type}`);
    const crdKeys = Object.keys(crd.properties ?? {}).sort();
    const ourKeys = Object.keys(ours.properties).sort();
    for (const k of crdKeys) if (!ourKeys.includes(k)) say(`missing field ${k}`);
    for (const k of ourKeys) if (!crdKeys.includes(k)) say(`extra field ${k}`);
    const crdReq = [...(crd.required ?? [])].sort();
    const ourReq = [...(ours.required ?? [])].sort();
    const extra = ourReq.filter((r) => !crdReq.includes(r));
    for (const r of crdReq) if (!ourReq.includes(r)) say(`field ${r} is required by the CRD, not by us`);
    if (extra.length > 0 && !extraRequired[`${kind} ${path}`]) say(`we require ${extra.join(', ')}, the CRD does not`);
    for (const k of crdKeys) {
      if (ours.properties[k]) compareTrees(kind, crd.properties![k]!, ours.properties[k]!, `${path}.${k}`, problems, extraRequired);
    }
    return;
  }
  if (crd.type === 'array') {
    if (ours.type !== 'array') return say(`CRD array, ours ${ours.type}`);
    return compareTrees(kind, crd.items!, ours.items, `${path}[]`, problems, extraRequired);
  }
  if (crd.type !== ours.type) return say(`CRD ${crd.type}, ours ${ours.type}`);
  if (ours.type === 'string') {
    const crdEnum = crd.enum ? [...(crd.enum as string[])].sort() : undefined;
    const ourEnum = ours.enum ? [...ours.enum].sort() : undefined;
    if (JSON.stringify(crdEnum) !== JSON.stringify(ourEnum)) say(`enum: CRD ${JSON.stringify(crdEnum)}, ours ${JSON.stringify(ourEnum)}`);
  }
}

function isMapSchema(s: OpenApiSchema): boolean {
  return typeof s.additionalProperties === 'object' && s.properties === undefined;
}
