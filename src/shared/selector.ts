import { LabError } from './errors.js';

/** kubectl's equality-based label selectors: `app=catalog,version!=v2,tier` (and `==`, `!tier`). */
export type LabelRequirement = { key: string; op: '=' | '!=' | 'exists' | '!exists'; value?: string };

export function parseSelector(text: string): LabelRequirement[] {
  const out: LabelRequirement[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (!part) continue;
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(part))) {
      out.push({ key: m[1]!, op: m[2] === '!=' ? '!=' : '=', value: m[3]! });
    } else if ((m = /^!([\w./-]+)$/.exec(part))) {
      out.push({ key: m[1]!, op: '!exists' });
    } else if ((m = /^([\w./-]+)$/.exec(part))) {
      out.push({ key: m[1]!, op: 'exists' });
    } else {
      throw new LabError('LAB_ERR_USAGE', `invalid label selector "${text}" at "${part}"`);
    }
  }
  return out;
}

export function selectorMatches(reqs: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    switch (r.op) {
      case '=':
        return l[r.key] === r.value;
      case '!=':
        return l[r.key] !== r.value;
      case 'exists':
        return r.key in l;
      case '!exists':
        return !(r.key in l);
    }
  });
}
