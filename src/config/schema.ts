/**
 * A small structural schema language, modelled on the OpenAPI v3 subset Kubernetes uses for CRDs
 * (object properties, required, enum, integer bounds, maps, arrays, int-or-string), and a checker
 * that, unlike `@kubernetes-models`, reports unknown fields the way kubectl's strict field
 * validation does. Semantic rules (Istio's webhook validation, CEL rules) hang off `check` hooks.
 *
 * Null values count as absent, as the API server prunes nulls of non-nullable fields before
 * validating: `port:` with nothing under it is a missing `port`.
 */
import { suggest } from './suggest.js';

export interface Issue {
  path: string;
  message: string;
  /** Errors make the object invalid; warnings are reported but the object is accepted. */
  severity: 'error' | 'warning';
  code?: string;
}

export class Reporter {
  readonly issues: Issue[] = [];
  error(path: string, message: string): void {
    this.issues.push({ path, message, severity: 'error' });
  }
  warn(path: string, message: string, code?: string): void {
    this.issues.push(code === undefined ? { path, message, severity: 'warning' } : { path, message, severity: 'warning', code });
  }
  hasErrorAt(prefix: string): boolean {
    return this.issues.some((i) => i.severity === 'error' && (i.path === prefix || i.path.startsWith(`${prefix}.`) || i.path.startsWith(`${prefix}[`)));
  }
}

type Check<T> = (value: T, path: string, r: Reporter) => void;

export type Schema =
  | StringSchema
  | IntegerSchema
  | NumberSchema
  | BooleanSchema
  | ObjectSchema
  | MapSchema
  | ArraySchema
  | IntOrStringSchema
  | AnySchema;

export interface StringSchema {
  type: 'string';
  enum?: readonly string[];
  /** Compare enum values case-insensitively (Istio's protocol names). */
  enumIgnoreCase?: boolean;
  minLength?: number;
  maxLength?: number;
  check?: Check<string>;
}
export interface IntegerSchema {
  type: 'integer';
  minimum?: number;
  maximum?: number;
  check?: Check<number>;
}
export interface NumberSchema {
  type: 'number';
  minimum?: number;
  maximum?: number;
  check?: Check<number>;
}
export interface BooleanSchema {
  type: 'boolean';
}
export interface ObjectSchema {
  type: 'object';
  properties: Record<string, Schema>;
  required?: readonly string[];
  /** Mutually exclusive groups of fields: at most one may be set (the CRDs' `oneOf` of `required`). */
  exclusive?: readonly (readonly string[])[];
  check?: Check<Record<string, unknown>>;
}
export interface MapSchema {
  type: 'map';
  values: Schema;
  keyCheck?: Check<string>;
  check?: Check<Record<string, unknown>>;
}
export interface ArraySchema {
  type: 'array';
  items: Schema;
  minItems?: number;
  maxItems?: number;
  check?: Check<unknown[]>;
}
export interface IntOrStringSchema {
  type: 'int-or-string';
  check?: Check<number | string>;
}
/** Anything (`x-kubernetes-preserve-unknown-fields`, or parts of the Kubernetes API the lab ignores). */
export interface AnySchema {
  type: 'any';
}

// ---- constructors ---------------------------------------------------------------------------

export const str = (o: Omit<StringSchema, 'type'> = {}): StringSchema => ({ type: 'string', ...o });
export const int = (o: Omit<IntegerSchema, 'type'> = {}): IntegerSchema => ({ type: 'integer', ...o });
export const num = (o: Omit<NumberSchema, 'type'> = {}): NumberSchema => ({ type: 'number', ...o });
export const bool = (): BooleanSchema => ({ type: 'boolean' });
export const any = (): AnySchema => ({ type: 'any' });
export const intOrString = (o: Omit<IntOrStringSchema, 'type'> = {}): IntOrStringSchema => ({ type: 'int-or-string', ...o });
export const obj = (properties: Record<string, Schema>, o: Omit<ObjectSchema, 'type' | 'properties'> = {}): ObjectSchema => ({
  type: 'object',
  properties,
  ...o,
});
export const map = (values: Schema, o: Omit<MapSchema, 'type' | 'values'> = {}): MapSchema => ({ type: 'map', values, ...o });
export const arr = (items: Schema, o: Omit<ArraySchema, 'type' | 'items'> = {}): ArraySchema => ({ type: 'array', items, ...o });
/** 32-bit unsigned, as the CRDs declare proto uint32 fields. */
export const uint32 = (o: Omit<IntegerSchema, 'type'> = {}): IntegerSchema => int({ minimum: 0, maximum: 4294967295, ...o });
export const int32 = (o: Omit<IntegerSchema, 'type'> = {}): IntegerSchema => int({ minimum: -2147483648, maximum: 2147483647, ...o });
export const strings = (): ArraySchema => arr(str());
export const stringMap = (): MapSchema => map(str());

// ---- paths ----------------------------------------------------------------------------------

export function fieldPath(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}
export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}
/** Map keys as Kubernetes prints them: `metadata.labels[app]`. */
export function keyPath(parent: string, key: string): string {
  return `${parent}[${key}]`;
}

