import { LabError } from '../shared/errors.js';

/**
 * `--runtime auto|local|docker`. This version ships the local runtime only; `auto` says so rather
 * than pretending to have looked for Docker.
 */
export async function detectRuntime(requested: string): Promise<{ name: 'local'; reason: string }> {
  switch (requested) {
    case 'local':
      return { name: 'local', reason: 'requested with --runtime local' };
    case 'auto':
      return { name: 'local', reason: 'auto: this version runs workloads as local processes; the Docker runtime is not built yet' };
    case 'docker':
      throw new LabError('LAB_ERR_USAGE', '--runtime docker: the Docker runtime is not available in this version; use --runtime local (or auto)');
    default:
      throw new LabError('LAB_ERR_USAGE', `--runtime must be auto, local or docker, got "${requested}"`);
  }
}
