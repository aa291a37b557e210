import { LabError } from '../../shared/errors.js';
import { parse } from '../args.js';
import { connect } from '../client.js';
import { LEVEL_ORDER, type AnalysisLevel } from '../../config/analysis-messages.js';
import { analyzeObjects, formatMessage, type SourcedObject } from '../../config/analysis.js';
import { loadManifestPaths } from '../../config/manifest.js';
import { validateDocuments } from '../../config/validate.js';
import type { ConfigWarning } from '../../config/errors.js';
import type { KubeObject } from '../../model/objects.js';

export const ANALYZE_USAGE = `Usage: lab analyze [-f FILE|DIR ...] [--use-lab] [-n NAMESPACE] [--failure-threshold Info|Warning|Error] [-o json]

istioctl analyze for the lab: Istio's analyzer messages (code, level, object, file:line) and the
lab's own checks (LAB0001 a route an earlier one shadows, LAB0002 weights that do not sum to 100).
  (no -f)        analyze the running lab (LAB_HOME)
  -f FILE|DIR    analyze manifests offline, no lab needed (istioctl analyze --use-kube=false)
  --use-lab      with -f: the running lab's objects with the files applied over them
Exit codes: 0 no message at or above --failure-threshold (default Warning), 1 the highest is an
Error, 3 the highest is a Warning, 4 the highest is Info (only with --failure-threshold Info),
2 usage error.`;

const EXIT: Record<AnalysisLevel, number> = { Error: 1, Warning: 3, Info: 4 };

export async function analyzeCommand(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    {
      filename: { type: 'string', short: 'f', multiple: true },
      namespace: { type: 'string', short: 'n' },
      'use-lab': { type: 'boolean' },
      'failure-threshold': { type: 'string' },
      output: { type: 'string', short: 'o' },
    },
    ANALYZE_USAGE,
  );
  if (values.help) {
    console.log(ANALYZE_USAGE);
    return 0;
  }
  const output = values.output as string | undefined;
  if (output !== undefined && output !== 'json') throw new LabError('LAB_ERR_USAGE', `-o must be json, got "${output}"`);
  const threshold = (values['failure-threshold'] as string | undefined) ?? 'Warning';
  if (!(threshold in LEVEL_ORDER)) throw new LabError('LAB_ERR_USAGE', `--failure-threshold must be Info, Warning or Error, got "${threshold}"`);
  const files = (values.filename as string[] | undefined) ?? [];
  const useLab = files.length === 0 || values['use-lab'] === true;
  if (values['use-lab'] && files.length === 0) throw new LabError('LAB_ERR_USAGE', '--use-lab needs -f FILE');
  const namespace = (values.namespace as string | undefined) ?? 'istioinaction';

  const objects = new Map<string, SourcedObject>();
  const keyOf = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  if (useLab) {
    const { items } = await connect().call<{ items: KubeObject[] }>('GET', '/objects');
    for (const o of items) objects.set(keyOf(o), { object: o });
  }
  const parsed = files.length ? loadManifestPaths(files) : { documents: [], errors: [] };
  // Each file on its own, as istioctl reads them: an object in two files is taken from the later one.
  const fileNames = [...new Set(parsed.documents.map((d) => d.source.file))];
  const errors = [...parsed.errors];
  const warnings: ConfigWarning[] = [];
  for (const f of fileNames) {
    const docs = parsed.documents.filter((d) => d.source.file === f);
    const v = validateDocuments(docs, { defaultNamespace: namespace });
    errors.push(...v.errors);
    warnings.push(...v.warnings);
    const originals = new Map(docs.map((d) => [d.source, d.object] as const));
    for (const o of v.objects) {
      const src = o.source as SourcedObject['source'] & object;
      objects.set(keyOf(o.object), { object: o.object, source: src, original: originals.get(o.source) ?? o.object });
    }
  }
  const messages = analyzeObjects([...objects.values()], { errors, warnings });
  const failing = messages.filter((m) => LEVEL_ORDER[m.level] >= LEVEL_ORDER[threshold as AnalysisLevel]);
  const top = failing.reduce<AnalysisLevel | undefined>((t, m) => (!t || LEVEL_ORDER[m.level] > LEVEL_ORDER[t] ? m.level : t), undefined);
  const what = files.length ? `${files.join(', ')}${values['use-lab'] ? ' over the running lab' : ''}` : 'the running lab';
  if (output === 'json') {
    console.log(JSON.stringify(messages, null, 2));
  } else if (messages.length === 0) {
    console.log(`\u2714 No validation issues found when analyzing ${what}.`);
  } else {
    for (const m of messages) console.log(formatMessage(m));
    if (top) console.error(`Error: Analyzers found issues when analyzing ${what}.\nSee https://istio.io/v1.16/docs/reference/config/analysis for more information about causes and resolutions.`);
  }
  return top ? EXIT[top] : 0;
}
