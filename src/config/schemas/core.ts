/**
 * Kubernetes core kinds the lab serves (Namespace, ServiceAccount, Service, ConfigMap, apps/v1
 * Deployment) and ObjectMeta. Field names follow the Kubernetes API (k8s.io/api) so that strict
 * field validation reports typos; the parts of PodSpec the lab does not use (volumes, probes,
 * affinity, ...) are accepted without looking inside. Rules follow the API server's validation
 * (pkg/apis/core/validation, pkg/apis/apps/validation).
 */
import {
  checkLabelValue,
  checkObjectName,
  checkQualifiedKey,
  DNS1123_LABEL_MESSAGE,
  isDns1123Label,
  isDns1123Subdomain,
} from '../rules.js';
import {
  any,
  arr,
  bool,
  fieldPath,
  indexPath,
  int,
  int32,
  intOrString,
  isPlainObject,
  map,
  obj,
  str,
  stringMap,
  strings,
  type ObjectSchema,
  type Reporter,
} from '../schema.js';

const labels = () => map(str({ check: checkLabelValue }), { keyCheck: checkQualifiedKey });

export const objectMeta: ObjectSchema = obj({
  name: str(),
  generateName: str(),
  namespace: str({
    check: (ns, path, r) => {
      if (!isDns1123Label(ns)) r.error(path, `invalid namespace ${JSON.stringify(ns)}: ${DNS1123_LABEL_MESSAGE}`);
    },
  }),
  labels: labels(),
  annotations: map(str(), { keyCheck: checkQualifiedKey }),
  uid: str(),
  resourceVersion: str(),
  generation: int32(),
  creationTimestamp: str(),
  deletionTimestamp: str(),
  deletionGracePeriodSeconds: int32(),
  ownerReferences: arr(any()),
  finalizers: strings(),
  managedFields: any(),
  selfLink: str(),
});

// ---- ports and names ------------------------------------------------------------------------

/** IANA_SVC_NAME: at most 15 lower-case alphanumerics or '-', at least one letter, no '--'. */
function isIanaSvcName(s: string): boolean {
  return s.length >= 1 && s.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s) && /[a-z]/.test(s) && !s.includes('--');
}

function checkPortNumber(n: number, path: string, r: Reporter): void {
  if (!(n >= 1 && n <= 65535)) r.error(path, `must be between 1 and 65535, inclusive, got ${n}`);
}

function checkIanaSvcName(v: string, path: string, r: Reporter): void {
  if (!isIanaSvcName(v)) {
    r.error(path, `invalid port name ${JSON.stringify(v)}: must be no more than 15 lower-case alphanumeric characters or '-', contain at least one letter, and not start or end with '-'`);
  }
}

/** `targetPort`: a port number, or the name of a container port (a quoted "3000" is a name, and invalid). */
export function checkNamedOrNumberedPort(v: number | string, path: string, r: Reporter): void {
  if (typeof v === 'number') checkPortNumber(v, path, r);
  else checkIanaSvcName(v, path, r);
}

const protocol = () => str({ enum: ['TCP', 'UDP', 'SCTP'] });

// ---- Pod template ---------------------------------------------------------------------------

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const FIELD_REF_PATHS = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];

const keyRef = () => obj({ key: str(), name: str(), optional: bool() }, { required: ['key'] });

