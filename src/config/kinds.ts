/**
 * The kinds the lab serves, like the API server's discovery: group, versions, plural, short names
 * (kubectl's), scope. `lab get vs` and `lab apply -f` resolve kinds here.
 */
import { LabError } from '../shared/errors.js';
import { suggest } from './suggest.js';

export interface KindInfo {
  /** `Deployment`, `VirtualService`, ... */
  kind: string;
  /** API group; '' for the core group (`v1`). */
  group: string;
  /** Accepted versions, the preferred (storage) one first. */
  versions: readonly string[];
  /** Lower-case singular (`virtualservice`) and plural (`virtualservices`) resource names. */
  singular: string;
  plural: string;
  /** kubectl short names (`vs`, `svc`, ...). */
  shortNames: readonly string[];
  namespaced: boolean;
  /** Objects the lab makes itself; applying one is an error (`readOnlyReason` says why). */
  readOnly?: boolean;
  readOnlyReason?: string;
}

const ISTIO_NETWORKING_VERSIONS = ['v1', 'v1beta1', 'v1alpha3'] as const;

export const KINDS: readonly KindInfo[] = Object.freeze([
  { kind: 'Namespace', group: '', versions: ['v1'], singular: 'namespace', plural: 'namespaces', shortNames: ['ns'], namespaced: false },
  { kind: 'ServiceAccount', group: '', versions: ['v1'], singular: 'serviceaccount', plural: 'serviceaccounts', shortNames: ['sa'], namespaced: true },
  { kind: 'Service', group: '', versions: ['v1'], singular: 'service', plural: 'services', shortNames: ['svc'], namespaced: true },
  {
    kind: 'Pod',
    group: '',
    versions: ['v1'],
    singular: 'pod',
    plural: 'pods',
    shortNames: ['po'],
    namespaced: true,
    readOnly: true,
    readOnlyReason: 'Pods are created by the lab from Deployments; applying a Pod is not supported (apply a Deployment instead)',
  },
  { kind: 'ConfigMap', group: '', versions: ['v1'], singular: 'configmap', plural: 'configmaps', shortNames: ['cm'], namespaced: true },
  { kind: 'Deployment', group: 'apps', versions: ['v1'], singular: 'deployment', plural: 'deployments', shortNames: ['deploy'], namespaced: true },
  { kind: 'Gateway', group: 'networking.istio.io', versions: ISTIO_NETWORKING_VERSIONS, singular: 'gateway', plural: 'gateways', shortNames: ['gw'], namespaced: true },
  { kind: 'VirtualService', group: 'networking.istio.io', versions: ISTIO_NETWORKING_VERSIONS, singular: 'virtualservice', plural: 'virtualservices', shortNames: ['vs'], namespaced: true },
  { kind: 'DestinationRule', group: 'networking.istio.io', versions: ISTIO_NETWORKING_VERSIONS, singular: 'destinationrule', plural: 'destinationrules', shortNames: ['dr'], namespaced: true },
  { kind: 'ServiceEntry', group: 'networking.istio.io', versions: ISTIO_NETWORKING_VERSIONS, singular: 'serviceentry', plural: 'serviceentries', shortNames: ['se'], namespaced: true },
  { kind: 'Sidecar', group: 'networking.istio.io', versions: ISTIO_NETWORKING_VERSIONS, singular: 'sidecar', plural: 'sidecars', shortNames: [], namespaced: true },
  { kind: 'Canary', group: 'flagger.app', versions: ['v1beta1'], singular: 'canary', plural: 'canaries', shortNames: [], namespaced: true },
  { kind: 'MetricTemplate', group: 'flagger.app', versions: ['v1beta1'], singular: 'metrictemplate', plural: 'metrictemplates', shortNames: [], namespaced: true },
].map((k) => Object.freeze({ ...k, versions: Object.freeze([...k.versions]), shortNames: Object.freeze([...k.shortNames]) })));

/** `v1` for the core group, else `group/version`. */
export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** All accepted apiVersions of a kind, preferred first. */
export function apiVersionsOf(info: KindInfo): string[] {
  return info.versions.map((v) => apiVersionOf(info.group, v));
}

/** The preferred apiVersion (`networking.istio.io/v1`, `apps/v1`, `v1`). */
export function preferredApiVersion(info: KindInfo): string {
  return apiVersionOf(info.group, info.versions[0]!);
}

