/** `{name}` placeholders in content texts, filled from a step's parameters. */
export function fill(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in params ? String(params[key]) : whole));
}

/**
 * Re-flows text to `width` columns (Hangul counts as two): lines of a paragraph are joined, blank
 * lines separate paragraphs, indented lines are kept as they are.
 */
export function wrap(text: string, width = 96): string {
  const out: string[] = [];
  const paras: string[] = [];
  for (const l of text.replace(/\s+$/, '').split('\n')) {
    const last = paras.length - 1;
    if (l.trim() === '' || /^\s/.test(l) || last < 0 || paras[last] === '' || /^\s/.test(paras[last]!)) paras.push(l.trim() === '' ? '' : l);
    else paras[last] += ` ${l.trim()}`;
  }
  for (const para of paras) {
    if (para.trim() === '' || /^\s/.test(para)) {
      out.push(para);
      continue;
    }
    let line = '';
    let cols = 0;
    for (const word of para.split(/ +/)) {
      const w = columns(word);
      if (line && cols + 1 + w > width) {
        out.push(line);
        line = word;
        cols = w;
      } else {
        line = line ? `${line} ${word}` : word;
        cols = line === word ? w : cols + 1 + w;
      }
    }
    out.push(line);
  }
  return out.join('\n');
}

export function columns(s: string): number {
  let n = 0;
  for (const ch of s) n += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\uff00-\uff60]/.test(ch) ? 2 : 1;
  return n;
}
