/**
 * The part of JSON Schema (2020-12) the scenario schema uses, so the shipped schema file is the one
 * the CLI checks against (editors can use the same file) without a validator dependency: type,
 * properties, required, additionalProperties, min/maxProperties, enum, items, minItems, minLength,
 * pattern, minimum, maximum, exclusiveMinimum/Maximum and local `$ref`s (`#/$defs/...`).
 * Anything else in a schema is an error here, so the file cannot silently outgrow this checker.
 */
import { fieldPath, indexPath, isPlainObject, typeName } from '../config/schema.js';

export type JsonSchema = Record<string, unknown>;

export interface SchemaProblem {
  /** kubectl-style path: `cases[2].expect.split`; '' for the top. */
  path: string;
  message: string;
}

const KNOWN = new Set([
  '$schema', '$id', '$ref', '$defs', 'title', 'description', 'type', 'properties', 'required', 'additionalProperties',
  'minProperties', 'maxProperties', 'enum', 'items', 'minItems', 'minLength', 'pattern', 'minimum', 'maximum',
  'exclusiveMinimum', 'exclusiveMaximum',
]);

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case 'object':
      return isPlainObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
    default:
      throw new Error(`json-schema: unsupported type ${type}`);
  }
}

export function validateJsonSchema(root: JsonSchema, value: unknown): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const resolve = (s: JsonSchema): JsonSchema => {
    const ref = s['$ref'];
    if (typeof ref !== 'string') return s;
    const m = /^#\/\$defs\/(.+)$/.exec(ref);
    const target = m ? (root['$defs'] as Record<string, JsonSchema> | undefined)?.[m[1]!] : undefined;
    if (!target) throw new Error(`json-schema: unresolved $ref ${ref}`);
    return resolve(target);
  };
  const check = (schema: JsonSchema, v: unknown, path: string): void => {
    const s = resolve(schema);
    for (const k of Object.keys(s)) if (!KNOWN.has(k)) throw new Error(`json-schema: unsupported keyword ${k}`);
    const at = (message: string) => problems.push({ path, message });
    if (Array.isArray(s['enum'])) {
      if (!s['enum'].includes(v)) at(`must be one of ${s['enum'].map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(v)}`);
      return;
    }
    const type = s['type'];
    if (typeof type === 'string' && !typeOk(type, v)) {
      at(`expected ${type}, got ${typeName(v)}`);
      return;
    }
    if (typeof v === 'string') {
      if (typeof s['minLength'] === 'number' && v.length < s['minLength']) at(v === '' ? 'must not be empty' : `must be at least ${s['minLength']} characters`);
      if (typeof s['pattern'] === 'string' && !new RegExp(s['pattern'], 'u').test(v)) at(`${JSON.stringify(v)} does not match ${s['pattern']}`);
    }
    if (typeof v === 'number') {
      if (typeof s['minimum'] === 'number' && v < s['minimum']) at(`must be >= ${s['minimum']}, got ${v}`);
      if (typeof s['maximum'] === 'number' && v > s['maximum']) at(`must be <= ${s['maximum']}, got ${v}`);
      if (typeof s['exclusiveMinimum'] === 'number' && v <= s['exclusiveMinimum']) at(`must be > ${s['exclusiveMinimum']}, got ${v}`);
      if (typeof s['exclusiveMaximum'] === 'number' && v >= s['exclusiveMaximum']) at(`must be < ${s['exclusiveMaximum']}, got ${v}`);
    }
    if (Array.isArray(v)) {
      if (typeof s['minItems'] === 'number' && v.length < s['minItems']) at(`must have at least ${s['minItems']} item${s['minItems'] === 1 ? '' : 's'}`);
      if (isPlainObject(s['items'])) v.forEach((item, i) => check(s['items'] as JsonSchema, item, indexPath(path, i)));
    }
    if (isPlainObject(v)) {
      const props = (isPlainObject(s['properties']) ? s['properties'] : {}) as Record<string, JsonSchema>;
      for (const r of (s['required'] as string[] | undefined) ?? []) if (v[r] === undefined) problems.push({ path: fieldPath(path, r), message: 'required field is missing' });
      const n = Object.keys(v).length;
      if (typeof s['minProperties'] === 'number' && n < s['minProperties']) at(`must have at least ${s['minProperties']} field${s['minProperties'] === 1 ? '' : 's'}`);
      if (typeof s['maxProperties'] === 'number' && n > s['maxProperties']) at(`must have at most ${s['maxProperties']} fields`);
      for (const [k, item] of Object.entries(v)) {
        const p = fieldPath(path, k);
        if (props[k]) check(props[k], item, p);
        else if (s['additionalProperties'] === false) problems.push({ path: p, message: `unknown field (known: ${Object.keys(props).join(', ')})` });
        else if (isPlainObject(s['additionalProperties'])) check(s['additionalProperties'] as JsonSchema, item, p);
      }
    }
  };
  check(root, value, '');
  return problems;
}
