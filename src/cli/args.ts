import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LabError } from '../shared/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs with the lab's error type, so a bad flag prints a usage error, not a stack. */
export type ParsedValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export function parse(argv: string[], options: Options, usage: string): { values: ParsedValues; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: r.values as ParsedValues, positionals: r.positionals };
  } catch (err) {
    throw new LabError('LAB_ERR_USAGE', `${(err as Error).message}\n\n${usage}`);
  }
}

export function intOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new LabError('LAB_ERR_USAGE', `--${name} must be a whole number, got "${value}"`);
  return n;
}

export function boolOption(value: string | undefined, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === 'true' || value === '') return true;
  if (value === 'false') return false;
  throw new LabError('LAB_ERR_USAGE', `--${name} must be true or false, got "${value}"`);
}
