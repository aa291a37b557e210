/**
 * Flagger's semantics as pure functions: spec defaults, generated objects, the state machine's
 * transitions (table-driven) and the metric checks' verdicts and messages.
 */
import { describe, expect, it } from 'vitest';
import { checkQuery, judge, type QueryOutcome } from '../../../src/canary/checks.js';
import { NoValuesError, singleValue } from '../../../src/metrics/provider.js';
import { evaluateExpr, type Scrape } from '../../../src/metrics/promql/evaluate.js';
import { parsePromQL } from '../../../src/metrics/promql/parse.js';
import { primaryDeployment, routingObjects, virtualService } from '../../../src/canary/generate.js';
import { initialState, tick, type CanaryState, type CheckResult, type Observation } from '../../../src/canary/machine.js';
import { readCanary, type CanarySpec, type MetricCheck } from '../../../src/canary/spec.js';
import type { KubeObject } from '../../../src/model/objects.js';
import type { PromSample } from '../../../src/metrics/prometheus-text.js';
import { objects } from '../../helpers/sim.js';

/** A builtin check over two scrapes a minute apart: Flagger's query, run by the embedded evaluator, judged. */
function evaluate(spec: CanarySpec, m: MetricCheck, before: readonly PromSample[], after: readonly PromSample[]): CheckResult {
  const windowMs = 60_000;
  const q = checkQuery(spec, { ...m, interval: '1m', intervalMs: windowMs }, () => undefined, 1);
  if ('error' in q) throw new Error(q.error);
  const history: Scrape[] = [{ at: 0, samples: [...before] }, { at: windowMs, samples: [...after] }];
  let outcome: QueryOutcome;
  try {
    outcome = { value: singleValue(evaluateExpr(parsePromQL(q.query), history, windowMs), q.query) };
  } catch (err) {
    if (!(err instanceof NoValuesError)) throw err;
    outcome = { noValues: err.message };
  }
  return judge(spec, m, outcome);
}

const [canaryObj] = objects(`
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: { name: catalog-release }
spec:
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: catalog }
  progressDeadlineSeconds: 60
  service: { name: catalog, port: 80, targetPort: 3000, gateways: [mesh], hosts: [catalog] }
  analysis:
    interval: 45s
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    match: [{ sourceLabels: { app: webapp } }]
    metrics:
    - { name: request-success-rate, thresholdRange: { min: 99 }, interval: 1m }
    - { name: request-duration, thresholdRange: { max: 500 }, interval: 30s }
`) as [KubeObject];
const [target] = objects(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: catalog, labels: { app: catalog } }
spec:
  replicas: 1
  selector: { matchLabels: { app: catalog } }
  template:
    metadata: { labels: { app: catalog, version: v1 } }
    spec: { containers: [{ name: catalog, image: istioinaction/catalog:latest, ports: [{ containerPort: 3000 }] }] }
`) as [KubeObject];
const spec = readCanary(canaryObj);

describe('Canary spec', () => {
  it('reads the book’s Canary with Flagger defaults', () => {
    expect(spec).toMatchObject({ target: 'catalog', apex: 'catalog', port: 80, targetPort: 3000, intervalMs: 45_000, threshold: 5, maxWeight: 50, steps: [10, 20, 30, 40, 50], progressDeadlineMs: 60_000 });
    expect(spec.metrics).toEqual([
      { name: 'request-success-rate', min: 99, max: undefined, interval: '1m', intervalMs: 60_000 },
      { name: 'request-duration', min: undefined, max: 500, interval: '30s', intervalMs: 30_000 },
    ]);
  });

  it('steps may overshoot maxWeight (max 50, step 20 -> 20, 40, 60); defaults: 60s, threshold 1, maxWeight 100', () => {
    const [o] = objects(`
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: { name: c }
spec:
  targetRef: { name: catalog }
  service: { port: 80 }
  analysis: { maxWeight: 50, stepWeight: 20 }
