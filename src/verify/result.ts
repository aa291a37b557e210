import type { Scenario } from './scenario.js';

export interface CaseResult {
  name: string;
  ok: boolean;
  failures: string[];
  /** What was seen, in one line (or the split table). */
  observed: string;
  ms: number;
  line?: number;
}

export interface ScenarioResult {
  scenario: Scenario;
  mode: 'offline' | 'live';
  cases: CaseResult[];
  /** Manifests that did not load or apply: every case fails with it. */
  setupError?: string;
  ms: number;
}

export function passed(r: ScenarioResult): boolean {
  return !r.setupError && r.cases.every((c) => c.ok);
}
