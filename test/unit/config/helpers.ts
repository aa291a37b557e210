import { parseManifests } from '../../../src/config/manifest.js';
import { validateObject } from '../../../src/config/validate.js';
import type { KubeObject } from '../../../src/model/objects.js';

export interface Checked {
  errors: string[];
  warnings: string[];
  objects: KubeObject[];
}

/** Parse and validate `text` as file `file`, in namespace istioinaction; problems as strings. */
export function check(text: string, file = 'bad.yaml', defaultNamespace = 'istioinaction'): Checked {
  const parsed = parseManifests(text, file);
  const out: Checked = { errors: parsed.errors.map(String), warnings: [], objects: [] };
  for (const d of parsed.documents) {
    const r = validateObject(d.object, d.source, { defaultNamespace });
    out.errors.push(...r.errors.map(String));
    out.warnings.push(...r.warnings.map(String));
    if (r.errors.length === 0) out.objects.push(r.object);
  }
  return out;
}

/** A minimal valid VirtualService in istioinaction with `spec` replaced. */
export function vs(spec: string, name = 'catalog-vs', apiVersion = 'networking.istio.io/v1alpha3'): string {
  return `apiVersion: ${apiVersion}\nkind: VirtualService\nmetadata:\n  name: ${name}\nspec:\n${indent(spec, 2)}`;
}

export function doc(kind: string, apiVersion: string, name: string, spec: string): string {
  return `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${indent(spec, 2)}`;
}

/** Remove the common leading indentation (and a leading newline) of a template literal. */
export function dedent(text: string): string {
  const lines = text.replace(/^\n/, '').replace(/\n[ \t]*$/, '\n').split('\n');
  const widths = lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length);
  const cut = widths.length ? Math.min(...widths) : 0;
  return lines.map((l) => l.slice(cut)).join('\n');
}

export function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return dedent(text)
    .split('\n')
    .map((l) => (l.trim() ? pad + l : l))
    .join('\n');
}
