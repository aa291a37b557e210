import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file is dist/lab/lib/paths.js once built. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const LAB_BIN = join(ROOT, 'bin', 'lab.js');
