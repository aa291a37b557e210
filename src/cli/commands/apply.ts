import { loadManifestPaths } from '../../config/manifest.js';
import { configErrorsToLabError } from '../../config/errors.js';
import { LabError } from '../../shared/errors.js';
import { boolOption, parse } from '../args.js';
import { connect } from '../client.js';
import { lookupKind } from '../../config/kinds.js';
import { validateDocuments } from '../../config/validate.js';

export const APPLY_USAGE = `Usage: lab apply -f FILE|DIR [-f ...] [-n NAMESPACE] [--wait=false]

Validates every document, then applies them all (or none, if any is invalid). Returns once
Deployments have rolled out and every proxy serves the new configuration (--wait=false: at once).
The default namespace is istioinaction.`;

interface ApplyResponse {
  results: Array<{ kind: string; namespace?: string; name: string; outcome: string }>;
  warnings: string[];
  errors: string[];
}

export async function apply(argv: string[]): Promise<number> {
  const { values } = parse(argv, { filename: { type: 'string', short: 'f', multiple: true }, namespace: { type: 'string', short: 'n' }, wait: { type: 'string' } }, APPLY_USAGE);
  if (values.help) {
    console.log(APPLY_USAGE);
    return 0;
  }
  const files = (values.filename as string[] | undefined) ?? [];
  if (files.length === 0) throw new LabError('LAB_ERR_USAGE', `apply needs -f FILE\n\n${APPLY_USAGE}`);
  const { documents, errors } = loadManifestPaths(files);
  if (errors.length > 0) throw configErrorsToLabError(errors);
  if (documents.length === 0) throw new LabError('LAB_ERR_USAGE', `no objects found in ${files.join(', ')}`);
  const namespace = (values.namespace as string | undefined) ?? 'istioinaction';
  // Validate here too: errors found in this process can point at the line in the file. The control
  // plane validates again (it is the authority) and adds the cross-object analysis.
  const local = validateDocuments(documents, { defaultNamespace: namespace });
  if (local.errors.length > 0) throw configErrorsToLabError(local.errors);
  const client = connect();
  const res = await client.call<ApplyResponse>('POST', '/apply', {
    documents,
    namespace,
    wait: boolOption(values.wait as string | undefined, 'wait', true),
  });
  for (const w of res.warnings) console.error(w);
  for (const r of res.results) console.log(`${resourceName(r.kind)}/${r.name} ${r.outcome}`);
  for (const e of res.errors) console.error(`error: ${e}`);
  return res.errors.length > 0 ? 1 : 0;
}

/** kubectl prints `deployment.apps/catalog`, `virtualservice.networking.istio.io/catalog-vs`. */
export function resourceName(kind: string): string {
  try {
    const info = lookupKind(kind);
    return info.group ? `${kind.toLowerCase()}.${info.group}` : kind.toLowerCase();
  } catch {
    return kind.toLowerCase();
  }
}
