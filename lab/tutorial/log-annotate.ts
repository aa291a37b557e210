/**
 * An access log line read field by field, as a learner needs it: response code and flags, the
 * upstream cluster split into direction, port, subset and host, the upstream host, the route name.
 * Pure: the meanings come from the content file of the learner's language.
 */
import { parseClusterName } from '../../src/model/names.js';
import type { ParsedAccessLog } from '../../src/proxy/telemetry/access-log.js';
import { fill } from './text.js';

export interface LogTexts {
  fields: Record<'code' | 'flags' | 'details' | 'cluster' | 'host' | 'route' | 'authority', string>;
  flags: Record<string, string>;
  cluster: Record<string, string>;
  route: Record<string, string>;
  host: { some: string; none: string };
  unknown: string;
}

export interface AnnotatedField {
  field: string;
  value: string;
  meaning: string;
}

export function annotate(line: ParsedAccessLog, t: LogTexts): AnnotatedField[] {
  const rows: AnnotatedField[] = [];
  const flagMeaning = line.responseFlags
    .split(',')
    .map((f) => `${f}: ${t.flags[f] ?? t.unknown}`)
    .join('; ');
  rows.push({ field: t.fields.code, value: line.responseCode, meaning: '' });
  rows.push({ field: t.fields.flags, value: line.responseFlags, meaning: flagMeaning });
  rows.push({ field: t.fields.details, value: line.responseCodeDetails, meaning: '' });
  rows.push({ field: t.fields.authority, value: line.authority, meaning: '' });
  rows.push({ field: t.fields.cluster, value: line.upstreamCluster, meaning: clusterMeaning(line.upstreamCluster, t) });
  rows.push({ field: t.fields.host, value: line.upstreamHost, meaning: line.upstreamHost === '-' ? t.host.none : fill(t.host.some, { host: line.upstreamHost }) });
  // `-` is both "no route matched" (NR) and a matched route without a name.
  const route = line.routeName === '-' && !line.responseFlags.includes('NR') ? t.route.unnamed : t.route[line.routeName];
  rows.push({ field: t.fields.route, value: line.routeName, meaning: route ?? fill(t.route.named ?? '', { name: line.routeName }) });
  return rows;
}

export function clusterMeaning(cluster: string, t: LogTexts): string {
  const c = parseClusterName(cluster);
  if (c?.direction === 'inbound') return fill(t.cluster.inbound ?? '', { port: c.port });
  if (c?.direction === 'outbound') return fill(c.subset ? (t.cluster.outbound ?? '') : (t.cluster.outboundNoSubset ?? ''), { port: c.port, subset: c.subset, host: c.host });
  return t.cluster[cluster] ?? t.unknown;
}
