/**
 * Docker labels: how the lab finds what it created (for `lab down`, after a crash, and for a
 * restarted control plane adopting running pods) and how `docker ps` shows a pod's identity.
 * Pure.
 */
import { createHash } from 'node:crypto';

const P = 'io.istio-lab';

export const LABELS = {
  /** The lab's id (from its LAB_HOME): every container and network of one lab carries it. */
  lab: `${P}.lab`,
  /** The LAB_HOME it belongs to, for people reading `docker ps`. */
  home: `${P}.home`,
  /** `controlplane`, `pod`, `external`. */
  role: `${P}.role`,
  namespace: `${P}.pod.namespace`,
  pod: `${P}.pod.name`,
  /** The container's name inside its pod: `istio-init`, the app's name, `istio-proxy`. */
  container: `${P}.container`,
  /** On the pod's istio-init: what a restarted control plane needs to adopt the pod (JSON). */
  record: `${P}.pod.record`,
  /** Prefix of the pod's own labels: `io.istio-lab.label.app=catalog`. */
  podLabel: `${P}.label.`,
} as const;

/** A short stable id for a lab, from its LAB_HOME's absolute path. */
export function labId(home: string): string {
  return createHash('sha256').update(home).digest('hex').slice(0, 10);
}

/** Docker object names: `istio-lab-<id>-<rest>`, limited to Docker's name alphabet. */
export function dockerName(id: string, ...parts: string[]): string {
  return ['istio-lab', id, ...parts].join('-').replace(/[^a-zA-Z0-9_.-]/g, '-');
}

export function labLabels(id: string, home: string, role: string): Record<string, string> {
  return { [LABELS.lab]: id, [LABELS.home]: home, [LABELS.role]: role };
}

export function podContainerLabels(
  base: Record<string, string>,
  pod: { namespace: string; name: string; labels?: Record<string, string> },
  container: string,
): Record<string, string> {
  const out: Record<string, string> = { ...base, [LABELS.namespace]: pod.namespace, [LABELS.pod]: pod.name, [LABELS.container]: container };
  for (const [k, v] of Object.entries(pod.labels ?? {})) out[LABELS.podLabel + k] = v;
  return out;
}

/** The Docker API filter that selects everything of one lab. */
export function labFilter(id: string): { label: string[] } {
  return { label: [`${LABELS.lab}=${id}`] };
}
