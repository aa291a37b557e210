/**
 * Validation of one object before it goes to the store, as the API server (strict field
 * validation, CRD schemas) plus Istio's validating webhook would do it: unknown fields, required
 * fields, types, enums, and each kind's semantic rules. Returns a normalized copy (namespace
 * filled in, nulls pruned, status dropped) with every error and warning, never throws.
 */
import type { KubeObject, SourceRef } from '../model/objects.js';
import { ConfigError, ConfigWarning, type ProblemLocation } from './errors.js';
import { KINDS, resolveKind, type KindInfo } from './kinds.js';
import { locateField, type ManifestSource } from './manifest.js';
import { checkObjectName, type NameRule } from './rules.js';
import { any, checkValue, isPlainObject, obj, pruneNulls, Reporter, str, typeName, type ObjectSchema, type Schema } from './schema.js';
import { configMapBody, deploymentSpec, NAME_RULES, namespaceBody, objectMeta, serviceAccountBody, serviceSpec } from './schemas/core.js';
import { canarySpec, metricTemplateSpec } from './schemas/flagger.js';
import { ISTIO_SPECS } from './schemas/istio.js';

export interface ValidateOptions {
  /** Namespace for namespaced objects that do not name one (`lab apply -n`, default `default`). */
  defaultNamespace: string;
  /**
   * kubectl's rule when `-n` was given explicitly: an object naming another namespace is an error
   * ("the namespace from the provided object does not match"). Off by default.
   */
  enforceNamespace?: boolean;
}

export interface ValidationResult {
  /** Normalized copy: `metadata.namespace` filled in (removed for cluster-scoped kinds), nulls pruned, `status` dropped. */
  object: KubeObject;
  errors: ConfigError[];
  warnings: ConfigWarning[];
  /** The resolved kind, when apiVersion/kind are served. */
  kindInfo?: KindInfo;
}

interface KindSchema {
  /** Top-level fields besides apiVersion, kind, metadata, status. */
  body: Record<string, Schema>;
  /** Validate `spec` even when absent (as `{}`), so its required fields are reported. */
  specRequired: boolean;
  nameRule: NameRule;
}

const SPEC_KINDS: Record<string, ObjectSchema> = {
  ...ISTIO_SPECS,
  Deployment: deploymentSpec,
  Service: serviceSpec,
  Canary: canarySpec,
  MetricTemplate: metricTemplateSpec,
};

function kindSchema(kind: string): KindSchema {
  const spec = SPEC_KINDS[kind];
  const nameRule = NAME_RULES[kind] ?? 'dns1123-subdomain';
  if (spec) return { body: { spec }, specRequired: true, nameRule };
  switch (kind) {
    case 'Namespace':
      return { body: namespaceBody, specRequired: false, nameRule };
    case 'ServiceAccount':
      return { body: serviceAccountBody, specRequired: false, nameRule };
    case 'ConfigMap':
      return { body: configMapBody, specRequired: false, nameRule };
    default:
      return { body: { spec: any() }, specRequired: false, nameRule };
  }
}

/** Validate and normalize one object. `source` may be a `ManifestSource` (with `item` for List items). */
export function validateObject(input: KubeObject, source: SourceRef, opts: ValidateOptions): ValidationResult {
  const src = source as ManifestSource;
  const raw: unknown = input;
  const kind = isPlainObject(raw) && typeof raw['kind'] === 'string' ? raw['kind'] : '';
  const meta = isPlainObject(raw) && isPlainObject(raw['metadata']) ? raw['metadata'] : {};
  const name = typeof meta['name'] === 'string' ? meta['name'] : '';
  const errors: ConfigError[] = [];
  const warnings: ConfigWarning[] = [];
  const loc = (path: string): ProblemLocation => {
    const l: ProblemLocation = { file: src.file, index: src.index, kind, name, path };
    if (src.item !== undefined) l.item = src.item;
    const pos = locateField(input, path);
    if (pos) {
      l.line = pos.line;
      l.column = pos.column;
    }
    return l;
  };

  if (!isPlainObject(raw)) {
    errors.push(new ConfigError(loc(''), 'object must be a mapping'));
    return { object: input, errors, warnings };
  }
  const object = pruneNulls(input);

  // apiVersion and kind choose the schema: problems with them are reported at them, and stop here.
  for (const f of ['apiVersion', 'kind'] as const) {
    const v = raw[f];
    if (v === undefined || v === null || v === '') errors.push(new ConfigError(loc(f), 'required field is missing', 'LAB_ERR_UNKNOWN_KIND'));
    else if (typeof v !== 'string') errors.push(new ConfigError(loc(f), `expected string, got ${typeName(v)}${typeof v === 'number' || typeof v === 'boolean' ? ` ${v}` : ''}`, 'LAB_ERR_UNKNOWN_KIND'));
  }
  if (errors.length > 0) return { object, errors, warnings };
  const resolved = resolveKind(raw['apiVersion'], raw['kind']);
  if (!resolved.ok) {
    // A kind the lab serves in other versions: the apiVersion is wrong; else the kind is unknown.
    const field = KINDS.some((k) => k.kind === raw['kind']) ? 'apiVersion' : 'kind';
    errors.push(new ConfigError(loc(field), resolved.message, 'LAB_ERR_UNKNOWN_KIND'));
    return { object, errors, warnings };
  }
  const info = resolved.info;
  if (info.readOnly) {
    errors.push(new ConfigError(loc('kind'), info.readOnlyReason ?? `${info.kind} objects cannot be applied`));
    return { object, errors, warnings, kindInfo: info };
  }

  const ks = kindSchema(info.kind);
  const top = obj(
    { apiVersion: str(), kind: str(), metadata: objectMeta, status: any(), ...ks.body },
    { required: ['metadata'] },
  );
  const r = new Reporter();
  checkValue(top, object, '', r);
  if (ks.specRequired && object.spec === undefined) checkValue(ks.body['spec']!, {}, 'spec', r);

  // metadata.name and namespace.
  const m = isPlainObject(object.metadata) ? object.metadata : undefined;
  if (m) {
    if (typeof m.name !== 'string' || m.name === '') {
      if (!r.hasErrorAt('metadata.name')) r.error('metadata.name', 'required field is missing');
    } else {
      checkObjectName(m.name, ks.nameRule, 'metadata.name', r);
    }
  }
  if (m && info.namespaced) {
    const ns = typeof m.namespace === 'string' && m.namespace !== '' ? m.namespace : undefined;
    if (ns !== undefined && opts.enforceNamespace && ns !== opts.defaultNamespace) {
      r.error(
        'metadata.namespace',
        `the namespace from the provided object ${JSON.stringify(ns)} does not match the namespace ${JSON.stringify(opts.defaultNamespace)}. You must pass '--namespace=${ns}' to perform this operation.`,
      );
    }
    m.namespace = ns ?? opts.defaultNamespace;
  } else if (m && !info.namespaced) {
    delete m.namespace;
  }
  // Status is the controllers' (the API server ignores it on apply for kinds with a status subresource).
  delete object.status;

  for (const issue of r.issues) {
    if (issue.severity === 'error') errors.push(new ConfigError(loc(issue.path), issue.message));
    else warnings.push(new ConfigWarning(loc(issue.path), issue.message, issue.code));
  }
  return { object, errors, warnings, kindInfo: info };
}

