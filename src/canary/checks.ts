/**
 * Flagger's metric checks (pkg/controller/scheduler_metrics.go): the builtin Istio ones
 * (pkg/metrics/observers/istio.go) and MetricTemplates, rendered with Flagger's template model and
 * run through the lab's metrics provider, judged against `thresholdRange` with Flagger's messages.
 */
import type { KubeObject } from '../model/objects.js';
import { BUILTIN_QUERIES, isBuiltin, renderInterval, renderQuery, TemplateError, type TemplateModel } from '../metrics/flagger-queries.js';
import { NoValuesError, singleValue, type MetricsProvider } from '../metrics/provider.js';
import type { CheckResult } from './machine.js';
import type { CanarySpec, MetricCheck } from './spec.js';

/** Finds a MetricTemplate by namespace and name (the store). */
export type TemplateLookup = (namespace: string, name: string) => KubeObject | undefined;

export interface MetricTemplateSpec {
  provider: { type: string; address?: string };
  query: string;
}

export function templateModel(spec: CanarySpec, m: MetricCheck, timeScale: number): TemplateModel {
  return {
    name: spec.name,
    namespace: spec.namespace,
    target: spec.target,
    service: spec.apex,
    ingress: '',
    interval: renderInterval(m.interval, m.intervalMs, timeScale),
    variables: m.templateVariables ?? {},
  };
}

/** The PromQL a check runs, or why it cannot run (Flagger's render/lookup error events). */
export function checkQuery(spec: CanarySpec, m: MetricCheck, templates: TemplateLookup, timeScale: number): { query: string } | { error: string } {
  const model = templateModel(spec, m, timeScale);
  let template: string;
  if (m.templateRef) {
    const ns = m.templateRef.namespace ?? spec.namespace;
    const t = templates(ns, m.templateRef.name);
    if (!t) return { error: `Metric template ${m.templateRef.name}.${ns} error: metrictemplate.flagger.app "${m.templateRef.name}" not found` };
    const tspec = t.spec as unknown as MetricTemplateSpec;
    if (tspec.provider.type !== 'prometheus') return { error: `Metric template ${m.templateRef.name}.${ns} provider ${tspec.provider.type} error: the lab has no ${tspec.provider.type}; only prometheus templates run` };
    template = tspec.query;
    try {
      return { query: renderQuery(template, model) };
    } catch (err) {
      if (err instanceof TemplateError) return { error: `Metric template ${m.templateRef.name}.${ns} query render error: ${err.message}` };
      throw err;
    }
  }
  if (m.query !== undefined) template = m.query;
  else if (isBuiltin(m.name)) template = BUILTIN_QUERIES[m.name]!;
  else return { error: `Metric ${m.name} has no templateRef and is not builtin (request-success-rate, request-duration)` };
  try {
    return { query: renderQuery(template, model) };
  } catch (err) {
    if (err instanceof TemplateError) return { error: `Metric ${m.name} query render error: ${err.message}` };
    throw err;
  }
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s` : `${Math.round(ms)}ms`;
}

/** What a query gave: a value, no values, or a failure. */
export type QueryOutcome = { value: number } | { noValues: string } | { failed: string };

/** Flagger's verdict and message for one check (pure). */
export function judge(spec: CanarySpec, m: MetricCheck, outcome: QueryOutcome): CheckResult {
  const canary = `${spec.name}.${spec.namespace}`;
  const builtin = isBuiltin(m.name) && !m.templateRef && m.query === undefined;
  if ('failed' in outcome) {
    return { name: m.name, value: NaN, ok: false, message: builtin ? `Prometheus query failed: ${outcome.failed}` : `Metric query failed for ${m.name}: ${outcome.failed}` };
  }
  if ('noValues' in outcome) {
    return {
      name: m.name,
      value: NaN,
      ok: false,
      message: builtin
        ? `Halt advancement no values found for istio metric ${m.name} probably ${spec.target}.${spec.namespace} is not receiving traffic: running query failed: no values found`
        : `Halt advancement no values found for custom metric: ${m.name}: no values found`,
    };
  }
  const value = builtin && m.name === 'request-duration' ? Math.trunc(outcome.value) : outcome.value;
  if (m.min !== undefined && value < m.min) {
    const what = builtin && m.name === 'request-success-rate' ? `success rate ${value.toFixed(2)}% < ${m.min}%` : `${m.name} ${value.toFixed(2)} < ${m.min}`;
    return { name: m.name, value, ok: false, message: `Halt ${canary} advancement ${what}` };
  }
  if (m.max !== undefined && value > m.max) {
    const what = builtin && m.name === 'request-duration' ? `request duration ${fmtMs(value)} > ${fmtMs(m.max)}` : `${m.name} ${value.toFixed(2)} > ${m.max}`;
    return { name: m.name, value, ok: false, message: `Halt ${canary} advancement ${what}` };
  }
  return { name: m.name, value, ok: true };
}

/**
 * Runs one check through the provider; `at`: the evaluation time (ms), the same for every check of
 * a tick so they judge the same window (default: the provider's now).
 */
export async function runCheck(spec: CanarySpec, m: MetricCheck, provider: MetricsProvider, templates: TemplateLookup, timeScale: number, at?: number): Promise<CheckResult> {
  const q = checkQuery(spec, m, templates, timeScale);
  if ('error' in q) return { name: m.name, value: NaN, ok: false, message: q.error };
  let outcome: QueryOutcome;
  try {
    outcome = { value: singleValue(await provider.query(q.query, at), q.query) };
  } catch (err) {
    outcome = err instanceof NoValuesError ? { noValues: err.message } : { failed: (err as Error).message };
  }
  return judge(spec, m, outcome);
}
