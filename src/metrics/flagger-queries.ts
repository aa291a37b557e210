/**
 * Flagger's builtin Istio checks as the PromQL it sends (fluxcd/flagger pkg/metrics/observers/
 * istio.go), and the rendering of query templates (builtin ones and MetricTemplates) with Flagger's
 * template functions (MetricTemplateModel: name, namespace, target, service, ingress, interval,
 * variables). Flagger renders with Go's text/template; the lab implements the `{{ fn }}` and
 * `{{ variables.key }}` actions those templates use and refuses any other action.
 */

export const BUILTIN_QUERIES: Readonly<Record<string, string>> = {
  'request-success-rate': `
    sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload=~"{{ target }}",response_code!~"5.*"}[{{ interval }}]))
    /
    sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload=~"{{ target }}"}[{{ interval }}]))
    * 100`,
  'request-duration': `
    histogram_quantile(0.99,
      sum(rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload=~"{{ target }}"}[{{ interval }}])) by (le)
    )`,
};

export function isBuiltin(metric: string): boolean {
  return Object.hasOwn(BUILTIN_QUERIES, metric);
}

/** Flagger's MetricTemplateModel. */
export interface TemplateModel {
  name: string;
  namespace: string;
  target: string;
  service: string;
  ingress: string;
  interval: string;
  variables: Record<string, string>;
}

export class TemplateError extends Error {}

/**
 * Renders `{{ fn }}`, `{{- fn -}}` (whitespace trimming) and `{{ variables.key }}`. A missing
 * variable renders as Go's `<no value>`, as Flagger would send it; an unknown function is Go's
 * "function not defined" error.
 */
export function renderQuery(template: string, model: TemplateModel): string {
  let out = '';
  let pos = 0;
  for (;;) {
    const open = template.indexOf('{{', pos);
    if (open < 0) return out + template.slice(pos);
    const close = template.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError(`template: unclosed action at offset ${open}`);
    let before = template.slice(pos, open);
    let action = template.slice(open + 2, close);
    let next = close + 2;
    if (action.startsWith('- ')) {
      before = before.trimEnd();
      action = action.slice(1);
    }
    if (action.endsWith(' -')) {
      action = action.slice(0, -1);
      while (next < template.length && /\s/.test(template[next]!)) next++;
    }
    out += before + evalAction(action.trim(), model, open);
    pos = next;
  }
}

function evalAction(action: string, model: TemplateModel, at: number): string {
  const v = /^variables\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(action);
  if (v) return model.variables[v[1]!] ?? '<no value>';
  if (/^(name|namespace|target|service|ingress|interval)$/.test(action)) return model[action as Exclude<keyof TemplateModel, 'variables'>];
  const fn = /^[A-Za-z_][A-Za-z0-9_]*/.exec(action)?.[0];
  if (fn && !['if', 'range', 'with', 'define', 'template', 'block', 'end', 'else'].includes(fn)) throw new TemplateError(`template: function "${fn}" not defined (offset ${at}; Flagger's are name, namespace, target, service, ingress, interval, variables)`);
  throw new TemplateError(`template: action {{ ${action} }} at offset ${at} is not supported (the lab renders {{ fn }} and {{ variables.key }})`);
}

/**
 * The `{{ interval }}` a query sees: the metric's interval as written, or, when the lab runs faster
 * than real time, the scaled window in milliseconds (PromQL accepts `1333ms`).
 */
export function renderInterval(text: string, ms: number, timeScale: number): string {
  if (timeScale === 1) return text;
  return `${Math.max(1, Math.round(ms / timeScale))}ms`;
}
