import { stringify } from 'yaml';
import { lookupKind } from '../../config/kinds.js';
import type { KubeObject } from '../../model/objects.js';
import type { DeploymentSpec, GatewaySpec, PodStatus, ServiceEntrySpec, ServiceSpec, VirtualServiceSpec, DestinationRuleSpec } from '../../model/specs.js';
import { LabError, type LabErrorCode } from '../../shared/errors.js';
import { parse } from '../args.js';
import { connect, type ApiClient } from '../client.js';
import { age, labelsText, table } from '../format.js';

export const GET_USAGE = `Usage: lab get KIND[,KIND...] [NAME] [-n NAMESPACE | -A] [-o yaml|json|wide|name] [-l SELECTOR] [--show-labels] [-w]
       lab get meshconfig [-o yaml|json]
Kinds take kubectl's names and short names: deploy, svc, po, sa, gw, vs, dr, se, sidecar, canary.`;

type Columns = { headers: string[]; row: (o: KubeObject) => string[] };

export function columns(kind: string, wide: boolean): Columns {
  switch (kind) {
    case 'Deployment':
      return {
        headers: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
        row: (o) => {
          const s = (o.status ?? {}) as Record<string, number>;
          const want = (o.spec as unknown as DeploymentSpec).replicas ?? 1;
          return [o.metadata.name, `${s.readyReplicas ?? 0}/${want}`, String(s.updatedReplicas ?? 0), String(s.availableReplicas ?? 0), age(o.metadata.creationTimestamp)];
        },
      };
    case 'Pod':
      return {
        headers: wide ? ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP'] : ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
        row: (o) => {
          const s = (o.status ?? {}) as unknown as PodStatus;
          const containers = ((o.spec as { containers?: unknown[] })?.containers?.length ?? 1);
          const proxyOnly = o.metadata.labels?.['istio'] === 'ingressgateway';
          const total = proxyOnly ? 1 : containers + 1;
          const row = [o.metadata.name, `${s.ready ? total : 0}/${total}`, s.phase ?? 'Pending', String(s.restarts ?? 0), age(s.startTime ?? o.metadata.creationTimestamp)];
          return wide ? [...row, s.podIP ?? '<none>'] : row;
        },
      };
    case 'Service':
      // kubectl's columns; the cluster IP is `<none>` where the runtime gives Services none (local).
      return {
        headers: wide ? ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR'] : ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
        row: (o) => {
          const s = (o.spec ?? {}) as ServiceSpec;
          const ports = (s.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',') || '<none>';
          const row = [o.metadata.name, s.type ?? 'ClusterIP', s.clusterIP || '<none>', '<none>', ports, age(o.metadata.creationTimestamp)];
          return wide ? [...row, labelsText(s.selector)] : row;
        },
      };
    case 'VirtualService':
      return {
        headers: ['NAME', 'GATEWAYS', 'HOSTS', 'AGE'],
        row: (o) => {
          const s = o.spec as VirtualServiceSpec;
          return [o.metadata.name, JSON.stringify(s.gateways ?? []), JSON.stringify(s.hosts ?? []), age(o.metadata.creationTimestamp)];
        },
      };
    case 'DestinationRule':
      return { headers: ['NAME', 'HOST', 'AGE'], row: (o) => [o.metadata.name, (o.spec as unknown as DestinationRuleSpec).host, age(o.metadata.creationTimestamp)] };
    case 'Gateway':
      return {
        headers: ['NAME', 'AGE'],
        row: (o) => [o.metadata.name, age(o.metadata.creationTimestamp)],
      };
    case 'ServiceEntry':
      return {
        headers: ['NAME', 'HOSTS', 'LOCATION', 'RESOLUTION', 'AGE'],
        row: (o) => {
          const s = o.spec as unknown as ServiceEntrySpec;
          return [o.metadata.name, JSON.stringify(s.hosts), s.location ?? '', s.resolution ?? 'NONE', age(o.metadata.creationTimestamp)];
        },
      };
    case 'Canary':
      return {
        headers: ['NAME', 'STATUS', 'WEIGHT', 'LASTTRANSITIONTIME'],
        row: (o) => {
          const s = (o.status ?? {}) as Record<string, unknown>;
          return [o.metadata.name, String(s['phase'] ?? ''), String(s['canaryWeight'] ?? 0), String(s['lastTransitionTime'] ?? '')];
        },
      };
    default:
      return { headers: ['NAME', 'AGE'], row: (o) => [o.metadata.name, age(o.metadata.creationTimestamp)] };
  }
}

