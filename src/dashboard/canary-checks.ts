/**
 * A canary's checks as the controller runs them, asked of the lab's metrics provider: each check's
 * query rendered by the controller's own `checkQuery` (Flagger's builtin queries and MetricTemplates,
 * the same template model and lab-scaled `{{ interval }}`), sent through the provider, so the page
 * shows what the controller judges, whichever provider that is (embedded or Prometheus).
 */
import { checkQuery } from '../canary/checks.js';
import { readCanary } from '../canary/spec.js';
import type { KubeObject } from '../model/objects.js';
import { NoValuesError, singleValue, type MetricsProvider } from '../metrics/provider.js';
import type { CheckAnswer } from './canary-view.js';

/**
 * One answer per check of the canary, in the spec's order; `at` (ms) is the same for every check,
 * as the controller evaluates a tick's checks at one time, so they judge the same window.
 */
export async function askCanaryChecks(canary: KubeObject, objects: readonly KubeObject[], provider: MetricsProvider, timeScale: number, at: number): Promise<CheckAnswer[]> {
  const spec = readCanary(canary);
  const templates = (ns: string, name: string) => objects.find((o) => o.kind === 'MetricTemplate' && (o.metadata.namespace ?? 'default') === ns && o.metadata.name === name);
  return Promise.all(
    spec.metrics.map(async (m): Promise<CheckAnswer> => {
      const q = checkQuery(spec, m, templates, timeScale);
      if ('error' in q) return q;
      try {
        return { query: q.query, outcome: { value: singleValue(await provider.query(q.query, at), q.query) } };
      } catch (err) {
        return { query: q.query, outcome: err instanceof NoValuesError ? { noValues: err.message } : { failed: (err as Error).message } };
      }
    }),
  );
}