export interface ValidatedDocuments {
  objects: Array<{ object: KubeObject; source: SourceRef }>;
  errors: ConfigError[];
  warnings: ConfigWarning[];
}

/**
 * Validate a batch (e.g. `parseManifests(...).documents`): the valid objects, and all problems,
 * including an object defined twice in the batch (`duplicateObjectErrors`).
 */
export function validateDocuments(
  documents: ReadonlyArray<{ object: KubeObject; source: SourceRef }>,
  opts: ValidateOptions,
): ValidatedDocuments {
  const out: ValidatedDocuments = { objects: [], errors: [], warnings: [] };
  for (const d of documents) {
    const res = validateObject(d.object, d.source, opts);
    out.errors.push(...res.errors);
    out.warnings.push(...res.warnings);
    if (res.errors.length === 0) out.objects.push({ object: res.object, source: d.source });
  }
  out.errors.push(...duplicateObjectErrors(documents, opts.defaultNamespace));
  return out;
}

/**
 * One apply may define each object (group, kind, namespace, name) once: a second definition, in
 * the same file, another file or a `kind: List`, whatever the apiVersion, is an error at its
 * `metadata.name` naming the first. (kubectl would apply both in turn and keep the last, so one
 * of them is silently lost; the lab applies all documents at once and refuses to guess.)
 * Documents whose kind or name cannot be read are left to `validateObject`.
 */
export function duplicateObjectErrors(documents: ReadonlyArray<{ object: KubeObject; source: SourceRef }>, defaultNamespace: string): ConfigError[] {
  const errors: ConfigError[] = [];
  const first = new Map<string, SourceRef>();
  for (const d of documents) {
    const raw: unknown = d.object;
    if (!isPlainObject(raw) || !isPlainObject(raw['metadata'])) continue;
    const resolved = resolveKind(raw['apiVersion'], raw['kind']);
    const name = raw['metadata']['name'];
    if (!resolved.ok || typeof name !== 'string' || name === '') continue;
    const info = resolved.info;
    const ns = raw['metadata']['namespace'];
    const namespace = info.namespaced ? (typeof ns === 'string' && ns !== '' ? ns : defaultNamespace) : '';
    const key = `${info.group}/${info.kind}/${namespace}/${name}`;
    const seen = first.get(key);
    if (!seen) {
      first.set(key, d.source);
      continue;
    }
    const src = d.source as ManifestSource;
    const at = seen as ManifestSource;
    const where = `${at.file}: document ${at.index + 1}${at.item !== undefined ? `, item ${at.item + 1}` : ''}`;
    const l: ProblemLocation = { file: src.file, index: src.index, kind: info.kind, name, path: 'metadata.name' };
    if (src.item !== undefined) l.item = src.item;
    const pos = locateField(d.object, 'metadata.name');
    if (pos) {
      l.line = pos.line;
      l.column = pos.column;
    }
    const what = `${info.kind} ${namespace ? `${namespace}/` : ''}${name}`;
    errors.push(new ConfigError(l, `duplicate object: ${what} is already defined in ${where} (an apply may define each object once)`));
  }
  return errors;
}
