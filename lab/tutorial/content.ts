/**
 * The tutorial's texts, one folder per language (content/en, content/ko): `common.yaml` for the
 * interface, the access log's fields and the hints; `5.2.yaml` ... for each scenario's steps. A
 * translator edits these files only. A missing or mistyped text is an error naming file and field.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../lib/paths.js';
import type { LogTexts } from './log-annotate.js';

export const LANGS = ['en', 'ko'] as const;
export type Lang = (typeof LANGS)[number];
export const CONTENT_DIR = join(ROOT, 'lab', 'tutorial', 'content');

export interface StepTexts {
  title: string;
  /** The idea behind the step. */
  explain: string;
  /** What to look at in the outcome (optional). */
  look?: string;
}

export interface ScenarioTexts {
  title: string;
  steps: Record<string, StepTexts>;
}

export interface CommonTexts {
  ui: Record<string, string>;
  log: LogTexts;
  hints: Record<string, string>;
}

export class ContentError extends Error {}

function load(file: string): unknown {
  if (!existsSync(file)) throw new ContentError(`${file}: missing (every language needs the same content files)`);
  try {
    return parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ContentError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
}

function strings(file: string, field: string, v: unknown, required: readonly string[] = []): Record<string, string> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ContentError(`${file}: ${field} must be a mapping`);
  for (const [k, s] of Object.entries(v)) if (typeof s !== 'string') throw new ContentError(`${file}: ${field}.${k} must be text`);
  for (const k of required) if (!(k in v)) throw new ContentError(`${file}: ${field}.${k} is missing`);
  return v as Record<string, string>;
}

export const UI_KEYS = ['step', 'why', 'manifest', 'against', 'commands', 'book', 'lab', 'outcome', 'look', 'promptMode', 'promptNext', 'promptAfter', 'promptRetry', 'diyIntro', 'diyEnv', 'diyWait', 'watchOnly', 'pass', 'fail', 'saw', 'observed', 'hint', 'setup', 'labStarting', 'labReady', 'interrupted', 'resume', 'cleanup', 'kept', 'done', 'split', 'splitWeights', 'logTitle'] as const;

export function loadCommon(lang: Lang, dir = CONTENT_DIR): CommonTexts {
  const file = join(dir, lang, 'common.yaml');
  const raw = load(file) as Record<string, unknown>;
  const ui = strings(file, 'ui', raw?.ui, UI_KEYS);
  const log = raw?.log as Record<string, unknown> | undefined;
  if (!log) throw new ContentError(`${file}: log is missing`);
  const texts: LogTexts = {
    fields: strings(file, 'log.fields', log.fields, ['code', 'flags', 'details', 'cluster', 'host', 'route', 'authority']) as LogTexts['fields'],
    flags: strings(file, 'log.flags', log.flags, ['-', 'NR', 'NC', 'UH', 'UF', 'URX']),
    cluster: strings(file, 'log.cluster', log.cluster, ['inbound', 'outbound', 'outboundNoSubset', 'PassthroughCluster', 'BlackHoleCluster', '-']),
    route: strings(file, 'log.route', log.route, ['default', 'allow_any', 'block_all', '-', 'unnamed', 'named']),
    host: strings(file, 'log.host', log.host, ['some', 'none']) as LogTexts['host'],
    unknown: typeof log.unknown === 'string' ? log.unknown : '',
  };
  return { ui, log: texts, hints: strings(file, 'hints', raw?.hints) };
}

export function loadScenario(lang: Lang, name: string, dir = CONTENT_DIR): ScenarioTexts {
  const file = join(dir, lang, `${name}.yaml`);
  const raw = load(file) as Record<string, unknown>;
  if (typeof raw?.title !== 'string') throw new ContentError(`${file}: title must be text`);
  const steps = raw.steps as Record<string, unknown> | undefined;
  if (!steps || typeof steps !== 'object') throw new ContentError(`${file}: steps is missing`);
  const out: Record<string, StepTexts> = {};
  for (const [id, v] of Object.entries(steps)) {
    const s = strings(file, `steps.${id}`, v, ['title', 'explain']);
    out[id] = { title: s.title!, explain: s.explain!, look: s.look };
  }
  return { title: raw.title, steps: out };
}

/** `ko` when the locale says Korean (LC_ALL, LC_MESSAGES, LANG, in POSIX order), else `en`. */
export function langFromLocale(env: NodeJS.ProcessEnv = process.env): Lang {
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return /^ko([_.@-]|$)/i.test(locale) ? 'ko' : 'en';
}
