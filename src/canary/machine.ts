/**
 * Flagger's canary state machine (pkg/controller/scheduler.go), one tick at a time and pure: the
 * controller observes the world, calls `tick`, carries out the returned actions and records the
 * events. Phases: Initializing -> Initialized -> (new revision) Progressing -> Promoting ->
 * Finalising -> Succeeded, or -> Failed on too many failed checks or a missed progress deadline.
 */
import type { CanarySpec } from './spec.js';

export type Phase = 'Initializing' | 'Initialized' | 'Progressing' | 'Promoting' | 'Finalising' | 'Succeeded' | 'Failed';

export interface CanaryState {
  phase: Phase;
  canaryWeight: number;
  failedChecks: number;
  iterations: number;
  /** Template hash of the target revision being (or last) analysed. */
  lastAppliedSpec?: string;
  lastPromotedSpec?: string;
  /** When the current rollout started (progress deadline), ms. */
  progressStartedAt?: number;
  lastTransitionTime?: string;
}

export interface CheckResult {
  name: string;
  /** NaN: no data. */
  value: number;
  ok: boolean;
  /** Flagger's "Halt ..." message for a failure. */
  message?: string;
}

export interface Observation {
  now: number;
  targetRevision: string;
  /** The primary runs the template it should and is fully rolled out. */
  primaryReady: boolean;
  /** The target (canary) Deployment has replicas and all of them are ready. */
  canaryReady: boolean;
}

export type Action =
  | { type: 'initialize' }
  | { type: 'scaleTarget'; replicas: 'primary' | 0 }
  | { type: 'setWeight'; weight: number }
  | { type: 'promote' };

export interface TickResult {
  state: CanaryState;
  actions: Action[];
  events: string[];
}

export function initialState(): CanaryState {
  return { phase: 'Initializing', canaryWeight: 0, failedChecks: 0, iterations: 0 };
}

export function tick(spec: CanarySpec, prev: CanaryState, obs: Observation, runChecks: () => CheckResult[]): TickResult {
  const state: CanaryState = { ...prev };
  const actions: Action[] = [];
  const events: string[] = [];
  const target = `${spec.target}.${spec.namespace}`;
  const canary = `${spec.name}.${spec.namespace}`;
  const primary = `${spec.target}-primary.${spec.namespace}`;
  const setPhase = (p: Phase) => {
    if (state.phase !== p) state.lastTransitionTime = new Date(obs.now).toISOString();
    state.phase = p;
  };
  const setWeight = (w: number) => {
    if (state.canaryWeight !== w) state.lastTransitionTime = new Date(obs.now).toISOString();
    state.canaryWeight = w;
    actions.push({ type: 'setWeight', weight: w });
  };
  const rollback = (why: string) => {
    events.push(why, `Canary failed! Scaling down ${target}`);
    setWeight(0);
    actions.push({ type: 'scaleTarget', replicas: 0 });
    setPhase('Failed');
  };

  switch (prev.phase) {
    case 'Initializing': {
      actions.push({ type: 'initialize' });
      if (!obs.primaryReady) {
        events.push(`${primary} not ready: waiting for rollout to finish`);
        break;
      }
      actions.push({ type: 'scaleTarget', replicas: 0 });
      setWeight(0);
      state.lastAppliedSpec = obs.targetRevision;
      state.lastPromotedSpec = obs.targetRevision;
      events.push(`Initialization done! ${canary}`);
      setPhase('Initialized');
      break;
    }
    case 'Initialized':
    case 'Succeeded':
    case 'Failed': {
      if (obs.targetRevision === prev.lastAppliedSpec) break;
      events.push(`New revision detected! Scaling up ${target}`);
      actions.push({ type: 'scaleTarget', replicas: 'primary' });
      state.lastAppliedSpec = obs.targetRevision;
      state.failedChecks = 0;
      state.iterations = 0;
      state.canaryWeight = 0;
      state.progressStartedAt = obs.now;
      setPhase('Progressing');
      break;
    }
    case 'Progressing': {
      if (obs.targetRevision !== prev.lastAppliedSpec) {
        // A new revision during analysis restarts it.
        events.push(`New revision detected! Restarting analysis for ${target}`);
        setWeight(0);
        actions.push({ type: 'scaleTarget', replicas: 'primary' });
        state.lastAppliedSpec = obs.targetRevision;
        state.failedChecks = 0;
        state.iterations = 0;
        state.progressStartedAt = obs.now;
        break;
      }
      if (prev.failedChecks >= spec.threshold) {
        rollback(`Rolling back ${target} failed checks threshold reached ${prev.failedChecks}`);
        break;
      }
      if (!obs.canaryReady) {
        if (obs.now - (prev.progressStartedAt ?? obs.now) > spec.progressDeadlineMs) {
          rollback(`Canary ${target} progress deadline exceeded: ${target} not ready`);
        } else {
          events.push(`${target} not ready: waiting for rollout to finish`);
        }
        break;
      }
      if (prev.canaryWeight === 0) {
        events.push(`Starting canary analysis for ${target}`);
        const first = spec.steps[0] ?? spec.maxWeight;
        setWeight(first);
        events.push(`Advance ${canary} canary weight ${first}`);
        break;
      }
      const failures = runChecks().filter((c) => !c.ok);
      if (failures.length > 0) {
        state.failedChecks = prev.failedChecks + 1;
        for (const f of failures) events.push(f.message ?? `Halt ${canary} advancement ${f.name} check failed`);
        break;
      }
      state.iterations = prev.iterations + 1;
      if (prev.canaryWeight >= spec.maxWeight || spec.steps.indexOf(prev.canaryWeight) === spec.steps.length - 1) {
        events.push(`Copying ${target} template spec to ${primary}`);
        actions.push({ type: 'promote' });
        setPhase('Promoting');
        break;
      }
      const next = spec.steps.find((w) => w > prev.canaryWeight) ?? spec.maxWeight;
      setWeight(next);
      events.push(`Advance ${canary} canary weight ${next}`);
      break;
    }
    case 'Promoting': {
      if (!obs.primaryReady) {
        events.push(`${primary} not ready: waiting for rollout to finish`);
        break;
      }
      events.push('Routing all traffic to primary');
      setWeight(0);
      setPhase('Finalising');
      break;
    }
    case 'Finalising': {
      events.push(`Promotion completed! Scaling down ${target}`);
      actions.push({ type: 'scaleTarget', replicas: 0 });
      state.lastPromotedSpec = prev.lastAppliedSpec;
      setPhase('Succeeded');
      break;
    }
  }
  return { state, actions, events };
}
