/**
 * The Kubernetes-shaped objects the lab stores: the book's manifests as parsed from YAML, plus the
 * objects the lab makes itself (Pods, Flagger's generated objects). Specs stay as parsed JSON; each
 * consumer reads them through the typed views in `src/model/specs.ts`.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid?: string; controller?: boolean }>;
}

export interface KubeObject<Spec = Record<string, unknown>, Status = Record<string, unknown>> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Spec;
  status?: Status;
  /** Other top-level fields some kinds carry (ConfigMap `data`, ...). */
  [key: string]: unknown;
}

/** Where a document came from, for error messages: file name and 0-based index in the file. */
export interface SourceRef {
  file: string;
  index: number;
}

/** `Kind/namespace/name`, the store's key. */
export function objectKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}
