/**
 * Manifests in, validated objects and problems out: parsing (`manifest`), the served kinds
 * (`kinds`), per-object validation (`validate`) and cross-object analysis (`analyze`).
 */
export { analyze, hostMatches, IST0101, IST0109, IST0112 } from './analyze.js';
export { formatDuration, parseGoDuration } from './duration.js';
export { ConfigError, ConfigWarning, configErrorsToLabError, type ProblemLocation } from './errors.js';
export {
  apiVersionOf,
  apiVersionsOf,
  findKind,
  KINDS,
  kindForApiVersion,
  lookupKind,
  preferredApiVersion,
  resolveKind,
  splitApiVersion,
  supportedKindsText,
  type KindInfo,
  type KindResolution,
} from './kinds.js';
export { loadManifestPaths, locateField, parseManifests, splitFieldPath, type ManifestSource, type ParsedManifests } from './manifest.js';
export { checkRe2Syntax } from './re2.js';
export { validateDocuments, validateObject, type ValidatedDocuments, type ValidateOptions, type ValidationResult } from './validate.js';
