/**
 * Errors and warnings about manifests. They are data (collected, not thrown): one manifest can have
 * many problems and `lab apply` reports them all, naming the file, the document, the object and the
 * field, the way `kubectl apply` with strict field validation does.
 */
import { LabError, type LabErrorCode } from '../shared/errors.js';

/** Where a problem is: the document (and, inside a `kind: List`, the item) and the field. */
export interface ProblemLocation {
  /** File name as the user gave it (`ch5/catalog-vs.yaml`), or `-`/`<inline>` for other sources. */
  file: string;
  /** 0-based index of the YAML document in the file (printed 1-based: "document 1" is the first). */
  index: number;
  /** 0-based index inside a `kind: List` document's `items`, when the object came from one. */
  item?: number;
  /** `kind` and `metadata.name` of the object as written ('' when unknown). */
  kind: string;
  name: string;
  /** Field path in kubectl's notation: `spec.http[0].route[0].destination.host`, `metadata.labels[app]`. */
  path: string;
  /** 1-based line and column in the file, when known (YAML syntax errors; fields of parsed documents). */
  line?: number;
  column?: number;
}

/**
 * `file: document N[, item M] (Kind name)`; for an object with no file (analysing the store):
 * `Kind namespace/name`.
 */
function describeSource(p: ProblemLocation & { namespace?: string }): string {
  if (!p.file) {
    const name = p.namespace ? `${p.namespace}/${p.name}` : p.name;
    return [p.kind, name].filter(Boolean).join(' ');
  }
  let s = `${p.file}: document ${p.index + 1}`;
  if (p.item !== undefined) s += `, item ${p.item + 1}`;
  if (p.kind || p.name) s += ` (${[p.kind, p.name].filter(Boolean).join(' ')})`;
  return s;
}

/** The location fields both problems carry, copied once. */
abstract class Problem implements ProblemLocation {
  file: string;
  index: number;
  item?: number;
  kind: string;
  name: string;
  path: string;
  message: string;
  line?: number;
  column?: number;

  constructor(loc: ProblemLocation, message: string) {
    this.file = loc.file;
    this.index = loc.index;
    if (loc.item !== undefined) this.item = loc.item;
    this.kind = loc.kind;
    this.name = loc.name;
    this.path = loc.path;
    this.message = message;
    if (loc.line !== undefined) this.line = loc.line;
    if (loc.column !== undefined) this.column = loc.column;
  }
}

/**
 * An invalid manifest: `toString()` gives
 * `ch5/bad.yaml: document 2 (VirtualService catalog-vs): spec.http[0].route[0].destination.host: required field is missing`.
 */
export class ConfigError extends Problem {
  /** `LAB_ERR_UNKNOWN_KIND` for kinds/apiVersions the lab does not serve, else `LAB_ERR_INVALID_MANIFEST`. */
  code: LabErrorCode;

  constructor(loc: ProblemLocation, message: string, code: LabErrorCode = 'LAB_ERR_INVALID_MANIFEST') {
    super(loc, message);
    this.code = code;
  }

  override toString(): string {
    return `${describeSource(this)}: ${this.path ? `${this.path}: ` : ''}${this.message}`;
  }
}

/**
 * Something Istio accepts but that is probably not what was meant. `code` is istioctl analyze's
 * message code when there is one (`IST0101` ReferencedResourceNotFound, ...); `toString()` gives
 * `ch5/vs.yaml: document 1 (VirtualService catalog): Warning [IST0101] spec.http[0].route[0].destination: Referenced host+subset in destinationrule not found: "catalog+version-v3"`
 * or, for an object with no file, `VirtualService istioinaction/catalog: Warning [IST0101] ...`.
 */
export class ConfigWarning extends Problem {
  code?: string;
  /** Namespace of the object, for analyzers that report on stored objects (no file). */
  namespace?: string;

  constructor(loc: ProblemLocation & { namespace?: string }, message: string, code?: string) {
    super(loc, message);
    if (code !== undefined) this.code = code;
    if (loc.namespace !== undefined) this.namespace = loc.namespace;
  }

  override toString(): string {
    const tag = this.code ? `Warning [${this.code}]` : 'Warning';
    return `${describeSource(this)}: ${tag} ${this.path ? `${this.path}: ` : ''}${this.message}`;
  }
}

/** One `LabError` for a batch of config errors (message: the first one; details: all of them). */
export function configErrorsToLabError(errors: readonly ConfigError[]): LabError {
  if (errors.length === 0) throw new Error('configErrorsToLabError: no errors');
  const code: LabErrorCode = errors.every((e) => e.code === 'LAB_ERR_UNKNOWN_KIND')
    ? 'LAB_ERR_UNKNOWN_KIND'
    : 'LAB_ERR_INVALID_MANIFEST';
  const first = errors[0]!.toString();
  const message = errors.length === 1 ? first : `${first} (and ${errors.length - 1} more)`;
  return new LabError(code, message, errors.map((e) => e.toString()));
}
