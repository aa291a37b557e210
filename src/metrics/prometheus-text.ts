/**
 * Reads Prometheus text exposition (0.0.4) into flat samples: enough for tests and for the embedded
 * metrics provider, which scrapes the proxies' stats endpoints itself instead of running a Prometheus server.
 */

export interface PromSample {
  /** Full sample name, e.g. `istio_request_duration_milliseconds_bucket`. */
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

function parseValue(text: string): number {
  // Go's ParseFloat spellings that JS's Number() does not accept.
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const n = Number(text);
  if (text === '' || Number.isNaN(n)) throw new Error(`bad sample value: ${JSON.stringify(text)}`);
  return n;
}

const UNESCAPE: Record<string, string> = { '\\': '\\', '"': '"', n: '\n' };

/** One sample line; throws on malformed input so a broken exporter is noticed, not ignored. */
function parseLine(line: string): PromSample {
  let pos = 0;
  while (pos < line.length && line[pos] !== '{' && line[pos] !== ' ' && line[pos] !== '\t') pos++;
  const name = line.slice(0, pos);
  if (name === '') throw new Error(`missing metric name: ${line}`);
  const labels: Record<string, string> = {};

  if (line[pos] === '{') {
    pos++;
    for (;;) {
      while (line[pos] === ' ' || line[pos] === ',') pos++;
      if (line[pos] === '}') {
        pos++;
        break;
      }
      const eq = line.indexOf('=', pos);
      if (eq < 0 || line[eq + 1] !== '"') throw new Error(`bad label at ${pos}: ${line}`);
      const labelName = line.slice(pos, eq).trim();
      pos = eq + 2;
      let value = '';
      while (pos < line.length && line[pos] !== '"') {
        if (line[pos] === '\\') {
          const escaped = line[pos + 1];
          value += UNESCAPE[escaped] ?? '\\' + escaped;
          pos += 2;
        } else {
          value += line[pos++];
        }
      }
      if (pos >= line.length) throw new Error(`unterminated label value: ${line}`);
      pos++;
      labels[labelName] = value;
    }
  }

  const rest = line.slice(pos).trim().split(/\s+/);
  const sample: PromSample = { name, labels, value: parseValue(rest[0] ?? '') };
  if (rest.length > 1) sample.timestampMs = Number(rest[1]);
  return sample;
}

export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line[0] === '#') continue;
    samples.push(parseLine(line));
  }
  return samples;
}