const envVar = () =>
  obj(
    {
      name: str({
        check: (n, path, r) => {
          if (!ENV_NAME.test(n)) {
            r.error(path, `invalid environment variable name ${JSON.stringify(n)}: must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit`);
          }
        },
      }),
      value: str(),
      valueFrom: obj(
        {
          fieldRef: obj(
            {
              apiVersion: str(),
              fieldPath: str({
                check: (p, path, r) => {
                  if (FIELD_REF_PATHS.includes(p) || /^metadata\.(labels|annotations)\['[^']+'\]$/.test(p)) return;
                  r.error(path, `unsupported value ${JSON.stringify(p)} (supported values: ${FIELD_REF_PATHS.map((x) => JSON.stringify(x)).join(', ')}, metadata.labels['KEY'], metadata.annotations['KEY'])`);
                },
              }),
            },
            { required: ['fieldPath'] },
          ),
          resourceFieldRef: obj({ containerName: str(), divisor: any(), resource: str() }, { required: ['resource'] }),
          configMapKeyRef: keyRef(),
          secretKeyRef: keyRef(),
        },
        {
          check: (v, path, r) => {
            const set = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'].filter((k) => v[k] !== undefined && v[k] !== null);
            if (set.length !== 1) r.error(path, 'must specify exactly one of fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef');
          },
        },
      ),
    },
    {
      required: ['name'],
      check: (v, path, r) => {
        if (typeof v['value'] === 'string' && v['value'] !== '' && v['valueFrom'] !== undefined && v['valueFrom'] !== null) {
          r.error(fieldPath(path, 'valueFrom'), 'may not be specified when `value` is not empty');
        }
      },
    },
  );

const containerPort = () =>
  obj(
    {
      containerPort: int32({ check: checkPortNumber }),
      hostIP: str(),
      hostPort: int32({ check: checkPortNumber }),
      name: str({ check: checkIanaSvcName }),
      protocol: protocol(),
    },
    { required: ['containerPort'] },
  );

function uniqueBy(field: string, what: string) {
  return (items: unknown[], path: string, r: Reporter): void => {
    const seen = new Set<unknown>();
    items.forEach((it, i) => {
      if (!isPlainObject(it) || it[field] === undefined) return;
      if (seen.has(it[field])) r.error(fieldPath(indexPath(path, i), field), `duplicate ${what} ${JSON.stringify(it[field])}`);
      seen.add(it[field]);
    });
  };
}

const profile = () =>
  obj({ localhostProfile: str(), type: str({ enum: ['Localhost', 'RuntimeDefault', 'Unconfined'] }) }, { required: ['type'] });

/** A container's SecurityContext (k8s.io/api core/v1), field for field: the book sets `privileged`. */
const securityContext = () =>
  obj({
    allowPrivilegeEscalation: bool(),
    appArmorProfile: profile(),
    capabilities: obj({ add: strings(), drop: strings() }),
    privileged: bool(),
    procMount: str({ enum: ['Default', 'Unmasked'] }),
    readOnlyRootFilesystem: bool(),
    runAsGroup: int(),
    runAsNonRoot: bool(),
    runAsUser: int(),
    seLinuxOptions: obj({ level: str(), role: str(), type: str(), user: str() }),
    seccompProfile: profile(),
    windowsOptions: obj({ gmsaCredentialSpec: str(), gmsaCredentialSpecName: str(), hostProcess: bool(), runAsUserName: str() }),
  });

const container = () =>
  obj(
    {
      args: strings(),
      command: strings(),
      env: arr(envVar()),
      envFrom: arr(any()),
      image: str(),
      imagePullPolicy: str({ enum: ['Always', 'IfNotPresent', 'Never'] }),
      lifecycle: any(),
      livenessProbe: any(),
      name: str({
        check: (n, path, r) => {
          if (!isDns1123Label(n)) r.error(path, `invalid container name ${JSON.stringify(n)}: ${DNS1123_LABEL_MESSAGE}`);
        },
      }),
      ports: arr(containerPort(), { check: uniqueBy('name', 'port name') }),
      readinessProbe: any(),
      resizePolicy: any(),
      resources: any(),
      restartPolicy: str(),
      securityContext: securityContext(),
      startupProbe: any(),
      stdin: bool(),
      stdinOnce: bool(),
      terminationMessagePath: str(),
      terminationMessagePolicy: str({ enum: ['File', 'FallbackToLogsOnError'] }),
      tty: bool(),
      volumeDevices: any(),
      volumeMounts: any(),
      workingDir: str(),
    },
    { required: ['name', 'image'] },
  );

const podSpec = () =>
  obj(
    {
      activeDeadlineSeconds: any(),
      affinity: any(),
      automountServiceAccountToken: bool(),
      containers: arr(container(), { minItems: 1, check: uniqueBy('name', 'container name') }),
      dnsConfig: any(),
      dnsPolicy: str(),
      enableServiceLinks: bool(),
      ephemeralContainers: any(),
      hostAliases: any(),
      hostIPC: bool(),
      hostNetwork: bool(),
      hostPID: bool(),
      hostUsers: bool(),
      hostname: str(),
      imagePullSecrets: any(),
      initContainers: arr(container()),
      nodeName: str(),
      nodeSelector: stringMap(),
      os: any(),
      overhead: any(),
      preemptionPolicy: str(),
      priority: int32(),
      priorityClassName: str(),
      readinessGates: any(),
      resourceClaims: any(),
      resources: any(),
      restartPolicy: str({ enum: ['Always', 'OnFailure', 'Never'] }),
      runtimeClassName: str(),
      schedulerName: str(),
      schedulingGates: any(),
      securityContext: any(),
      serviceAccount: str(),
      serviceAccountName: str(),
      setHostnameAsFQDN: bool(),
      shareProcessNamespace: bool(),
      subdomain: str(),
      terminationGracePeriodSeconds: any(),
      tolerations: any(),
      topologySpreadConstraints: any(),
      volumes: any(),
    },
    { required: ['containers'] },
  );

const labelSelector = () =>
  obj({
    matchLabels: labels(),
    matchExpressions: arr(
      obj(
        { key: str(), operator: str({ enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }), values: strings() },
        { required: ['key', 'operator'] },
      ),
    ),
  });

/** Whether `selector` (matchLabels and matchExpressions) selects a pod with `podLabels`. */
export function selectorMatches(selector: Record<string, unknown>, podLabels: Record<string, unknown>): boolean {
  const ml = isPlainObject(selector['matchLabels']) ? selector['matchLabels'] : {};
  for (const [k, v] of Object.entries(ml)) if (podLabels[k] !== v) return false;
  const exprs = Array.isArray(selector['matchExpressions']) ? selector['matchExpressions'] : [];
  for (const e of exprs) {
    if (!isPlainObject(e)) continue;
    const key = String(e['key']);
    const values = Array.isArray(e['values']) ? e['values'] : [];
    const has = key in podLabels;
    switch (e['operator']) {
      case 'In':
        if (!has || !values.includes(podLabels[key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(podLabels[key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

export const deploymentSpec: ObjectSchema = obj(
  {
    minReadySeconds: int32({ minimum: 0 }),
    paused: bool(),
    progressDeadlineSeconds: int32({ minimum: 0 }),
    replicas: int32({ minimum: 0 }),
    revisionHistoryLimit: int32({ minimum: 0 }),
    selector: labelSelector(),
    strategy: obj({
      type: str({ enum: ['RollingUpdate', 'Recreate'] }),
      rollingUpdate: obj({ maxSurge: intOrString(), maxUnavailable: intOrString() }),
    }),
    template: obj({ metadata: objectMeta, spec: podSpec() }, { required: ['spec'] }),
  },
  {
    required: ['selector', 'template'],
    check: (spec, path, r) => {
      const selector = spec['selector'];
      const template = spec['template'];
      if (!isPlainObject(selector) || !isPlainObject(template)) return;
      const ml = isPlainObject(selector['matchLabels']) ? selector['matchLabels'] : {};
      const me = Array.isArray(selector['matchExpressions']) ? selector['matchExpressions'] : [];
      if (Object.keys(ml).length === 0 && me.length === 0) {
        r.error(fieldPath(path, 'selector'), 'empty selector is invalid for deployment');
        return;
      }
      const meta = isPlainObject(template['metadata']) ? template['metadata'] : {};
      const podLabels = isPlainObject(meta['labels']) ? meta['labels'] : {};
      if (!selectorMatches(selector, podLabels)) {
        r.error(fieldPath(path, 'template.metadata.labels'), '`selector` does not match template `labels`');
      }
      const podSpecValue = isPlainObject(template['spec']) ? template['spec'] : {};
      const rp = podSpecValue['restartPolicy'];
      if (rp !== undefined && rp !== null && rp !== 'Always') {
        r.error(fieldPath(path, 'template.spec.restartPolicy'), `unsupported value ${JSON.stringify(rp)} (supported values: "Always")`);
      }
    },
  },
);

export const serviceSpec: ObjectSchema = obj(
  {
    allocateLoadBalancerNodePorts: bool(),
    clusterIP: str(),
    clusterIPs: strings(),
    externalIPs: strings(),
    externalName: str(),
    externalTrafficPolicy: str({ enum: ['Cluster', 'Local'] }),
    healthCheckNodePort: int32(),
    internalTrafficPolicy: str({ enum: ['Cluster', 'Local'] }),
    ipFamilies: arr(str({ enum: ['IPv4', 'IPv6'] })),
    ipFamilyPolicy: str({ enum: ['SingleStack', 'PreferDualStack', 'RequireDualStack'] }),
    loadBalancerClass: str(),
    loadBalancerIP: str(),
    loadBalancerSourceRanges: strings(),
    ports: arr(
      obj(
        {
          appProtocol: str(),
          name: str({
            check: (n, path, r) => {
              if (!isDns1123Label(n)) r.error(path, `invalid port name ${JSON.stringify(n)}: ${DNS1123_LABEL_MESSAGE}`);
            },
          }),
          nodePort: int32({ check: checkPortNumber }),
          port: int32({ check: checkPortNumber }),
          protocol: protocol(),
          targetPort: intOrString({ check: checkNamedOrNumberedPort }),
        },
        { required: ['port'] },
      ),
      {
        check: (ports, path, r) => {
          uniqueBy('name', 'port name')(ports, path, r);
          if (ports.length > 1) {
            ports.forEach((p, i) => {
              if (isPlainObject(p) && (p['name'] === undefined || p['name'] === '')) {
                r.error(fieldPath(indexPath(path, i), 'name'), 'required field is missing (ports must be named when a Service has more than one)');
              }
            });
          }
        },
      },
    ),
    publishNotReadyAddresses: bool(),
    selector: labels(),
    sessionAffinity: str({ enum: ['None', 'ClientIP'] }),
    sessionAffinityConfig: any(),
    trafficDistribution: str(),
    type: str({ enum: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] }),
  },
  {
    check: (spec, path, r) => {
      const type = spec['type'] ?? 'ClusterIP';
      const ports = Array.isArray(spec['ports']) ? spec['ports'] : [];
      if (type === 'ExternalName') {
        if (typeof spec['externalName'] !== 'string' || !isDns1123Subdomain(spec['externalName'])) {
          r.error(fieldPath(path, 'externalName'), 'required field is missing (a valid DNS name for type ExternalName)');
        }
        return;
      }
      if (ports.length === 0) r.error(fieldPath(path, 'ports'), 'required field is missing');
      if (!isPlainObject(spec['selector']) || Object.keys(spec['selector']).length === 0) {
        r.warn(fieldPath(path, 'selector'), 'no selector: the Service gets no endpoints from pods');
      }
    },
  },
);

export const namespaceBody = { spec: obj({ finalizers: strings() }) };
export const serviceAccountBody = {
  automountServiceAccountToken: bool(),
  imagePullSecrets: arr(obj({ name: str() })),
  secrets: arr(any()),
};

const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]+$/;
function checkConfigMapKey(k: string, path: string, r: Reporter): void {
  if (k.length > 253 || !CONFIG_MAP_KEY.test(k)) {
    r.error(path, `invalid key ${JSON.stringify(k)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.'`);
  }
}
export const configMapBody = {
  data: map(str(), { keyCheck: checkConfigMapKey }),
  binaryData: map(
    str({
      check: (v, path, r) => {
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) r.error(path, 'must be base64-encoded');
      },
    }),
    { keyCheck: checkConfigMapKey },
  ),
  immutable: bool(),
};

/** Object-name rules per kind (the API server's ValidateObjectMeta name functions). */
export const NAME_RULES: Record<string, Parameters<typeof checkObjectName>[1]> = {
  Namespace: 'dns1123-label',
  Service: 'dns1035-label',
};
