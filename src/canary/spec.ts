/**
 * Flagger's Canary spec with Flagger's defaults (fluxcd/flagger v1.44, pkg/apis/flagger/v1beta1):
 * analysis interval 60s, threshold 1, maxWeight 100, metric interval 1m, progress deadline 600s.
 */
import type { KubeObject } from '../model/objects.js';
import { parseGoDuration as parseDuration } from '../config/duration.js';

export interface MetricCheck {
  name: string;
  min?: number;
  max?: number;
  /** As written (Flagger's `{{ interval }}`), and in ms. */
  interval: string;
  intervalMs: number;
  templateRef?: { name: string; namespace?: string };
  templateVariables?: Record<string, string>;
  /** The deprecated inline PromQL (`metrics[].query`). */
  query?: string;
}

export interface CanarySpec {
  name: string;
  namespace: string;
  target: string;
  /** The apex service name (`service.name`, default the target's name). */
  apex: string;
  port: number;
  targetPort: number | string;
  portName: string;
  gateways: string[];
  hosts: string[];
  intervalMs: number;
  threshold: number;
  maxWeight: number;
  /** The weights to step through, e.g. [10, 20, 30, 40, 50]. */
  steps: number[];
  match: Array<Record<string, unknown>>;
  metrics: MetricCheck[];
  progressDeadlineMs: number;
}

interface RawCanary {
  targetRef: { name: string };
  progressDeadlineSeconds?: number;
  service: { name?: string; port: number; targetPort?: number | string; portName?: string; gateways?: string[]; hosts?: string[] };
  analysis?: {
    interval?: string;
    threshold?: number;
    maxWeight?: number;
    stepWeight?: number;
    stepWeights?: number[];
    match?: Array<Record<string, unknown>>;
    metrics?: Array<{
      name: string;
      interval?: string;
      thresholdRange?: { min?: number; max?: number };
      templateRef?: { name: string; namespace?: string };
      templateVariables?: Record<string, string>;
      query?: string;
    }>;
  };
}

export function readCanary(obj: KubeObject): CanarySpec {
  const raw = obj.spec as unknown as RawCanary;
  const a = raw.analysis ?? {};
  const maxWeight = a.maxWeight ?? 100;
  let steps: number[];
  if (a.stepWeights?.length) steps = [...a.stepWeights];
  else {
    // Flagger steps by stepWeight until it reaches maxWeight (it may overshoot: max 50 step 20 -> 20, 40, 60).
    const step = a.stepWeight ?? 10;
    steps = [];
    for (let w = step; ; w += step) {
      steps.push(Math.min(w, 100));
      if (w >= maxWeight || w >= 100) break;
    }
  }
  return {
    name: obj.metadata.name,
    namespace: obj.metadata.namespace ?? 'default',
    target: raw.targetRef.name,
    apex: raw.service.name ?? raw.targetRef.name,
    port: raw.service.port,
    targetPort: raw.service.targetPort ?? raw.service.port,
    portName: raw.service.portName ?? 'http',
    gateways: raw.service.gateways ?? [],
    hosts: raw.service.hosts ?? [],
    intervalMs: parseDuration(a.interval ?? '60s') ?? 60_000,
    threshold: a.threshold ?? 1,
    maxWeight,
    steps,
    match: a.match ?? [],
    metrics: (a.metrics ?? []).map((m) => ({
      name: m.name,
      min: m.thresholdRange?.min,
      max: m.thresholdRange?.max,
      interval: m.interval ?? '1m',
      intervalMs: parseDuration(m.interval ?? '1m') ?? 60_000,
      ...(m.templateRef ? { templateRef: m.templateRef } : {}),
      ...(m.templateVariables ? { templateVariables: m.templateVariables } : {}),
      ...(m.query !== undefined ? { query: m.query } : {}),
    })),
    progressDeadlineMs: (raw.progressDeadlineSeconds ?? 600) * 1000,
  };
}
