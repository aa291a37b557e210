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
    for (const word of glueParticles(para.split(/ +/))) {
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

/**
 * Korean particles written apart from an English name (`Pod 를`, `VirtualService 는`, as the
 * walkthrough does) stay on the name's line: a line never starts with a particle.
 */
const PARTICLE = /^(은\(는\)|이\(가\)|을\(를\)|\(으\)로|은|는|이|가|을|를|에|에는|의|로|으로|에서|에서는|와|과|도|만|까지|이며|이고|입니다|이므로|이라는|라는)[.,:;)]*$/;

function glueParticles(words: string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    if (out.length > 0 && PARTICLE.test(w)) out[out.length - 1] += ` ${w}`;
    else out.push(w);
  }
  return out;
}
