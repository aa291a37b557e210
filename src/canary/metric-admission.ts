/**
 * At `lab apply`: metric queries the lab's current metrics provider cannot run are refused with the
 * file, document, object and field, instead of failing every analysis later. With the embedded
 * provider that is PromQL beyond its evaluator; with any provider, a MetricTemplate whose provider
 * type is not Prometheus (the lab has no Datadog or CloudWatch) or whose template does not render.
 */
import { ConfigError, configErrorsToLabError } from '../config/errors.js';
import { renderQuery, TemplateError, type TemplateModel } from '../metrics/flagger-queries.js';
import type { MetricsProvider } from '../metrics/provider.js';
import { objectKey, type KubeObject, type SourceRef } from '../model/objects.js';
import type { ObjectStore } from '../store/store.js';
import { templateModel, type MetricTemplateSpec } from './checks.js';
import { readCanary } from './spec.js';

/** For a template checked on its own: variables render as a number, which fits anywhere in PromQL a value does. */
function sampleModel(namespace: string): TemplateModel {
  const variables = new Proxy({} as Record<string, string>, { get: () => '0' });
  return { name: 'canary', namespace, target: 'target', service: 'target', ingress: '', interval: '1m', variables };
}

function problem(query: string, model: TemplateModel, provider: MetricsProvider): string | undefined {
  let rendered: string;
  try {
    rendered = renderQuery(query, model);
  } catch (err) {
    if (err instanceof TemplateError) return err.message;
    throw err;
  }
  const why = provider.refuses(rendered);
  return why === undefined ? undefined : `the ${provider.name} metrics provider cannot run this query: ${why} (a real Prometheus runs any PromQL: lab install prometheus)`;
}

export function checkMetricQueries(objects: readonly KubeObject[], documents: ReadonlyArray<{ object: KubeObject; source: SourceRef }>, store: ObjectStore, provider: MetricsProvider, timeScale: number): void {
  const sourceOf = new Map<string, SourceRef>();
  objects.forEach((o, i) => {
    const src = documents[i]?.source;
    if (src) sourceOf.set(objectKey(o.kind, o.metadata.namespace, o.metadata.name), src);
  });
  const errors: ConfigError[] = [];
  const at = (o: KubeObject, path: string, message: string) => {
    const src = sourceOf.get(objectKey(o.kind, o.metadata.namespace, o.metadata.name)) ?? { file: '', index: 0 };
    errors.push(new ConfigError({ file: src.file, index: src.index, kind: o.kind, name: o.metadata.name, path }, message));
  };
  const applied = new Map(objects.filter((o) => o.kind === 'MetricTemplate').map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o] as const));
  const template = (ns: string, name: string) => applied.get(`${ns}/${name}`) ?? store.get('MetricTemplate', ns, name);

  for (const o of objects) {
    if (o.kind === 'MetricTemplate') {
      const spec = o.spec as unknown as MetricTemplateSpec;
      if (spec.provider.type !== 'prometheus') {
        at(o, 'spec.provider.type', `provider type "${spec.provider.type}" is not available in the lab: its templates run on the lab's metrics provider, which speaks PromQL (use type prometheus)`);
        continue;
      }
      const why = problem(spec.query, sampleModel(o.metadata.namespace ?? 'default'), provider);
      if (why) at(o, 'spec.query', why);
    }
    if (o.kind === 'Canary') {
      const spec = readCanary(o);
      spec.metrics.forEach((m, i) => {
        const model = templateModel(spec, m, timeScale);
        if (m.query !== undefined) {
          const why = problem(m.query, model, provider);
          if (why) at(o, `spec.analysis.metrics[${i}].query`, why);
        } else if (m.templateRef) {
          // A template not there yet is Flagger's to report at analysis time, as it does.
          const t = template(m.templateRef.namespace ?? spec.namespace, m.templateRef.name);
          const tspec = t?.spec as unknown as MetricTemplateSpec | undefined;
          if (!tspec || tspec.provider.type !== 'prometheus') return;
          const why = problem(tspec.query, model, provider);
          if (why) at(o, `spec.analysis.metrics[${i}].templateRef`, `MetricTemplate ${m.templateRef.name}: ${why}`);
        }
      });
    }
  }
  if (errors.length > 0) throw configErrorsToLabError(errors);
}
