import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lineDiff, objectsOf, previousOf, showObject } from '../../../lab/tutorial/manifest-view.js';

const file = (p: string) => objectsOf(readFileSync(p, 'utf8'));

describe('manifest view', () => {
  it('splits a multi-document file into its objects, each with its own text', () => {
    const objs = file('services/catalog/kubernetes/catalog.yaml');
    expect(objs.map((o) => `${o.kind}/${o.name}`)).toEqual(['ServiceAccount/catalog', 'Service/catalog', 'Deployment/catalog']);
    expect(objs[2]!.text.startsWith('apiVersion: apps/v1')).toBe(true);
    expect(objs.every((o) => !o.text.includes('---'))).toBe(true);
  });

  it('marks only the line catalog-vs-v1 adds to catalog-vs (the subset)', () => {
    const [before] = file('ch5/catalog-vs.yaml');
    const [after] = file('ch5/catalog-vs-v1.yaml');
    const { lines, against } = showObject(after!, [before!]);
    expect(against?.name).toBe('catalog-vs-from-gw');
    expect(lines.filter((l) => l.mark !== ' ').map((l) => `${l.mark}${l.text.trim()}`)).toEqual(['+subset: version-v1']);
  });

  it('compares with the same kind and name first, else the latest object of the kind', () => {
    const vs = file('ch5/catalog-vs.yaml')[0]!;
    const mesh = file('ch5/catalog-vs-v1-mesh.yaml')[0]!;
    const dr = file('ch5/catalog-dest-rule.yaml')[0]!;
    expect(previousOf(mesh, [vs, dr])).toBe(vs);
    expect(previousOf(file('ch5/catalog-vs-v2-request-mesh.yaml')[0]!, [vs, mesh, dr])).toBe(mesh);
    expect(previousOf(dr, [vs])).toBeUndefined();
  });

  it('diffs line by line, removals before additions', () => {
    expect(lineDiff('a\nb\nc', 'a\nx\nc')).toEqual([
      { text: 'a', mark: ' ' },
      { text: 'b', mark: '-' },
      { text: 'x', mark: '+' },
      { text: 'c', mark: ' ' },
    ]);
    expect(lineDiff('a', 'a')).toEqual([{ text: 'a', mark: ' ' }]);
  });

  it('shows an object with no predecessor as it is', () => {
    const dr = file('ch5/catalog-dest-rule.yaml')[0]!;
    const { lines, against } = showObject(dr, []);
    expect(against).toBeUndefined();
    expect(lines.every((l) => l.mark === ' ')).toBe(true);
    expect(lines.map((l) => l.text).join('\n')).toBe(dr.text);
  });
});

describe('manifest view: indentation alone is not a change', () => {
  it('catalog-vs-v2-10-90-mesh against catalog-vs-v1-mesh: only the weights and the v2 destination', () => {
    const [before] = objectsOf(readFileSync('ch5/catalog-vs-v1-mesh.yaml', 'utf8'));
    const [after] = objectsOf(readFileSync('ch5/catalog-vs-v2-10-90-mesh.yaml', 'utf8'));
    const changed = showObject(after!, [before!]).lines.filter((l) => l.mark !== ' ');
    expect(changed.every((l) => l.mark === '+')).toBe(true);
    expect(changed.map((l) => l.text.trim())).toEqual(['weight: 90', '- destination:', 'host: catalog', 'subset: version-v2', 'weight: 10']);
  });
});
