/**
 * Flagger's Canary and MetricTemplate (flagger.app/v1beta1, fluxcd/flagger v1.44 CRDs), plus the
 * rules Flagger applies when it reads them (durations, weights) and the limits of the lab's canary
 * controller (Istio provider, Deployment targets).
 */
import { parseGoDuration } from '../duration.js';
import { checkGatewayReference, checkLabelValue, checkQualifiedKey, checkRegex, checkVirtualServiceHost } from '../rules.js';
import {
  any,
  arr,
  bool,
  fieldPath,
  indexPath,
  int,
  intOrString,
  isPlainObject,
  map,
  num,
  obj,
  str,
  stringMap,
  strings,
  type ObjectSchema,
  type Reporter,
} from '../schema.js';
import { checkNamedOrNumberedPort } from './core.js';

/** Flagger's minimum analysis interval: shorter ones are raised to it (`GetAnalysisInterval`). */
export const FLAGGER_MIN_INTERVAL_MS = 10_000;

/** The CRD's `pattern: ^[0-9]+(m|s)` and a Go duration Flagger can parse. */
function checkFlaggerDuration(s: string, path: string, r: Reporter): void {
  const ms = parseGoDuration(s);
  if (ms === undefined || !/^[0-9]+(m|s)/.test(s)) {
    r.error(path, `invalid duration ${JSON.stringify(s)} (use seconds or minutes: 45s, 1m, 1m30s)`);
  } else if (ms <= 0) {
    r.error(path, `duration must be positive, got ${JSON.stringify(s)}`);
  }
}

const labels = () => map(str({ check: checkLabelValue }), { keyCheck: checkQualifiedKey });
const ref = (kinds?: string[]) =>
  obj({ apiVersion: str(), kind: str(kinds ? { enum: kinds } : {}), name: str() }, { required: ['apiVersion', 'kind', 'name'] });

const stringMatch = (withSuffix: boolean) => {
  const keys = withSuffix ? ['exact', 'prefix', 'suffix', 'regex'] : ['exact', 'prefix', 'regex'];
  const props: Record<string, ReturnType<typeof str>> = { exact: str(), prefix: str(), regex: str({ check: checkRegex }) };
  if (withSuffix) props['suffix'] = str();
  return obj(props, { exclusive: [keys] });
};

/** Istio's HTTPMatchRequest as Flagger's CRD declares it (`spec.service.match`). */
const istioMatch = () =>
  obj({
    authority: stringMatch(false),
    gateways: arr(str({ check: checkGatewayReference })),
    headers: map(stringMatch(false)),
    ignoreUriCase: bool(),
    method: stringMatch(false),
    name: str(),
    port: int(),
    queryParams: map(stringMatch(false)),
    scheme: stringMatch(false),
    sourceLabels: stringMap(),
    sourceNamespace: str(),
    uri: stringMatch(false),
    withoutHeaders: map(stringMatch(false)),
  });

const metadataOverride = () => obj({ labels: stringMap(), annotations: stringMap() });

const serviceSpec = () =>
  obj(
    {
      name: str(),
      port: int({
        check: (n, path, r) => {
          if (n < 1 || n > 65535) r.error(path, `port number ${n} must be in the range 1..65535`);
        },
      }),
      portName: str(),
      appProtocol: str(),
      trafficDistribution: str({ enum: ['PreferClose', 'PreferSameZone', 'PreferSameNode'] }),
      targetPort: intOrString({ check: checkNamedOrNumberedPort }),
      portDiscovery: bool(),
      headless: bool(),
      timeout: str({ check: checkFlaggerDuration }),
      backendTimeout: str(),
      meshName: str(),
      backends: strings(),
      hosts: arr(str({ check: checkVirtualServiceHost })),
      delegation: bool(),
      match: arr(istioMatch()),
      retries: obj({ attempts: int({ minimum: 0 }), perTryTimeout: str(), retryOn: str() }),
      rewrite: obj({ uri: str(), authority: str(), type: str() }),
      mirror: any(),
      headers: any(),
      gateways: arr(str({ check: checkGatewayReference })),
      gatewayRefs: any(),
      corsPolicy: any(),
      trafficPolicy: any(),
      apex: metadataOverride(),
      primary: metadataOverride(),
      canary: metadataOverride(),
      unmanagedMetadata: obj({ annotations: strings(), labels: strings() }),
    },
    { required: ['port'] },
  );

