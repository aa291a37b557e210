/**
 * `lab verify` scenario files: YAML checked against the shipped JSON Schema
 * (schemas/verify-scenario.schema.json), then the rules a schema cannot say. Problems name the
 * file, the line and the field: `web.yaml:14: cases[1].expect.split: needs count`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { splitFieldPath } from '../config/manifest.js';
import { LabError } from '../shared/errors.js';
import { validateJsonSchema, type JsonSchema } from './json-schema.js';

export type OutboundPolicy = 'ALLOW_ANY' | 'REGISTRY_ONLY';

export interface ScenarioRequest {
  from: string;
  method: string;
  host: string;
  port: number;
  path: string;
  headers: Record<string, string>;
}

export interface Expectation {
  code?: number;
  flags?: string;
  route?: string;
  cluster?: string;
  subset?: string;
  rewrite?: { path?: string; authority?: string };
  mirror?: string[];
  egress?: 'allowed' | 'passthrough' | 'blocked';
  /** Percent per subset or cluster name. */
  split?: Record<string, number>;
}

export interface ScenarioCase {
  name: string;
  request: ScenarioRequest;
  count: number;
  outboundTrafficPolicy: OutboundPolicy;
  expect: Expectation;
  /** 1-based line of the case in the file, for reports. */
  line?: number;
}

export interface Scenario {
  file: string;
  title: string;
  namespace: string;
  /** Absolute paths. */
  manifests: string[];
  seed: number;
  alpha: number;
  cases: ScenarioCase[];
}

/** From dist/src/verify/ (the CLI) or src/verify/ (tests): the package root holds schemas/. */
function schemaPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of [['..', '..', '..'], ['..', '..']]) {
    const p = join(here, ...up, 'schemas', 'verify-scenario.schema.json');
    try {
      readFileSync(p);
      return p;
    } catch {
      // try the next layout
    }
  }
  throw new LabError('LAB_ERR_INTERNAL', 'schemas/verify-scenario.schema.json is missing from the package');
}

let schema: JsonSchema | undefined;
export function scenarioSchema(): JsonSchema {
  schema ??= JSON.parse(readFileSync(schemaPath(), 'utf8')) as JsonSchema;
  return schema;
}

interface Raw {
  scenario: string;
  namespace?: string;
  manifests: string[];
  outboundTrafficPolicy?: OutboundPolicy;
  seed?: number;
  alpha?: number;
  cases: Array<{ name: string; request: Record<string, unknown>; count?: number; outboundTrafficPolicy?: OutboundPolicy; expect: Expectation }>;
}

export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LabError('LAB_ERR_USAGE', `${file}: cannot read the scenario: ${(err as Error).message}`);
  }
  return parseScenario(text, file);
}

export function parseScenario(text: string, file: string): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lines.linePos(e.pos[0]);
    throw new LabError('LAB_ERR_USAGE', `${file}:${pos.line}:${pos.col}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const value: unknown = doc.toJS();
  const lineOf = (path: string): number | undefined => {
    const segs = path === '' ? [] : splitFieldPath(path);
    for (let n = segs.length; n >= 0; n--) {
      const node = doc.getIn(segs.slice(0, n), true);
      if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
    }
    return undefined;
  };
  const fail = (problems: Array<{ path: string; message: string }>): never => {
    const msgs = problems.map((p) => `${file}:${lineOf(p.path) ?? 1}: ${p.path ? `${p.path}: ` : ''}${p.message}`);
    throw new LabError('LAB_ERR_USAGE', msgs.length === 1 ? msgs[0]! : `${msgs[0]} (and ${msgs.length - 1} more)`, msgs);
  };
  const problems = validateJsonSchema(scenarioSchema(), value);
  if (problems.length > 0) fail(problems);
  const raw = value as Raw;
  const base = dirname(resolve(file));
  const policy = raw.outboundTrafficPolicy ?? 'ALLOW_ANY';
  const more: Array<{ path: string; message: string }> = [];
  const cases = raw.cases.map((c, i): ScenarioCase => {
    const at = `cases[${i}]`;
    const r = c.request;
    const req: ScenarioRequest = { from: r['from'] as string, method: (r['method'] as string | undefined) ?? 'GET', host: '', port: 80, path: '/', headers: {} };
    if (typeof r['url'] === 'string') {
      for (const k of ['host', 'port', 'path']) if (r[k] !== undefined) more.push({ path: `${at}.request.${k}`, message: 'give either url or host/port/path, not both' });
      const u = /^http:\/\/([^/?#]+)([^#]*)$/.exec(r['url']);
      if (!u) more.push({ path: `${at}.request.url`, message: `not an http:// URL: ${JSON.stringify(r['url'])}` });
      else {
        req.host = u[1]!;
        const port = /:(\d+)$/.exec(u[1]!);
        if (port) req.port = Number(port[1]);
        req.path = u[2] === '' ? '/' : u[2]!;
      }
    } else if (typeof r['host'] === 'string') {
      req.host = r['host'];
      if (typeof r['port'] === 'number') req.port = r['port'];
      if (typeof r['path'] === 'string') req.path = r['path'];
    } else {
      more.push({ path: `${at}.request`, message: 'needs url or host' });
    }
    for (const [k, v] of Object.entries((r['headers'] as Record<string, string> | undefined) ?? {})) req.headers[k.toLowerCase()] = v;
    if (c.expect.split && c.count === undefined) more.push({ path: `${at}.expect.split`, message: 'needs count (how many requests to split)' });
    if (c.expect.split) {
      const sum = Object.values(c.expect.split).reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 100) > 1e-9) more.push({ path: `${at}.expect.split`, message: `percentages must add up to 100, got ${sum}` });
    }
    const line = lineOf(at);
    return { name: c.name, request: req, count: c.count ?? 1, outboundTrafficPolicy: c.outboundTrafficPolicy ?? policy, expect: c.expect, ...(line ? { line } : {}) };
  });
  const names = new Map<string, number>();
  raw.cases.forEach((c, i) => {
    const first = names.get(c.name);
    if (first !== undefined) more.push({ path: `cases[${i}].name`, message: `duplicate case name (also cases[${first}])` });
    else names.set(c.name, i);
  });
  if (more.length > 0) fail(more);
  return {
    file,
    title: raw.scenario,
    namespace: raw.namespace ?? 'istioinaction',
    manifests: raw.manifests.map((m) => resolve(base, m)),
    seed: raw.seed ?? 1,
    alpha: raw.alpha ?? 0.001,
    cases,
  };
}
