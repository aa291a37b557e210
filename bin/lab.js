#!/usr/bin/env node
// Thin launcher so `npx lab` and `npm run lab --` work after `npm ci` (which runs `prepare` = tsc).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const entry = join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(entry)) {
  console.error('lab: the project is not built yet; run `npm ci` (or `npm run build`) first');
  process.exit(1);
}
await import(entry);
