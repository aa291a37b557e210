/**
 * Field-level rules shared by the schemas: Kubernetes names and labels (apimachinery's
 * `validation`), Istio host names and gateway references (pilot's `config/validation`), durations,
 * ports, percentages and regexes.
 */
import { parseGoDuration } from './duration.js';
import { checkRe2Syntax } from './re2.js';
import type { Reporter } from './schema.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** Istio's host labels allow upper case (`labels.IsDNS1123Label` in istio/pkg/config/labels). */
const ISTIO_HOST_LABEL = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}
export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}
export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}
export function isIPv6(s: string): boolean {
  if (!s.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(s)) return false;
  try {
    return new URL(`http://[${s}]/`).hostname.length > 0;
  } catch {
    return false;
  }
}
export function isIP(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}
/** `10.0.0.0/8`, `2001:db8::/32` or a plain address. */
export function isCidrOrIP(s: string): boolean {
  const [addr, bits, extra] = s.split('/');
  if (extra !== undefined || addr === undefined) return false;
  if (bits === undefined) return isIP(addr);
  if (!/^\d+$/.test(bits)) return false;
  const n = Number(bits);
  return (isIPv4(addr) && n <= 32) || (isIPv6(addr) && n <= 128);
}

// ---- Kubernetes object names and labels ------------------------------------------------------

export const DNS1123_LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (at most 63 characters)";
export const DNS1123_SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (at most 253 characters)";
export const DNS1035_LABEL_MESSAGE =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (at most 63 characters)";

export type NameRule = 'dns1123-subdomain' | 'dns1123-label' | 'dns1035-label';

export function checkObjectName(name: string, rule: NameRule, path: string, r: Reporter): void {
  const ok =
    rule === 'dns1123-subdomain'
      ? isDns1123Subdomain(name)
      : rule === 'dns1123-label'
        ? isDns1123Label(name)
        : name.length <= 63 && DNS1035_LABEL.test(name);
  if (ok) return;
  const why = rule === 'dns1123-subdomain' ? DNS1123_SUBDOMAIN_MESSAGE : rule === 'dns1123-label' ? DNS1123_LABEL_MESSAGE : DNS1035_LABEL_MESSAGE;
  r.error(path, `invalid value ${JSON.stringify(name)}: ${why}`);
}

/** Label and annotation keys: `[prefix/]name`, prefix a DNS subdomain, name a qualified name. */
export function checkQualifiedKey(key: string, path: string, r: Reporter): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) {
    r.error(path, `invalid key ${JSON.stringify(key)}: prefix part ${DNS1123_SUBDOMAIN_MESSAGE}`);
    return;
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    r.error(
      path,
      `invalid key ${JSON.stringify(key)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63 characters)`,
    );
  }
}

export function checkLabelValue(value: string, path: string, r: Reporter): void {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    r.error(
      path,
      `invalid label value ${JSON.stringify(value)}: must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63 characters)`,
    );
  }
}

// ---- Istio hosts -----------------------------------------------------------------------------

/** Why `host` is not a valid (optionally `*`-prefixed) DNS name, as Istio's ValidateWildcardDomain. */
export function wildcardDomainProblem(host: string): string | undefined {
  if (host.length === 0) return 'empty host name';
  if (host.length > 255) return `host ${JSON.stringify(host)} is longer than 255 characters`;
  let rest = host;
  if (rest === '*') return undefined;
  if (rest.startsWith('*.')) rest = rest.slice(2);
  else if (rest.startsWith('*')) rest = rest.slice(1);
  if (rest.endsWith('.')) rest = rest.slice(0, -1);
  for (const label of rest.split('.')) {
    if (label.length > 63 || !ISTIO_HOST_LABEL.test(label)) {
      return `domain name ${JSON.stringify(host)} invalid (label ${JSON.stringify(label)} invalid)`;
    }
  }
  return undefined;
}

export function checkWildcardDomain(host: string, path: string, r: Reporter): void {
  const p = wildcardDomainProblem(host);
  if (p) r.error(path, p);
}

/** VirtualService `hosts`: a DNS name (wildcards allowed) or an IP address. */
export function checkVirtualServiceHost(host: string, path: string, r: Reporter): void {
  if (isIP(host)) return;
  checkWildcardDomain(host, path, r);
}