// ---- checking -------------------------------------------------------------------------------

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeName(v);
}

function typeError(path: string, expected: string, v: unknown, r: Reporter): void {
  const got = typeName(v);
  const detail = got === 'object' || got === 'array' ? got : `${got} ${shown(v)}`;
  r.error(path, `expected ${expected}, got ${detail}`);
}

/** Validate `value` (not null/undefined) against `schema`, reporting at `path`. */
export function checkValue(schema: Schema, value: unknown, path: string, r: Reporter): void {
  switch (schema.type) {
    case 'any':
      return;
    case 'string':
      if (typeof value !== 'string') return typeError(path, 'string', value, r);
      if (schema.enum) {
        const ok = schema.enumIgnoreCase
          ? schema.enum.some((e) => e.toLowerCase() === value.toLowerCase())
          : schema.enum.includes(value);
        if (!ok) {
          r.error(path, `unsupported value ${JSON.stringify(value)} (supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(', ')})`);
          return;
        }
      }
      if (schema.minLength !== undefined && value.length < schema.minLength) {
        r.error(path, schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters`);
        return;
      }
      if (schema.maxLength !== undefined && value.length > schema.maxLength) {
        r.error(path, `must be no more than ${schema.maxLength} characters`);
        return;
      }
      schema.check?.(value, path, r);
      return;
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || (schema.type === 'integer' && !Number.isInteger(value))) {
        return typeError(path, schema.type, value, r);
      }
      if (schema.minimum !== undefined && value < schema.minimum) {
        r.error(path, `must be greater than or equal to ${schema.minimum}, got ${value}`);
        return;
      }
      if (schema.maximum !== undefined && value > schema.maximum) {
        r.error(path, `must be less than or equal to ${schema.maximum}, got ${value}`);
        return;
      }
      schema.check?.(value, path, r);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') typeError(path, 'boolean', value, r);
      return;
    case 'int-or-string':
      if (typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value))) {
        schema.check?.(value, path, r);
        return;
      }
      return typeError(path, 'integer or string', value, r);
    case 'array': {
      if (!Array.isArray(value)) return typeError(path, 'array', value, r);
      if (schema.minItems !== undefined && value.length < schema.minItems) {
        r.error(path, schema.minItems === 1 ? 'must have at least one item' : `must have at least ${schema.minItems} items`);
      }
      if (schema.maxItems !== undefined && value.length > schema.maxItems) {
        r.error(path, `must have at most ${schema.maxItems} items`);
      }
      value.forEach((item, i) => {
        const p = indexPath(path, i);
        if (item === null || item === undefined) r.error(p, `expected ${describeSchema(schema.items)}, got null`);
        else checkValue(schema.items, item, p, r);
      });
      schema.check?.(value, path, r);
      return;
    }
    case 'map': {
      if (!isPlainObject(value)) return typeError(path, 'object', value, r);
      for (const [k, v] of Object.entries(value)) {
        const p = keyPath(path, k);
        schema.keyCheck?.(k, p, r);
        // The API server prunes null map values of non-nullable schemas, as it does null fields.
        if (v === null || v === undefined) continue;
        checkValue(schema.values, v, p, r);
      }
      schema.check?.(value, path, r);
      return;
    }
    case 'object': {
      if (!isPlainObject(value)) return typeError(path, 'object', value, r);
      const known = Object.keys(schema.properties);
      for (const [k, v] of Object.entries(value)) {
        const p = fieldPath(path, k);
        // Own properties only: `constructor`, `toString` or `__proto__` are unknown fields, not Object.prototype's.
        const sub = Object.hasOwn(schema.properties, k) ? schema.properties[k] : undefined;
        if (!sub) {
          const hint = suggest(k, known);
          r.error(p, `unknown field ${JSON.stringify(p)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`);
          continue;
        }
        if (v === null || v === undefined) continue;
        checkValue(sub, v, p, r);
      }
      for (const req of schema.required ?? []) {
        if (value[req] === null || value[req] === undefined) r.error(fieldPath(path, req), 'required field is missing');
      }
      for (const group of schema.exclusive ?? []) {
        const set = group.filter((k) => value[k] !== null && value[k] !== undefined);
        if (set.length > 1) r.error(path, `only one of ${group.join(', ')} may be set (got ${set.join(' and ')})`);
      }
      schema.check?.(value, path, r);
      return;
    }
  }
}

export function describeSchema(s: Schema): string {
  switch (s.type) {
    case 'map':
    case 'object':
      return 'object';
    case 'int-or-string':
      return 'integer or string';
    default:
      return s.type;
  }
}

/**
 * A deep copy with null object fields removed (what the API server stores). A key named
 * `__proto__` (a ConfigMap may have one) stays an ordinary key: it never sets the copy's prototype.
 */
export function pruneNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => pruneNulls(v)) as T;
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null || v === undefined) continue;
      if (k === '__proto__') Object.defineProperty(out, k, { value: pruneNulls(v), enumerable: true, writable: true, configurable: true });
      else out[k] = pruneNulls(v);
    }
    return out as T;
  }
  return value;
}
