/**
 * A canary as the dashboard shows it: phase and weight now, the weight over time (from the
 * controller's events, which carry their times, so the history is there however late the
 * dashboard started), each check's value against its threshold as the lab's metrics provider
 * answered the controller's query for it (canary-checks.ts asks; the answers are inputs here), judged
 * with the controller's own verdict function, and the events.
 */
import type { KubeObject } from '../model/objects.js';
import type { ProviderName } from '../metrics/provider.js';
import { judge, type QueryOutcome } from '../canary/checks.js';
import { readCanary } from '../canary/spec.js';

/** What the provider answered for one check: its rendered query's outcome, or why it cannot run. */
export type CheckAnswer = { query: string; outcome: QueryOutcome } | { error: string };

export interface CanaryEvent {
  at: number;
  msg: string;
}

export interface WeightPoint {
  at: number;
  weight: number;
}

export interface CheckView {
  name: string;
  /** NaN: no data in the window. */
  value: number;
  min?: number;
  max?: number;
  ok: boolean;
  /** The window the check looks at, in (lab-scaled) ms. */
  windowMs: number;
  /** Why it fails or has no value (Flagger's message). */
  message?: string;
  /** The PromQL sent to the provider (rendered as the controller renders it). */
  query?: string;
}

export interface CanaryView {
  name: string;
  namespace: string;
  target: string;
  phase: string;
  weight: number;
  failedChecks: number;
  threshold: number;
  maxWeight: number;
  steps: number[];
  weights: WeightPoint[];
  checks: CheckView[];
  /** The metrics provider that answered the checks' queries (undefined: none asked yet). */
  provider?: ProviderName;
  events: CanaryEvent[];
}

/** `name.namespace`, as Flagger names a canary in its events. */
export function canaryKey(c: KubeObject): string {
  return `${c.metadata.name}.${c.metadata.namespace ?? 'default'}`;
}

/** Flagger's log lines (`{"ts":..., "msg":..., "canary":"name.ns"}`) for one canary; bad lines are skipped. */
export function parseCanaryEvents(lines: readonly string[], canary: string): CanaryEvent[] {
  const out: CanaryEvent[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as { ts?: string; msg?: string; canary?: string };
      if (e.canary !== canary || typeof e.msg !== 'string') continue;
      const at = Date.parse(e.ts ?? '');
      if (Number.isFinite(at)) out.push({ at, msg: e.msg });
    } catch {
      // a line being written as it is read, or not the controller's
    }
  }
  return out;
}

const ADVANCE = /canary weight (\d+)$/;
/** Events after which all traffic goes to the primary again. */
const TO_ZERO = [/^Routing all traffic to primary/, /^Canary failed!/, /^Starting canary analysis/, /^Initialization done!/];

/**
 * The canary's weight over time: a step at each "Advance ... canary weight N" (and back to 0 when
 * the controller routes everything to the primary), ending with the status' weight now.
 */
export function weightHistory(events: readonly CanaryEvent[], current: number, now: number): WeightPoint[] {
  const points: WeightPoint[] = [];
  const push = (at: number, weight: number) => {
    if (points.length && points[points.length - 1]!.weight === weight) return;
    points.push({ at, weight });
  };
  for (const e of events) {
    const m = ADVANCE.exec(e.msg);
    if (m) push(e.at, Number(m[1]));
    else if (TO_ZERO.some((r) => r.test(e.msg))) push(e.at, 0);
  }
  // The line runs on to now at the weight the status says (the newest word on it).
  points.push({ at: now, weight: current });
  return points;
}

export interface CanaryInput {
  canary: KubeObject;
  events: readonly CanaryEvent[];
  /** The provider's answers, one per check in the spec's order (fewer: not asked yet). */
  answers: readonly CheckAnswer[];
  provider?: ProviderName;
  now: number;
  timeScale: number;
}

export function canaryView(i: CanaryInput): CanaryView {
  const spec = readCanary(i.canary);
  const status = (i.canary.status ?? {}) as { phase?: string; canaryWeight?: number; failedChecks?: number };
  const checks = spec.metrics.map((m, k): CheckView => {
    const a = i.answers[k];
    const r = !a ? { value: NaN, ok: false, message: 'not queried yet' } : 'error' in a ? { value: NaN, ok: false, message: a.error } : judge(spec, m, a.outcome);
    return {
      name: m.name,
      value: r.value,
      ...(m.min !== undefined ? { min: m.min } : {}),
      ...(m.max !== undefined ? { max: m.max } : {}),
      // No value is no pass, whatever the thresholds (the controller halts on it).
      ok: r.ok && !Number.isNaN(r.value),
      // The window the controller's query covers: the check's interval, lab-scaled.
      windowMs: m.intervalMs / i.timeScale,
      ...(r.message ? { message: r.message } : {}),
      ...(a && 'query' in a ? { query: a.query } : {}),
    };
  });
  const weight = status.canaryWeight ?? 0;
  return {
    name: spec.name,
    namespace: spec.namespace,
    target: spec.target,
    phase: status.phase ?? 'Initializing',
    weight,
    failedChecks: status.failedChecks ?? 0,
    threshold: spec.threshold,
    maxWeight: spec.maxWeight,
    steps: spec.steps,
    weights: weightHistory(i.events, weight, i.now),
    checks,
    ...(i.provider ? { provider: i.provider } : {}),
    events: i.events.slice(-30),
  };
}
