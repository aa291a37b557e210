/**
 * Admission for `lab apply`: every document is validated (schema + semantics) before any is
 * stored, so a bad file changes nothing. Istio-accepted-but-suspicious configs pass with
 * `istioctl analyze`-style warnings, computed on the store as it would be after the apply.
 */
import { analyze } from '../config/analyze.js';
import { ConfigError, configErrorsToLabError } from '../config/errors.js';
import { duplicateObjectErrors, validateObject } from '../config/validate.js';
import { objectKey, type KubeObject, type SourceRef } from '../model/objects.js';
import type { PodTemplate } from '../model/specs.js';
import { programForImage } from '../runtime/images.js';
import { LabError } from '../shared/errors.js';
import { checkClusterIPs, type ServiceAddressAllocator } from './service-addresses.js';

export interface ApplyDocument {
  object: KubeObject;
  source: SourceRef;
}

/** With `serviceAddresses` (runtimes with Service virtual addresses), Services' `spec.clusterIP` is checked too. */
export function admit(documents: ApplyDocument[], defaultNamespace: string, current: KubeObject[], serviceAddresses?: ServiceAddressAllocator): { objects: KubeObject[]; warnings: string[] } {
  const errors: ConfigError[] = [];
  const objects: KubeObject[] = [];
  const warnings: string[] = [];
  const sources = new Map<string, SourceRef>();
  // The same object twice in one apply would silently lose a copy: refuse it, naming both places.
  errors.push(...duplicateObjectErrors(documents, defaultNamespace));
  for (const doc of documents) {
    const result = validateObject(doc.object, doc.source, { defaultNamespace });
    errors.push(...result.errors);
    warnings.push(...result.warnings.map((w) => w.toString()));
    if (result.errors.length > 0) continue;
    const obj = result.object;
    if (obj.kind === 'Deployment') {
      const template = (obj.spec as { template?: PodTemplate } | undefined)?.template;
      template?.spec.containers.forEach((c, i) => {
        try {
          programForImage(c.image, `${doc.source.file}: document ${doc.source.index + 1} (Deployment ${obj.metadata.name}): spec.template.spec.containers[${i}].image`);
        } catch (err) {
          if (err instanceof LabError) {
            errors.push(
              new ConfigError(
                { file: doc.source.file, index: doc.source.index, kind: 'Deployment', name: obj.metadata.name, path: `spec.template.spec.containers[${i}].image` },
                `image "${c.image}" is not one the lab can run (known: istioinaction/catalog, istioinaction/webapp, istioinaction/forum, istio/proxyv2)`,
                'LAB_ERR_UNKNOWN_IMAGE',
              ),
            );
          }
        }
      });
    }
    objects.push(obj);
    sources.set(objectKey(obj.kind, obj.metadata.namespace, obj.metadata.name), doc.source);
  }
  if (serviceAddresses) {
    const stored = new Map(current.map((o) => [objectKey(o.kind, o.metadata.namespace, o.metadata.name), o] as const));
    const key = (o: KubeObject) => objectKey(o.kind, o.metadata.namespace, o.metadata.name);
    for (const [i, message] of checkClusterIPs(objects, serviceAddresses, (o) => stored.get(key(o)))) {
      const o = objects[i]!;
      const src = sources.get(key(o))!;
      errors.push(new ConfigError({ file: src.file, index: src.index, kind: o.kind, name: o.metadata.name, path: 'spec.clusterIP' }, message));
    }
  }
  if (errors.length > 0) throw configErrorsToLabError(errors);
  if (documents.length === 0) throw new LabError('LAB_ERR_USAGE', 'no objects passed to apply');

  // Analyse the store as it would be: current objects replaced/extended by the applied ones.
  const next = new Map(current.map((o) => [objectKey(o.kind, o.metadata.namespace, o.metadata.name), o] as const));
  for (const o of objects) next.set(objectKey(o.kind, o.metadata.namespace, o.metadata.name), o);
  for (const w of analyze([...next.values()])) {
    const key = objectKey(w.kind, w.namespace, w.name);
    const src = sources.get(key);
    if (!src) continue; // only report on what this apply touched
    w.file = src.file;
    w.index = src.index;
    warnings.push(w.toString());
  }
  return { objects, warnings };
}
