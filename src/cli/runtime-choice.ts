import { LabError } from '../shared/errors.js';
import { pingDocker } from '../runtime/docker/engine.js';

export type RuntimeName = 'local' | 'docker';

/**
 * `--runtime auto|local|docker` (default: $LAB_RUNTIME, else local: fast, nothing to install).
 * `auto` uses Docker when an engine answers and says which it chose and why.
 */
export async function detectRuntime(requested: string): Promise<{ name: RuntimeName; reason: string }> {
  switch (requested) {
    case 'local':
      return { name: 'local', reason: 'local processes' };
    case 'auto': {
      const ping = await pingDocker();
      if (ping.ok) return { name: 'docker', reason: `auto: a Docker engine answered (${ping.version})` };
      return { name: 'local', reason: `auto: ${ping.reason}, so local processes` };
    }
    case 'docker': {
      const ping = await pingDocker();
      if (!ping.ok) throw new LabError('LAB_ERR_USAGE', `--runtime docker: ${ping.reason}; start Docker (dockerd) or use --runtime local`);
      return { name: 'docker', reason: `Docker engine ${ping.version}` };
    }
    default:
      throw new LabError('LAB_ERR_USAGE', `--runtime must be auto, local or docker, got "${requested}"`);
  }
}

/** The runtime `lab up` uses when --runtime is not given. */
export function defaultRuntime(): string {
  return process.env.LAB_RUNTIME || 'local';
}
