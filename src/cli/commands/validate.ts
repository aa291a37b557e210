import { LabError } from '../../shared/errors.js';
import { parse } from '../args.js';
import type { ConfigError, ConfigWarning } from '../../config/errors.js';
import { loadManifests } from '../../verify/load.js';

export const VALIDATE_USAGE = `Usage: lab validate -f FILE|DIR [-f ...] [-n NAMESPACE] [-o json]

Validates manifests with no lab running (like istioctl validate -f): the schema and semantic
checks of lab apply (Kubernetes strict field validation, the CRD schemas, Istio's webhook rules).
Directories are read recursively (*.yaml, *.yml, *.json); each file is checked on its own, so a
folder may hold alternatives of one object (an object twice in one file is an error).
Exit codes: 0 every object is valid, 1 some object is invalid, 2 usage error.`;

export function problemJson(p: ConfigError | ConfigWarning): Record<string, unknown> {
  const out: Record<string, unknown> = { file: p.file, document: p.index + 1, kind: p.kind, name: p.name, path: p.path, message: p.message };
  if (p.item !== undefined) out['item'] = p.item + 1;
  if (p.line !== undefined) out['line'] = p.line;
  if (p.column !== undefined) out['column'] = p.column;
  if ('code' in p && p.code !== undefined) out['code'] = p.code;
  return out;
}

export async function validate(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    { filename: { type: 'string', short: 'f', multiple: true }, namespace: { type: 'string', short: 'n' }, output: { type: 'string', short: 'o' } },
    VALIDATE_USAGE,
  );
  if (values.help) {
    console.log(VALIDATE_USAGE);
    return 0;
  }
  const files = (values.filename as string[] | undefined) ?? [];
  if (files.length === 0) throw new LabError('LAB_ERR_USAGE', `validate needs -f FILE\n\n${VALIDATE_USAGE}`);
  const output = values.output as string | undefined;
  if (output !== undefined && output !== 'json') throw new LabError('LAB_ERR_USAGE', `-o must be json, got "${output}"`);
  const r = loadManifests(files, (values.namespace as string | undefined) ?? 'istioinaction', { perFile: true });
  const valid = r.errors.length === 0 && r.documents > 0;
  if (output === 'json') {
    const objects = r.objects.map(({ object, source }) => ({ file: source.file, document: source.index + 1, kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name }));
    console.log(JSON.stringify({ valid, objects, errors: r.errors.map(problemJson), warnings: r.warnings.map(problemJson) }, null, 2));
    return valid ? 0 : 1;
  }
  for (const w of r.warnings) console.error(w.toString());
  for (const e of r.errors) console.error(`error: ${e.toString()}`);
  if (r.documents === 0 && r.errors.length === 0) console.error(`error: no objects found in ${files.join(', ')}`);
  const invalid = r.documents - r.objects.length;
  console.log(
    valid
      ? `${r.objects.length} object${r.objects.length === 1 ? '' : 's'} in ${r.files.length} file${r.files.length === 1 ? '' : 's'}: valid`
      : `${r.errors.length} error${r.errors.length === 1 ? '' : 's'}${invalid > 0 ? ` in ${invalid} object${invalid === 1 ? '' : 's'}` : ''}: invalid`,
  );
  return valid ? 0 : 1;
}
