/**
 * A small OpenAPI v3 structural-schema checker, as the Kubernetes API server applies a CRD's
 * `openAPIV3Schema` with strict field validation: null fields of non-nullable schemas are pruned
 * first; unknown fields (not in `properties`, no `additionalProperties`, no
 * `x-kubernetes-preserve-unknown-fields`) are errors; then type, enum, bounds, lengths, `required`,
 * `oneOf`/`anyOf`/`allOf`/`not`, `x-kubernetes-int-or-string` and `x-kubernetes-list-type: map`
 * keys. CEL rules (`x-kubernetes-validations`) are NOT evaluated. Test-only: the runtime never
 * reads the CRDs.
 */

export interface OpenApiSchema {
  type?: string;
  properties?: Record<string, OpenApiSchema>;
  additionalProperties?: OpenApiSchema | boolean;
  items?: OpenApiSchema;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  nullable?: boolean;
  oneOf?: OpenApiSchema[];
  anyOf?: OpenApiSchema[];
  allOf?: OpenApiSchema[];
  not?: OpenApiSchema;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: unknown[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Remove null values of non-nullable fields (and map entries), as the API server does. */
export function pruneNulls(schema: OpenApiSchema, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (schema.items ? pruneNulls(schema.items, v) : v));
  if (!isObj(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const sub = (schema.properties && Object.hasOwn(schema.properties, k) ? schema.properties[k] : undefined) ?? (isObj(schema.additionalProperties) ? schema.additionalProperties : undefined);
    if (v === null && !(sub?.nullable ?? false)) continue;
    // A `__proto__` key is data (an unknown field to report), never the copy's prototype.
    Object.defineProperty(out, k, { value: sub ? pruneNulls(sub, v) : v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Errors (`path: message`) for `value` against `schema`. */
export function validateStructural(schema: OpenApiSchema, value: unknown, path = ''): string[] {
  const errors: string[] = [];
  walk(schema, value, path, errors);
  return errors;
}

function walk(s: OpenApiSchema, v: unknown, path: string, errors: string[]): void {
  const err = (m: string) => errors.push(`${path || '<root>'}: ${m}`);
  if (v === null) {
    if (!s.nullable) err('must not be null');
    return;
  }
  if (s['x-kubernetes-int-or-string']) {
    if (!(typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)))) err('must be integer or string');
  } else if (s.type) {
    const ok =
      s.type === 'object'
        ? isObj(v)
        : s.type === 'array'
          ? Array.isArray(v)
          : s.type === 'string'
            ? typeof v === 'string'
            : s.type === 'integer'
              ? typeof v === 'number' && Number.isInteger(v)
              : s.type === 'number'
                ? typeof v === 'number'
                : s.type === 'boolean'
                  ? typeof v === 'boolean'
                  : true;
    if (!ok) {
      err(`must be of type ${s.type}`);
      return;
    }
  }
  if (s.enum && !s.enum.includes(v)) err(`must be one of ${JSON.stringify(s.enum)}`);
  if (typeof v === 'number') {
    if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)) err(`must be >= ${s.minimum}`);
    if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)) err(`must be <= ${s.maximum}`);
  }
  if (typeof v === 'string') {
    const len = [...v].length;
    if (s.minLength !== undefined && len < s.minLength) err(`must be at least ${s.minLength} long`);
    if (s.maxLength !== undefined && len > s.maxLength) err(`must be at most ${s.maxLength} long`);
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(v)) err(`must match ${s.pattern}`);
    if (s.format === 'byte' && !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) err('must be base64');
  }
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems) err(`must have at least ${s.minItems} items`);
    if (s.maxItems !== undefined && v.length > s.maxItems) err(`must have at most ${s.maxItems} items`);
    if (s.items) v.forEach((item, i) => walk(s.items!, item, `${path}[${i}]`, errors));
    if (s['x-kubernetes-list-type'] === 'map' && s['x-kubernetes-list-map-keys']) {
      const keys = s['x-kubernetes-list-map-keys'];
      const seen = new Set<string>();
      v.forEach((item, i) => {
        if (!isObj(item)) return;
        const k = JSON.stringify(keys.map((key) => item[key]));
        if (seen.has(k)) errors.push(`${path}[${i}]: duplicate entry for key ${k}`);
        seen.add(k);
      });
    }
  }
  if (isObj(v)) {
    for (const [k, sub] of Object.entries(v)) {
      const p = path ? `${path}.${k}` : k;
      if (s.properties && Object.hasOwn(s.properties, k)) walk(s.properties[k]!, sub, p, errors);
      else if (isObj(s.additionalProperties)) walk(s.additionalProperties, sub, `${path}[${k}]`, errors);
      else if (s.additionalProperties === true || s['x-kubernetes-preserve-unknown-fields']) continue;
      else if (s.type === 'object' || s.properties) errors.push(`${p}: unknown field`);
    }
    for (const r of s.required ?? []) if (!(r in v)) errors.push(`${path ? `${path}.` : ''}${r}: required`);
  }
  // Combinators: value constraints only (the branches of Istio's CRDs hold `required` lists).
  const passes = (sub: OpenApiSchema) => validateCombinator(sub, v, path).length === 0;
  if (s.oneOf) {
    const n = s.oneOf.filter(passes).length;
    if (n !== 1) err(`must match exactly one schema in oneOf (matched ${n})`);
  }
  if (s.anyOf && !s.anyOf.some(passes)) err('must match a schema in anyOf');
  if (s.allOf) for (const sub of s.allOf) if (!passes(sub)) err('must match every schema in allOf');
  if (s.not && passes(s.not)) err('must not match the schema in not');
}

/** A combinator branch constrains the value; it does not make the value's other fields unknown. */
function validateCombinator(s: OpenApiSchema, v: unknown, path: string): string[] {
  const errors: string[] = [];
  walk({ ...s, 'x-kubernetes-preserve-unknown-fields': true }, v, path, errors);
  return errors;
}