function clean(o: KubeObject): KubeObject {
  const copy = structuredClone(o);
  if (copy.status === undefined) delete copy.status;
  return copy;
}

export async function get(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      output: { type: 'string', short: 'o' },
      selector: { type: 'string', short: 'l' },
      'show-labels': { type: 'boolean' },
      watch: { type: 'boolean', short: 'w' },
    },
    GET_USAGE,
  );
  if (values.help) {
    console.log(GET_USAGE);
    return 0;
  }
  const [kindsArg, name] = positionals;
  if (!kindsArg) throw new LabError('LAB_ERR_USAGE', GET_USAGE);
  const client = connect();
  const output = values.output as string | undefined;
  if (output && !['yaml', 'json', 'wide', 'name'].includes(output)) throw new LabError('LAB_ERR_USAGE', `-o ${output}: use yaml, json, wide or name`);

  if (kindsArg === 'meshconfig') {
    const { mesh } = await client.call<{ mesh: unknown }>('GET', '/meshconfig');
    const doc = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh: stringify(mesh) } };
    console.log(output === 'json' ? JSON.stringify(doc, null, 2) : stringify(doc).trimEnd());
    return 0;
  }

  const ns = values['all-namespaces'] ? '*' : ((values.namespace as string | undefined) ?? 'istioinaction');
  const kinds = kindsArg.split(',').map((k) => lookupKind(k));
  const params = (kind: string) => {
    const q = new URLSearchParams({ kind, namespace: ns });
    if (name) q.set('name', name);
    if (values.selector) q.set('selector', values.selector as string);
    return q.toString();
  };
  if (values.watch) return watch(client, kinds[0]!.kind, ns, name);

  let found = 0;
  const blocks: string[] = [];
  const all: KubeObject[] = [];
  for (const info of kinds) {
    const { items } = await client.call<{ items: KubeObject[] }>('GET', `/objects?${params(info.kind)}`);
    found += items.length;
    all.push(...items);
    if (output === 'yaml' || output === 'json') continue;
    if (output === 'name') {
      blocks.push(items.map((o) => `${info.kind.toLowerCase()}${info.group ? `.${info.group}` : ''}/${o.metadata.name}`).join('\n'));
      continue;
    }
    if (items.length === 0) continue;
    const cols = columns(info.kind, output === 'wide');
    const headers = [...cols.headers, ...(values['show-labels'] ? ['LABELS'] : [])];
    const rows = items.map((o) => [...cols.row(o), ...(values['show-labels'] ? [labelsText(o.metadata.labels)] : [])]);
    if (kinds.length > 1) rows.forEach((r) => (r[0] = `${info.plural}/${r[0]}`));
    blocks.push(table(headers, rows));
  }
  if (name && found === 0) {
    console.error(`Error from server (NotFound): ${kinds[0]!.plural} "${name}" not found`);
    return 1;
  }
  if (output === 'yaml' || output === 'json') {
    const docs = all.map(clean);
    const out = name && docs.length === 1 ? docs[0] : { apiVersion: 'v1', kind: 'List', items: docs };
    console.log(output === 'json' ? JSON.stringify(out, null, 2) : stringify(out).trimEnd());
    return 0;
  }
  if (found === 0) {
    console.error(ns === '*' ? 'No resources found' : `No resources found in ${ns} namespace.`);
    return 0;
  }
  console.log(blocks.filter(Boolean).join('\n\n'));
  return 0;
}

async function watch(client: ApiClient, kind: string, ns: string, name: string | undefined): Promise<number> {
  const res = await client.fetch(`/watch?${new URLSearchParams({ kind, namespace: ns })}`);
  if (!res.ok) {
    const e = ((await res.json().catch(() => ({}))) as { error?: { code?: LabErrorCode; message?: string } }).error;
    throw new LabError(e?.code ?? 'LAB_ERR_INTERNAL', e?.message ?? `watch: HTTP ${res.status}`);
  }
  if (!res.body) return 1;
  const cols = columns(kind, false);
  // Rows come one at a time, so columns get fixed widths up front (kubectl does the same).
  const widths = cols.headers.map((h) => Math.max(h.length, 16));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('');
  console.log(line(cols.headers));
  const last = new Map<string, string>();
  let buf = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const text = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const ev = JSON.parse(text) as { type: string; object: KubeObject };
      if (name && ev.object.metadata.name !== name) continue;
      if (ev.type === 'DELETED') continue;
      const row = line(cols.row(ev.object));
      const key = `${ev.object.metadata.namespace}/${ev.object.metadata.name}`;
      if (last.get(key) === row) continue;
      last.set(key, row);
      console.log(row);
    }
  }
  return 0;
}