`);
    expect(readCanary(o!)).toMatchObject({ steps: [20, 40, 60], intervalMs: 60_000, threshold: 1, progressDeadlineMs: 600_000 });
  });
});

describe('generated objects', () => {
  it('primary: the target template with app=<app>-primary', () => {
    const p = primaryDeployment(spec, target, 1);
    expect(p.metadata.name).toBe('catalog-primary');
    expect(p.spec).toMatchObject({ replicas: 1, selector: { matchLabels: { app: 'catalog-primary' } }, template: { metadata: { labels: { app: 'catalog-primary', version: 'v1' } } } });
    expect(p.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Canary', name: 'catalog-release' })]);
  });

  it('services and DestinationRules', () => {
    const objs = routingObjects(spec, target).map((o) => `${o.kind}/${o.metadata.name}:${JSON.stringify((o.spec as { selector?: unknown }).selector ?? (o.spec as { host?: string }).host)}`);
    expect(objs).toEqual([
      'Service/catalog:{"app":"catalog-primary"}',
      'Service/catalog-primary:{"app":"catalog-primary"}',
      'Service/catalog-canary:{"app":"catalog"}',
      'DestinationRule/catalog-canary:"catalog-canary"',
      'DestinationRule/catalog-primary:"catalog-primary"',
    ]);
  });

  it('the VirtualService: the match route carries the weights, the default route stays on the primary', () => {
    expect(virtualService(spec, 30).spec).toEqual({
      hosts: ['catalog'],
      gateways: ['mesh'],
      http: [
        { match: [{ sourceLabels: { app: 'webapp' } }], route: [{ destination: { host: 'catalog-primary' }, weight: 70 }, { destination: { host: 'catalog-canary' }, weight: 30 }] },
        { route: [{ destination: { host: 'catalog-primary' }, weight: 100 }] },
      ],
    });
  });
});

const pass: CheckResult[] = [{ name: 'request-success-rate', value: 100, ok: true }];
const fail: CheckResult[] = [{ name: 'request-success-rate', value: 50, ok: false, message: 'Halt catalog-release.istioinaction advancement success rate 50.00% < 99%' }];
const obs = (o: Partial<Observation> = {}): Observation => ({ now: 1_000_000, targetRevision: 'rev2', primaryReady: true, canaryReady: true, ...o });
const st = (o: Partial<CanaryState>): CanaryState => ({ ...initialState(), ...o });

describe('state machine', () => {
  it.each([
    ['Initializing, primary not ready: wait', st({}), obs({ primaryReady: false }), pass, { phase: 'Initializing' }, ['initialize'], 'catalog-primary.istioinaction not ready: waiting for rollout to finish'],
    ['Initializing, primary ready: Initialized, target scaled to 0', st({}), obs({ targetRevision: 'rev1' }), pass, { phase: 'Initialized', canaryWeight: 0, lastAppliedSpec: 'rev1' }, ['initialize', 'scaleTarget', 'setWeight'], 'Initialization done! catalog-release.istioinaction'],
    ['Initialized, same revision: nothing', st({ phase: 'Initialized', lastAppliedSpec: 'rev2' }), obs(), pass, { phase: 'Initialized' }, [], undefined],
    ['Initialized, new revision: Progressing, scale up', st({ phase: 'Initialized', lastAppliedSpec: 'rev1' }), obs(), pass, { phase: 'Progressing', canaryWeight: 0, lastAppliedSpec: 'rev2' }, ['scaleTarget'], 'New revision detected! Scaling up catalog.istioinaction'],
    ['Progressing, canary not ready: wait', st({ phase: 'Progressing', lastAppliedSpec: 'rev2', progressStartedAt: 1_000_000 }), obs({ canaryReady: false }), pass, { phase: 'Progressing' }, [], 'catalog.istioinaction not ready: waiting for rollout to finish'],
    ['Progressing, deadline missed: Failed', st({ phase: 'Progressing', lastAppliedSpec: 'rev2', progressStartedAt: 0 }), obs({ canaryReady: false }), pass, { phase: 'Failed', canaryWeight: 0 }, ['setWeight', 'scaleTarget'], 'Canary catalog.istioinaction progress deadline exceeded: catalog.istioinaction not ready'],
    ['Progressing at 0: start, weight 10, no checks yet', st({ phase: 'Progressing', lastAppliedSpec: 'rev2' }), obs(), fail, { phase: 'Progressing', canaryWeight: 10, failedChecks: 0 }, ['setWeight'], 'Starting canary analysis for catalog.istioinaction'],
    ['Progressing, checks pass: advance', st({ phase: 'Progressing', lastAppliedSpec: 'rev2', canaryWeight: 20 }), obs(), pass, { canaryWeight: 30, iterations: 1 }, ['setWeight'], 'Advance catalog-release.istioinaction canary weight 30'],
    ['Progressing, a check fails: halt, failedChecks + 1', st({ phase: 'Progressing', lastAppliedSpec: 'rev2', canaryWeight: 20, failedChecks: 2 }), obs(), fail, { canaryWeight: 20, failedChecks: 3 }, [], 'Halt catalog-release.istioinaction advancement success rate 50.00% < 99%'],
    ['Progressing, threshold reached: rollback', st({ phase: 'Progressing', lastAppliedSpec: 'rev2', canaryWeight: 20, failedChecks: 5 }), obs(), pass, { phase: 'Failed', canaryWeight: 0 }, ['setWeight', 'scaleTarget'], 'Rolling back catalog.istioinaction failed checks threshold reached 5'],
    ['Progressing at maxWeight, checks pass: promote', st({ phase: 'Progressing', lastAppliedSpec: 'rev2', canaryWeight: 50 }), obs(), pass, { phase: 'Promoting', canaryWeight: 50 }, ['promote'], 'Copying catalog.istioinaction template spec to catalog-primary.istioinaction'],
    ['Progressing, another new revision: restart the analysis', st({ phase: 'Progressing', lastAppliedSpec: 'rev1', canaryWeight: 30, failedChecks: 2 }), obs(), pass, { phase: 'Progressing', canaryWeight: 0, failedChecks: 0, lastAppliedSpec: 'rev2' }, ['setWeight', 'scaleTarget'], 'New revision detected! Restarting analysis for catalog.istioinaction'],
    ['Promoting, primary rolled out: route all to primary', st({ phase: 'Promoting', lastAppliedSpec: 'rev2', canaryWeight: 50 }), obs(), pass, { phase: 'Finalising', canaryWeight: 0 }, ['setWeight'], 'Routing all traffic to primary'],
    ['Promoting, primary still rolling out: wait', st({ phase: 'Promoting', lastAppliedSpec: 'rev2', canaryWeight: 50 }), obs({ primaryReady: false }), pass, { phase: 'Promoting', canaryWeight: 50 }, [], 'catalog-primary.istioinaction not ready: waiting for rollout to finish'],
    ['Finalising: Succeeded, canary scaled to 0', st({ phase: 'Finalising', lastAppliedSpec: 'rev2' }), obs(), pass, { phase: 'Succeeded', lastPromotedSpec: 'rev2' }, ['scaleTarget'], 'Promotion completed! Scaling down catalog.istioinaction'],
    ['Failed, new revision: Progressing again', st({ phase: 'Failed', lastAppliedSpec: 'rev1', failedChecks: 5 }), obs(), pass, { phase: 'Progressing', failedChecks: 0 }, ['scaleTarget'], 'New revision detected! Scaling up catalog.istioinaction'],
  ] as const)('%s', (_name, prev, o, checks, want, actions, event) => {
    const r = tick(spec, prev, o, () => [...checks]);
    expect(r.state).toMatchObject(want);
    expect(r.actions.map((a) => a.type)).toEqual(actions);
    if (event) expect(r.events).toContain(event);
    else expect(r.events).toEqual([]);
  });

  it('a whole successful rollout goes 0, 10..50, Promoting, Finalising, Succeeded', () => {
    let s = st({ phase: 'Initialized', lastAppliedSpec: 'rev1' });
    const trail: string[] = [];
    for (let i = 0; i < 12 && s.phase !== 'Succeeded'; i++) {
      s = tick(spec, s, obs(), () => pass).state;
      trail.push(`${s.phase} ${s.canaryWeight}`);
    }
    expect(trail).toEqual(['Progressing 0', 'Progressing 10', 'Progressing 20', 'Progressing 30', 'Progressing 40', 'Progressing 50', 'Promoting 50', 'Finalising 0', 'Succeeded 0']);
  });
});

function counter(code: string, value: number, workload = 'catalog'): PromSample {
  return { name: 'istio_requests_total', labels: { reporter: 'destination', destination_workload: workload, destination_workload_namespace: 'istioinaction', response_code: code }, value };
}

describe('metric checks', () => {
  const successRate = spec.metrics[0]!;
  it('success rate over the window, with Flagger’s halt message', () => {
    const before = [counter('200', 100), counter('500', 0)];
    expect(evaluate(spec, successRate, before, [counter('200', 200), counter('500', 0)])).toMatchObject({ ok: true, value: 100 });
    expect(evaluate(spec, successRate, before, [counter('200', 150), counter('500', 50)])).toEqual({ name: 'request-success-rate', value: 50, ok: false, message: 'Halt catalog-release.istioinaction advancement success rate 50.00% < 99%' });
  });

  it('no traffic to the canary: no values found, a failure', () => {
    const r = evaluate(spec, successRate, [], [counter('200', 10, 'catalog-primary')]);
    expect(r.ok).toBe(false);
    expect(r.message).toBe('Halt advancement no values found for istio metric request-success-rate probably catalog.istioinaction is not receiving traffic: running query failed: no values found');
  });
});