const BUILTIN_METRICS = ['request-success-rate', 'request-duration'];

const metric = () =>
  obj(
    {
      name: str(),
      interval: str({ check: checkFlaggerDuration }),
      threshold: num(),
      thresholdRange: obj(
        { min: num(), max: num() },
        {
          check: (t, path, r) => {
            if (typeof t['min'] === 'number' && typeof t['max'] === 'number' && t['min'] > t['max']) {
              r.error(path, `min ${t['min']} is greater than max ${t['max']}: no value can pass`);
            }
            if (t['min'] === undefined && t['max'] === undefined) r.error(path, 'one of min, max is required');
          },
        },
      ),
      query: str(),
      templateRef: obj({ name: str(), namespace: str() }, { required: ['name'] }),
      templateVariables: stringMap(),
    },
    {
      required: ['name'],
      check: (m, path, r) => {
        const name = m['name'];
        const custom = m['templateRef'] !== undefined || m['query'] !== undefined;
        if (typeof name === 'string' && !BUILTIN_METRICS.includes(name) && !custom) {
          r.error(fieldPath(path, 'templateRef'), `required field is missing (metric ${JSON.stringify(name)} is not builtin: give a templateRef; builtin metrics are ${BUILTIN_METRICS.join(', ')})`);
        }
        if (m['thresholdRange'] === undefined && m['threshold'] === undefined) {
          r.warn(fieldPath(path, 'thresholdRange'), 'no thresholdRange: the check always passes');
        }
      },
    },
  );

const analysisMatch = () =>
  obj({
    headers: map(stringMatch(true)),
    queryParams: map(stringMatch(false)),
    sourceLabels: labels(),
  });

const count = (min: number) => int({ minimum: min });

const analysis = () =>
  obj(
    {
      interval: str({ check: checkFlaggerDuration }),
      iterations: count(0),
      threshold: count(0),
      maxWeight: int({ minimum: 0, maximum: 100 }),
      stepWeight: int({ minimum: 1, maximum: 100 }),
      stepWeights: arr(int({ minimum: 1, maximum: 100 }), {
        minItems: 1,
        check: (ws, path, r) => {
          for (let i = 1; i < ws.length; i++) {
            const a = ws[i - 1];
            const b = ws[i];
            if (typeof a === 'number' && typeof b === 'number' && b <= a) {
              r.error(indexPath(path, i), `step weights must increase: ${b} after ${a}`);
            }
          }
        },
      }),
      stepWeightPromotion: int({ minimum: 0, maximum: 100 }),
      mirror: bool(),
      mirrorWeight: int({ minimum: 0, maximum: 100 }),
      primaryReadyThreshold: int({ minimum: 0, maximum: 100 }),
      canaryReadyThreshold: int({ minimum: 0, maximum: 100 }),
      match: arr(analysisMatch()),
      metrics: arr(metric()),
      alerts: arr(
        obj(
          { name: str(), severity: str({ enum: ['', 'info', 'warn', 'error'] }), providerRef: obj({ name: str(), namespace: str() }, { required: ['name'] }) },
          { required: ['providerRef', 'name'] },
        ),
      ),
      webhooks: arr(
        obj(
          {
            name: str(),
            type: str({
              enum: ['', 'confirm-rollout', 'pre-rollout', 'rollout', 'confirm-promotion', 'post-rollout', 'event', 'rollback', 'confirm-traffic-increase'],
            }),
            muteAlert: bool(),
            url: str(),
            timeout: str({ check: checkFlaggerDuration }),
            retries: int({ minimum: 0 }),
            disableTLS: bool(),
            metadata: stringMap(),
          },
          { required: ['name', 'url'] },
        ),
      ),
      sessionAffinity: obj(
        {
          cookieName: str(),
          primaryCookieName: str(),
          domain: str(),
          httpOnly: bool(),
          maxAge: int(),
          partitioned: bool(),
          path: str(),
          sameSite: str({ enum: ['Strict', 'Lax', 'None'] }),
          secure: bool(),
        },
        { required: ['cookieName'] },
      ),
    },
    {
      required: ['interval', 'threshold'],
      exclusive: [['iterations', 'stepWeight', 'stepWeights']],
      check: (a, path, r) => {
        const strategy = ['iterations', 'stepWeight', 'stepWeights'].filter((k) => a[k] !== undefined);
        if (strategy.length === 0) r.error(path, 'one of iterations, stepWeight, stepWeights is required');
        if (typeof a['interval'] === 'string') {
          const ms = parseGoDuration(a['interval']);
          if (ms !== undefined && ms > 0 && ms < FLAGGER_MIN_INTERVAL_MS) {
            r.warn(fieldPath(path, 'interval'), `interval ${a['interval']} is below Flagger's minimum: 10s is used`);
          }
        }
        if (typeof a['stepWeight'] === 'number' && typeof a['maxWeight'] === 'number' && a['stepWeight'] > a['maxWeight']) {
          r.warn(fieldPath(path, 'stepWeight'), `stepWeight ${a['stepWeight']} is above maxWeight ${a['maxWeight']}: the first step overshoots it`);
        }
        if (a['threshold'] === 0) r.warn(fieldPath(path, 'threshold'), 'threshold 0 is taken as 1');
      },
    },
  );

