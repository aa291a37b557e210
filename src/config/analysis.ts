/**
 * istioctl analyze's view of a set of objects: every finding of `analyze` with istioctl's level,
 * plus (for manifests read from files) schema errors as IST0106 and schema warnings as IST0133,
 * each placed at its file and line. Output lines read like istioctl's:
 * `Error [IST0101] (VirtualService httpbin.default x.yaml:12) Referenced gateway not found: "httpbin-gateway-bogus"`.
 */
import type { KubeObject } from '../model/objects.js';
import { LEVEL_ORDER, levelOf, MESSAGES, type AnalysisLevel } from './analysis-messages.js';
import { analyze } from './analyze.js';
import type { ConfigError, ConfigWarning } from './errors.js';
import { locateField, type ManifestSource } from './manifest.js';

export interface AnalysisMessage {
  code: string;
  /** istioctl's message name, e.g. ReferencedResourceNotFound. */
  name: string;
  level: AnalysisLevel;
  kind: string;
  namespace?: string;
  objectName: string;
  /** Field path inside the object, when known. */
  path: string;
  message: string;
  file?: string;
  line?: number;
}

export interface SourcedObject {
  object: KubeObject;
  source?: ManifestSource;
  /** The object as parsed (for line numbers); `object` may be a normalized copy. */
  original?: KubeObject;
}

const key = (kind: string, ns: string | undefined, name: string) => `${kind}/${ns ?? ''}/${name}`;

export function analyzeObjects(objects: SourcedObject[], problems: { errors?: ConfigError[]; warnings?: ConfigWarning[] } = {}): AnalysisMessage[] {
  const out: AnalysisMessage[] = [];
  for (const e of problems.errors ?? []) {
    out.push({ code: 'IST0106', name: MESSAGES['IST0106']!.name, level: 'Error', kind: e.kind, objectName: e.name, path: e.path, message: `Schema validation error: ${e.path ? `${e.path}: ` : ''}${e.message}`, ...(e.file ? { file: e.file } : {}), ...(e.line ? { line: e.line } : {}) });
  }
  for (const w of problems.warnings ?? []) {
    const code = w.code ?? 'IST0133';
    const message = w.code ? w.message : `Schema validation warning: ${w.path ? `${w.path}: ` : ''}${w.message}`;
    out.push({ code, name: MESSAGES[code]?.name ?? code, level: levelOf(code), kind: w.kind, objectName: w.name, path: w.path, message, ...(w.file ? { file: w.file } : {}), ...(w.line ? { line: w.line } : {}) });
  }
  const byKey = new Map(objects.map((o) => [key(o.object.kind, o.object.metadata.namespace, o.object.metadata.name), o] as const));
  for (const w of analyze(objects.map((o) => o.object))) {
    const code = w.code ?? 'LAB0002';
    const src = byKey.get(key(w.kind, w.namespace, w.name));
    const m: AnalysisMessage = { code, name: MESSAGES[code]?.name ?? code, level: levelOf(code), kind: w.kind, objectName: w.name, path: w.path, message: w.message };
    if (w.namespace !== undefined) m.namespace = w.namespace;
    if (src?.source) {
      m.file = src.source.file;
      const pos = src.original ? locateField(src.original, w.path) : undefined;
      const line = pos?.line ?? src.source.line;
      if (line !== undefined) m.line = line;
    }
    out.push(m);
  }
  // istioctl prints the most severe first; within a level, in the order found.
  return out.map((m, i) => ({ m, i })).sort((a, b) => LEVEL_ORDER[b.m.level] - LEVEL_ORDER[a.m.level] || a.i - b.i).map((x) => x.m);
}

export function formatMessage(m: AnalysisMessage): string {
  const obj = `${m.kind} ${m.objectName}${m.namespace ? `.${m.namespace}` : ''}`;
  const where = m.file ? ` ${m.file}${m.line ? `:${m.line}` : ''}` : '';
  return `${m.level} [${m.code}] (${obj}${where}) ${m.message}`;
}

export function highestLevel(messages: readonly AnalysisMessage[]): AnalysisLevel | undefined {
  let top: AnalysisLevel | undefined;
  for (const m of messages) if (!top || LEVEL_ORDER[m.level] > LEVEL_ORDER[top]) top = m.level;
  return top;
}
