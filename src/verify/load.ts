/**
 * Manifests from files into validated objects, with no lab running: the parsing and validation
 * `lab apply` does in the CLI and in admission, minus the store. Shared by `lab validate`,
 * `lab analyze -f` and offline `lab verify`.
 */
import { ConfigError, ConfigWarning } from '../config/errors.js';
import { loadManifestPaths, type ManifestSource } from '../config/manifest.js';
import { validateDocuments } from '../config/validate.js';
import type { KubeObject } from '../model/objects.js';
import type { PodTemplate } from '../model/specs.js';
import { programForImage } from '../runtime/images.js';
import { LabError } from '../shared/errors.js';

export interface LoadedManifests {
  /** Valid, normalized objects (namespace filled in) with where each came from. */
  objects: Array<{ object: KubeObject; source: ManifestSource }>;
  errors: ConfigError[];
  warnings: ConfigWarning[];
  /** How many documents were read (valid or not). */
  documents: number;
  files: string[];
}

/**
 * `perFile`: each file is its own apply (istioctl validate's view: a folder may hold alternatives
 * of one object, e.g. the chapter's VirtualService versions); otherwise all files are one apply,
 * where an object defined twice is an error (lab apply's view, and what a scenario applies).
 */
export function loadManifests(paths: string[], defaultNamespace: string, opts: { perFile?: boolean } = {}): LoadedManifests {
  const parsed = loadManifestPaths(paths);
  const files = [...new Set(parsed.documents.map((d) => d.source.file))];
  const batches = opts.perFile ? files.map((f) => parsed.documents.filter((d) => d.source.file === f)) : [parsed.documents];
  const out: LoadedManifests = { objects: [], errors: [...parsed.errors], warnings: [], documents: parsed.documents.length, files };
  for (const batch of batches) {
    const v = validateDocuments(batch, { defaultNamespace });
    out.objects.push(...(v.objects as LoadedManifests['objects']));
    out.errors.push(...v.errors);
    out.warnings.push(...v.warnings, ...imageWarnings(v.objects));
  }
  return out;
}

/**
 * `lab apply` refuses images the lab cannot run (it has programs only for the book's); that is a
 * limit of the sandbox, not of the manifest, so offline tools report it as a warning.
 */
function imageWarnings(objects: ReadonlyArray<{ object: KubeObject; source: ManifestSource }>): ConfigWarning[] {
  const out: ConfigWarning[] = [];
  for (const { object, source } of objects) {
    if (object.kind !== 'Deployment') continue;
    const containers = (object.spec as { template?: PodTemplate } | undefined)?.template?.spec.containers ?? [];
    containers.forEach((c, i) => {
      try {
        programForImage(c.image, '');
      } catch (err) {
        if (!(err instanceof LabError)) throw err;
        const loc = { file: source.file, index: source.index, kind: object.kind, name: object.metadata.name, path: `spec.template.spec.containers[${i}].image` };
        out.push(new ConfigWarning(loc, `image "${c.image}" is not one a running lab can start (lab apply refuses it); offline analyze and verify are unaffected`));
      }
    });
  }
  return out;
}
