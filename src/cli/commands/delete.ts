import { loadManifestPaths } from '../../config/manifest.js';
import { configErrorsToLabError } from '../../config/errors.js';
import { lookupKind } from '../../config/kinds.js';
import { LabError } from '../../shared/errors.js';
import { boolOption, parse } from '../args.js';
import { connect } from '../client.js';
import { resourceName } from './apply.js';

export const DELETE_USAGE = `Usage: lab delete -f FILE|DIR [-n NAMESPACE]
       lab delete KIND NAME [NAME...] [-n NAMESPACE]
       lab delete KIND[,KIND...] --all [-n NAMESPACE]
Options: --ignore-not-found, --wait=false`;

export async function del(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      filename: { type: 'string', short: 'f', multiple: true },
      namespace: { type: 'string', short: 'n' },
      all: { type: 'boolean' },
      'ignore-not-found': { type: 'boolean' },
      wait: { type: 'string' },
    },
    DELETE_USAGE,
  );
  if (values.help) {
    console.log(DELETE_USAGE);
    return 0;
  }
  const ns = (values.namespace as string | undefined) ?? 'istioinaction';
  const body: { items: Array<{ kind: string; namespace: string; name: string }>; all?: { kinds: string[]; namespace: string }; wait: boolean } = {
    items: [],
    wait: boolOption(values.wait as string | undefined, 'wait', true),
  };
  const files = (values.filename as string[] | undefined) ?? [];
  if (files.length > 0) {
    const { documents, errors } = loadManifestPaths(files);
    if (errors.length > 0) throw configErrorsToLabError(errors);
    for (const d of documents) {
      const info = lookupKind(d.object.kind);
      body.items.push({ kind: info.kind, namespace: info.namespaced ? (d.object.metadata.namespace ?? ns) : '', name: d.object.metadata.name });
    }
  } else {
    const [kindsArg, ...names] = positionals;
    if (!kindsArg) throw new LabError('LAB_ERR_USAGE', DELETE_USAGE);
    // `deploy/catalog` form
    if (kindsArg.includes('/') && names.length === 0) {
      const [k, n] = kindsArg.split('/');
      body.items.push({ kind: lookupKind(k!).kind, namespace: ns, name: n! });
    } else {
      const kinds = kindsArg.split(',').map((k) => lookupKind(k).kind);
      if (values.all) body.all = { kinds, namespace: ns };
      else if (names.length === 0) throw new LabError('LAB_ERR_USAGE', `delete ${kindsArg}: give NAMEs or --all\n\n${DELETE_USAGE}`);
      else for (const kind of kinds) for (const name of names) body.items.push({ kind, namespace: ns, name });
    }
  }
  const res = await connect().call<{ results: Array<{ kind: string; name: string }>; missing: string[] }>('POST', '/delete', body);
  for (const r of res.results) console.log(`${resourceName(r.kind)} "${r.name}" deleted`);
  if (res.results.length === 0 && res.missing.length === 0 && values.all) console.log(`No resources found in ${ns} namespace.`);
  if (res.missing.length > 0 && !values['ignore-not-found']) {
    for (const m of res.missing) console.error(`Error from server (NotFound): ${m}`);
    return 1;
  }
  return 0;
}