export const canarySpec: ObjectSchema = obj(
  {
    provider: str({
      enum: ['apisix', 'appmesh', 'appmesh:v1beta2', 'contour', 'gatewayapi:v1', 'gatewayapi:v1beta1', 'gloo', 'istio', 'knative', 'kubernetes', 'kuma', 'linkerd', 'nginx', 'osm', 'skipper', 'smi:v1alpha1', 'smi:v1alpha2', 'smi:v1alpha3', 'traefik'],
      check: (p, path, r) => {
        if (p !== 'istio') r.error(path, `provider ${JSON.stringify(p)} is not supported by the lab's canary controller (only "istio")`);
      },
    }),
    metricsServer: str(),
    progressDeadlineSeconds: int({ minimum: 0 }),
    targetRef: obj(
      {
        apiVersion: str(),
        kind: str({
          enum: ['DaemonSet', 'Deployment', 'Service'],
          check: (k, path, r) => {
            if (k !== 'Deployment') r.error(path, `targetRef kind ${JSON.stringify(k)} is not supported by the lab's canary controller (only "Deployment")`);
          },
        }),
        name: str(),
      },
      {
        required: ['apiVersion', 'kind', 'name'],
        check: (t, path, r) => {
          if (t['kind'] === 'Deployment' && typeof t['apiVersion'] === 'string' && t['apiVersion'] !== 'apps/v1') {
            r.error(fieldPath(path, 'apiVersion'), `unsupported value ${JSON.stringify(t['apiVersion'])} for a Deployment (supported values: "apps/v1")`);
          }
        },
      },
    ),
    autoscalerRef: any(),
    ingressRef: ref(['Ingress']),
    routeRef: ref(['ApisixRoute']),
    upstreamRef: any(),
    service: serviceSpec(),
    skipAnalysis: bool(),
    revertOnDeletion: bool(),
    suspend: bool(),
    analysis: analysis(),
  },
  {
    required: ['targetRef', 'service', 'analysis'],
    check: (v, path, r) => {
      for (const k of ['autoscalerRef', 'ingressRef', 'routeRef', 'upstreamRef']) {
        if (v[k] !== undefined) r.warn(fieldPath(path, k), `${k} is ignored by the lab's canary controller`);
      }
    },
  },
);

export const metricTemplateSpec: ObjectSchema = obj(
  {
    provider: obj(
      {
        type: str({
          enum: ['prometheus', 'influxdb', 'datadog', 'externalmetrics', 'stackdriver', 'cloudwatch', 'newrelic', 'graphite', 'dynatrace', 'keptn', 'splunk'],
        }),
        address: str(),
        headers: map(strings()),
        secretRef: obj({ name: str() }, { required: ['name'] }),
        region: str(),
        insecureSkipVerify: bool(),
      },
      { required: ['type'] },
    ),
    query: str(),
  },
  { required: ['provider', 'query'] },
);
