/**
 * MeshConfig (the `istio` ConfigMap's `mesh` key): the lab keeps the fields chapter 5 uses and
 * accepts `--set meshConfig.X=Y` like `istioctl install --set`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { DEFAULT_MESH_CONFIG, type MeshConfig } from '../model/specs.js';
import { writeFileAtomicSync } from '../shared/atomic-file.js';
import { LabError } from '../shared/errors.js';

/**
 * mesh.json, or the defaults when there is none. A file that cannot be read back is an error
 * naming it (the lab does not start on defaults and then overwrite the user's settings).
 */
export function loadMeshConfig(file: string): MeshConfig {
  if (!existsSync(file)) return structuredClone(DEFAULT_MESH_CONFIG);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw unreadableMesh(file, (err as Error).message);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw unreadableMesh(file, 'not a JSON object');
  return { ...structuredClone(DEFAULT_MESH_CONFIG), ...(parsed as Partial<MeshConfig>) };
}

function unreadableMesh(file: string, why: string): LabError {
  return new LabError(
    'LAB_ERR_RUNTIME',
    `the mesh config ${file} cannot be loaded (${why}); it is left as it is and the lab does not start. To start with the default mesh config, move it aside (mv ${file} ${file}.bad) and run lab up again`,
  );
}

/** Atomically: a crash mid-write leaves the previous mesh.json. */
export function saveMeshConfig(file: string, mesh: MeshConfig): void {
  writeFileAtomicSync(file, JSON.stringify(mesh, null, 2));
}

/** Applies `meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY`-style settings; unknown keys are errors. */
export function applyMeshSettings(mesh: MeshConfig, settings: string[]): MeshConfig {
  const next = structuredClone(mesh);
  for (const s of settings) {
    const eq = s.indexOf('=');
    if (eq < 0) throw new LabError('LAB_ERR_USAGE', `--set ${s}: expected KEY=VALUE`);
    const key = s.slice(0, eq).trim();
    const value = s.slice(eq + 1).trim();
    switch (key) {
      case 'meshConfig.outboundTrafficPolicy.mode':
        if (value !== 'ALLOW_ANY' && value !== 'REGISTRY_ONLY') {
          throw new LabError('LAB_ERR_USAGE', `--set ${key}: must be ALLOW_ANY or REGISTRY_ONLY, got "${value}"`);
        }
        next.outboundTrafficPolicy = { mode: value };
        break;
      case 'meshConfig.accessLogFile':
        next.accessLogFile = value;
        break;
      case 'meshConfig.enableMetrics':
      case 'values.telemetry.enabled':
        next.enableMetrics = value === 'true';
        break;
      case 'profile':
        // `istioctl install --set profile=demo`: the lab has one profile; accepted for copy-paste.
        break;
      default:
        throw new LabError(
          'LAB_ERR_USAGE',
          `--set ${key}: not a setting the lab supports (supported: meshConfig.outboundTrafficPolicy.mode, meshConfig.accessLogFile, meshConfig.enableMetrics, profile)`,
        );
    }
  }
  return next;
}
