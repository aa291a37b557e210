/**
 * MeshConfig (the `istio` ConfigMap's `mesh` key): the lab keeps the fields chapter 5 uses and
 * accepts `--set meshConfig.X=Y` like `istioctl install --set`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { DEFAULT_MESH_CONFIG, type MeshConfig } from '../model/specs.js';
import { LabError } from '../shared/errors.js';

export function loadMeshConfig(file: string): MeshConfig {
  if (!existsSync(file)) return structuredClone(DEFAULT_MESH_CONFIG);
  return { ...structuredClone(DEFAULT_MESH_CONFIG), ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<MeshConfig>) };
}

export function saveMeshConfig(file: string, mesh: MeshConfig): void {
  writeFileSync(file, JSON.stringify(mesh, null, 2));
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