/** `group` of an apiVersion (`''` for core `v1`) and its version. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  if (slash < 0) return { group: '', version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** `Kind (apiVersion, apiVersion)` lines, for error messages. */
export function supportedKindsText(): string {
  return KINDS.map((k) => `${k.kind} (${apiVersionsOf(k).join(', ')})`).join(', ');
}

/** `name`, `name.group`, `name.version.group` with name = kind, singular, plural or short name. */
function names(info: KindInfo): string[] {
  return [info.kind.toLowerCase(), info.singular, info.plural, ...info.shortNames];
}

/**
 * Resolve a resource name as kubectl does for `kubectl get NAME` (case-insensitive): singular,
 * plural, short name or kind, optionally qualified as `NAME.GROUP` or `NAME.VERSION.GROUP`
 * (`vs`, `VirtualService`, `virtualservices.networking.istio.io`, `deploy.apps`,
 * `destinationrules.v1beta1.networking.istio.io`). Undefined when nothing matches.
 */
export function findKind(nameOrShort: string): KindInfo | undefined {
  const wanted = nameOrShort.trim().toLowerCase();
  if (!wanted) return undefined;
  const dot = wanted.indexOf('.');
  const base = dot < 0 ? wanted : wanted.slice(0, dot);
  const qualifier = dot < 0 ? undefined : wanted.slice(dot + 1);
  for (const info of KINDS) {
    if (!names(info).includes(base)) continue;
    if (qualifier === undefined) return info;
    if (qualifier === info.group) return info;
    // NAME.VERSION.GROUP (or NAME.VERSION for the core group).
    for (const v of info.versions) {
      if (qualifier === (info.group ? `${v}.${info.group}` : v)) return info;
    }
  }
  return undefined;
}

/** Like `findKind`, but an unknown name is a `LAB_ERR_UNKNOWN_KIND` error listing what is served. */
export function lookupKind(nameOrShort: string): KindInfo {
  const info = findKind(nameOrShort);
  if (info) return info;
  const hint = suggest(nameOrShort.toLowerCase(), KINDS.flatMap((k) => names(k)));
  throw new LabError(
    'LAB_ERR_UNKNOWN_KIND',
    `the server doesn't have a resource type "${nameOrShort}"${hint ? ` (did you mean "${hint}"?)` : ''}; ` +
      `supported: ${KINDS.map((k) => [k.plural, ...k.shortNames].join('/')).join(', ')}`,
  );
}

export type KindResolution = { ok: true; info: KindInfo } | { ok: false; message: string };

/**
 * The kind an object's `apiVersion` + `kind` denote, as the API server's RESTMapper resolves them:
 * both are case-sensitive. Never throws.
 */
export function resolveKind(apiVersion: unknown, kind: unknown): KindResolution {
  const missing: string[] = [];
  if (typeof apiVersion !== 'string' || apiVersion === '') missing.push('apiVersion not set');
  if (typeof kind !== 'string' || kind === '') missing.push('kind not set');
  if (missing.length > 0) return { ok: false, message: missing.join(', ') };
  const av = apiVersion as string;
  const k = kind as string;
  const { group, version } = splitApiVersion(av);
  const byKind = KINDS.find((info) => info.kind === k);
  if (byKind && byKind.group === group && byKind.versions.includes(version)) return { ok: true, info: byKind };

  const prefix = `no matches for kind "${k}" in version "${av}"`;
  if (byKind) {
    return { ok: false, message: `${prefix}: ${k} is served as ${apiVersionsOf(byKind).join(', ')}` };
  }
  const caseless = KINDS.find((info) => info.kind.toLowerCase() === k.toLowerCase());
  const hint = caseless?.kind ?? suggest(k, KINDS.map((info) => info.kind));
  return {
    ok: false,
    message: `${prefix}${hint ? ` (did you mean "${hint}"?)` : ''}; supported kinds: ${supportedKindsText()}`,
  };
}

/** The kind for an object's apiVersion + kind; unknown ones are a `LAB_ERR_UNKNOWN_KIND` error. */
export function kindForApiVersion(apiVersion: string, kind: string): KindInfo {
  const r = resolveKind(apiVersion, kind);
  if (r.ok) return r.info;
  throw new LabError('LAB_ERR_UNKNOWN_KIND', r.message);
}
