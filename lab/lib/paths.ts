import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file is dist/lab/lib/paths.js once built, lab/lib/paths.ts under vitest. */
const up2 = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ROOT = basename(up2) === 'dist' ? dirname(up2) : up2;
export const LAB_BIN = join(ROOT, 'bin', 'lab.js');
