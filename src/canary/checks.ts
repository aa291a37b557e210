/**
 * Flagger's builtin Istio checks (pkg/metrics/observers/istio.go) over scrapes of the canary's own
 * sidecars (reporter=destination, destination_workload = the target), with Flagger's messages.
 */
import type { PromSample } from '../metrics/prometheus-text.js';
import { requestDuration, requestSuccessRate } from '../metrics/promql-lite.js';
import type { CheckResult } from './machine.js';
import type { CanarySpec, MetricCheck } from './spec.js';

export interface Scrape {
  at: number;
  samples: PromSample[];
}

/** The scrape that starts a window ending now: the newest one at least `windowMs` old, else none. */
export function windowStart(history: readonly Scrape[], now: number, windowMs: number): Scrape | undefined {
  let found: Scrape | undefined;
  for (const s of history) if (s.at <= now - windowMs) found = s;
  return found;
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s` : `${Math.round(ms)}ms`;
}

export function evaluate(spec: CanarySpec, m: MetricCheck, before: readonly PromSample[], after: readonly PromSample[]): CheckResult {
  const target = { namespace: spec.namespace, workload: spec.target };
  const canary = `${spec.name}.${spec.namespace}`;
  let value: number;
  if (m.name === 'request-success-rate') value = requestSuccessRate(before, after, target);
  else if (m.name === 'request-duration') value = requestDuration(before, after, target);
  else return { name: m.name, value: NaN, ok: false, message: `Halt advancement: metric ${m.name} is not a builtin Istio metric and MetricTemplates are not supported by the lab` };
  if (Number.isNaN(value)) {
    return {
      name: m.name,
      value,
      ok: false,
      message: `Halt advancement no values found for istio metric ${m.name} probably ${spec.target}.${spec.namespace} is not receiving traffic: running query failed: no values found`,
    };
  }
  if (m.min !== undefined && value < m.min) {
    const what = m.name === 'request-success-rate' ? `success rate ${value.toFixed(2)}% < ${m.min}%` : `${m.name} ${value} < ${m.min}`;
    return { name: m.name, value, ok: false, message: `Halt ${canary} advancement ${what}` };
  }
  if (m.max !== undefined && value > m.max) {
    const what = m.name === 'request-duration' ? `request duration ${fmtMs(value)} > ${fmtMs(m.max)}` : `${m.name} ${value} > ${m.max}`;
    return { name: m.name, value, ok: false, message: `Halt ${canary} advancement ${what}` };
  }
  return { name: m.name, value, ok: true };
}
