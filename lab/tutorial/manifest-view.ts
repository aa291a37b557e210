/**
 * A manifest as the tutorial shows it: the change from the previous version of the same object
 * (same kind and name, else the last object of the same kind) marked line by line, so the part
 * that matters stands out. Pure: files are read by the caller.
 */
import { parseAllDocuments } from 'yaml';

export interface ShownLine {
  text: string;
  mark: ' ' | '+' | '-';
}

export interface ManifestObject {
  kind: string;
  name: string;
  /** The document's text as in the file, without the `---` separators. */
  text: string;
}

export function objectsOf(fileText: string): ManifestObject[] {
  const out: ManifestObject[] = [];
  for (const doc of parseAllDocuments(fileText)) {
    const value = doc.toJS() as { kind?: string; metadata?: { name?: string } } | null;
    if (!value || typeof value !== 'object' || !value.kind) continue;
    const [start, end] = doc.range ?? [0, fileText.length];
    const text = fileText
      .slice(start, end)
      .replace(/^---\s*\n/, '')
      .replace(/\n---\s*$/, '')
      .trimEnd();
    out.push({ kind: value.kind, name: value.metadata?.name ?? '', text });
  }
  return out;
}

/**
 * Line diff by longest common subsequence (manifests are tens of lines). Lines that differ only in
 * indentation count as equal: the book's files indent list items both ways, and marking that would
 * hide the change that matters.
 */
export function lineDiff(before: string, after: string): ShownLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  const same = (x: string | undefined, y: string | undefined) => x !== undefined && y !== undefined && x.trim() === y.trim();
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = same(a[i], b[j]) ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: ShownLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && same(a[i], b[j])) {
      out.push({ text: b[j]!, mark: ' ' });
      i++;
      j++;
    } else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) out.push({ text: a[i++]!, mark: '-' });
    else out.push({ text: b[j++]!, mark: '+' });
  }
  return out;
}

/** The earlier object to compare with: same kind and name first, else the latest of the same kind. */
export function previousOf(obj: ManifestObject, history: readonly ManifestObject[]): ManifestObject | undefined {
  for (let i = history.length - 1; i >= 0; i--) if (history[i]!.kind === obj.kind && history[i]!.name === obj.name) return history[i];
  for (let i = history.length - 1; i >= 0; i--) if (history[i]!.kind === obj.kind) return history[i];
  return undefined;
}

/** What to show for one object: the diff from its predecessor, or the object as it is. */
export function showObject(obj: ManifestObject, history: readonly ManifestObject[]): { lines: ShownLine[]; against?: ManifestObject } {
  const prev = previousOf(obj, history);
  if (!prev || prev.text === obj.text) return { lines: obj.text.split('\n').map((text) => ({ text, mark: ' ' })) };
  return { lines: lineDiff(prev.text, obj.text), against: prev };
}