/** `[namespace/]dnsName` (Gateway server hosts) or `namespace/dnsName` (Sidecar egress hosts). */
export function checkNamespacedHost(value: string, path: string, r: Reporter, namespaceRequired: boolean): void {
  const parts = value.split('/');
  if (parts.length > 2 || (namespaceRequired && parts.length !== 2)) {
    r.error(path, `host ${JSON.stringify(value)} must be of the form namespace/dnsName`);
    return;
  }
  if (parts.length === 2) {
    const ns = parts[0]!;
    if (ns !== '*' && ns !== '.' && ns !== '~' && !isDns1123Label(ns)) {
      r.error(path, `invalid namespace ${JSON.stringify(ns)} in host ${JSON.stringify(value)}: use *, ., ~ or a namespace name`);
      return;
    }
  }
  const host = parts[parts.length - 1]!;
  if (host === '*') return;
  const p = wildcardDomainProblem(host);
  if (p) r.error(path, p);
}

/** VirtualService `gateways[]`: `mesh`, a Gateway name, or `namespace/name`. */
export function checkGatewayReference(value: string, path: string, r: Reporter): void {
  if (value === 'mesh') return;
  const parts = value.split('/');
  if (parts.length > 2 || parts.some((p) => p.length === 0)) {
    r.error(path, `invalid gateway name ${JSON.stringify(value)}: use NAME or NAMESPACE/NAME`);
    return;
  }
  if (parts.length === 2 && !isDns1123Label(parts[0]!)) {
    r.error(path, `invalid gateway name ${JSON.stringify(value)}: namespace part is not a valid namespace name`);
    return;
  }
  const name = parts[parts.length - 1]!;
  if (!isDns1123Subdomain(name)) r.error(path, `invalid gateway name ${JSON.stringify(value)}: ${DNS1123_SUBDOMAIN_MESSAGE}`);
}

// ---- numbers, durations, regexes ------------------------------------------------------------

export function checkPort(n: number, path: string, r: Reporter): void {
  if (!(n >= 1 && n <= 65535)) r.error(path, `port number ${n} must be in the range 1..65535`);
}

export function checkPercent(n: number, path: string, r: Reporter): void {
  if (!(n >= 0 && n <= 100)) r.error(path, `percentage ${n} is not in range 0..100`);
}

/** Istio's durations (CEL `duration(self) >= duration('1ms')`). */
export function checkIstioDuration(s: string, path: string, r: Reporter): void {
  const ms = parseGoDuration(s);
  if (ms === undefined) r.error(path, `invalid duration ${JSON.stringify(s)} (use Go syntax: 300ms, 1.5s, 2m)`);
  else if (ms < 1) r.error(path, `must be a valid duration greater than 1ms, got ${JSON.stringify(s)}`);
}

/** A duration with no lower bound other than >= 0 (`idleTimeout`, `ttl`). */
export function checkDuration(s: string, path: string, r: Reporter): void {
  const ms = parseGoDuration(s);
  if (ms === undefined) r.error(path, `invalid duration ${JSON.stringify(s)} (use Go syntax: 300ms, 1.5s, 2m)`);
  else if (ms < 0) r.error(path, `duration must not be negative, got ${JSON.stringify(s)}`);
}

export function checkRegex(pattern: string, path: string, r: Reporter): void {
  const problem = checkRe2Syntax(pattern);
  if (problem) r.error(path, `invalid regex ${JSON.stringify(pattern)}: ${problem}`);
}

/** Istio's protocol names (`protocol.Parse`, case-insensitive). */
export const ISTIO_PROTOCOLS = ['HTTP', 'HTTPS', 'GRPC', 'GRPC-Web', 'HTTP2', 'HTTP_PROXY', 'TCP', 'TLS', 'UDP', 'Mongo', 'Redis', 'MySQL'] as const;

export function isIstioProtocol(p: string): boolean {
  return ISTIO_PROTOCOLS.some((x) => x.toLowerCase() === p.toLowerCase());
}

export function checkIstioProtocol(p: string, path: string, r: Reporter): void {
  if (!isIstioProtocol(p)) {
    r.error(path, `unsupported protocol ${JSON.stringify(p)} (supported: ${ISTIO_PROTOCOLS.join(', ')}; case-insensitive)`);
  }
}
