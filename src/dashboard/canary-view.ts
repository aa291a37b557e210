/**
 * A canary as the dashboard shows it: phase and weight now, the weight over time (from the
 * controller's events, which carry their times, so the history is there however late the
 * dashboard started), each check's value against its threshold (evaluated as the controller does,
 * over the dashboard's own scrapes), and the events.
 */
import type { KubeObject } from '../model/objects.js';
import type { PromSample } from '../metrics/prometheus-text.js';
import { evaluate } from '../canary/checks.js';
import { readCanary } from '../canary/spec.js';
import { windowStart, type Scrape } from './scrapes.js';

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
  events: CanaryEvent[];
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
  /** Scrapes of every proxy, oldest first; the last is now's. */
  scrapes: readonly Scrape[];
  now: number;
  timeScale: number;
}

export function canaryView(i: CanaryInput): CanaryView {
  const spec = readCanary(i.canary);
  const status = (i.canary.status ?? {}) as { phase?: string; canaryWeight?: number; failedChecks?: number };
  const latest: readonly PromSample[] = i.scrapes.length ? i.scrapes[i.scrapes.length - 1]!.samples : [];
  const checks = spec.metrics.map((m) => {
    const windowMs = m.intervalMs / i.timeScale;
    // Flagger's query for the check, run by the embedded provider's evaluator over the window the
    // controller uses (its interval, lab-scaled), judged against the threshold as the controller does.
    const r = evaluate(spec, m, windowStart(i.scrapes, i.now, windowMs)?.samples ?? [], latest);
    const value = r.value;
    const ok = r.ok && !Number.isNaN(value);
    return { name: m.name, value, ...(m.min !== undefined ? { min: m.min } : {}), ...(m.max !== undefined ? { max: m.max } : {}), ok, windowMs, ...(r.message ? { message: r.message } : {}) };
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
    events: i.events.slice(-30),
  };
}
