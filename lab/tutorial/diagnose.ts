/**
 * Why a learner's attempt did not pass, in the mesh's own terms. `expectationOf` turns a step's
 * actions into the state they should leave; `diagnose` compares that with the lab's state (and
 * the access log lines the check saw) and names the likely causes as hint keys with parameters.
 * Pure; `readMeshState` is the one place that asks the lab.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { ParsedAccessLog } from '../../src/proxy/telemetry/access-log.js';
import { ROOT } from '../lib/paths.js';
import type { Action, StepContext } from '../lib/scenario.js';

export interface LabObject {
  kind: string;
  name: string;
  spec?: unknown;
}

export interface Expectation {
  present: Array<LabObject & { file: string }>;
  absent: Array<{ kind: string; name?: string }>;
  meshMode?: string;
}

export interface MeshState {
  objects: LabObject[];
  meshMode: string;
}

/** Every key `diagnose` can return; each language's common.yaml has a text for each (tested). */
export const HINT_KEYS = ['vsNotForMesh', 'subsetUndefined', 'notApplied', 'differs', 'stillThere', 'meshMode', 'flagNC', 'flagNR', 'flagUH', 'blockAll'] as const;

export interface Hint {
  key: string;
  params: Record<string, string>;
}

const KINDS: Record<string, string> = {
  deployment: 'Deployment', deployments: 'Deployment', deploy: 'Deployment',
  service: 'Service', services: 'Service', svc: 'Service',
  gateway: 'Gateway', gateways: 'Gateway', gw: 'Gateway',
  virtualservice: 'VirtualService', virtualservices: 'VirtualService', vs: 'VirtualService',
  destinationrule: 'DestinationRule', destinationrules: 'DestinationRule', dr: 'DestinationRule',
  serviceentry: 'ServiceEntry', serviceentries: 'ServiceEntry', se: 'ServiceEntry',
  serviceaccount: 'ServiceAccount', serviceaccounts: 'ServiceAccount', sa: 'ServiceAccount',
  canary: 'Canary', canaries: 'Canary',
};

/** What the `lab get` short name of a kind is, for reading the state back. */
export const SHORT: Record<string, string> = { Deployment: 'deploy', Service: 'svc', Gateway: 'gw', VirtualService: 'vs', DestinationRule: 'dr', ServiceEntry: 'se', ServiceAccount: 'sa', Canary: 'canary' };

type FileReader = (file: string) => string;
const readRepoFile: FileReader = (file) => readFileSync(join(ROOT, file), 'utf8');

/** The state a step's actions leave behind: applied objects present, deleted ones gone, mesh mode set. */
export function expectationOf(actions: readonly Action[], read: FileReader = readRepoFile): Expectation {
  const exp: Expectation = { present: [], absent: [] };
  for (const a of actions) {
    if (!('lab' in a)) continue;
    const [verb, ...rest] = a.lab;
    const args = rest.filter((x, i) => x !== '-n' && rest[i - 1] !== '-n');
    if (verb === 'apply') {
      for (let i = 0; i < args.length; i++) {
        if (args[i] !== '-f') continue;
        const file = args[++i]!;
        for (const doc of parseAllDocuments(read(file))) {
          const v = doc.toJS() as { kind?: string; metadata?: { name?: string }; spec?: unknown } | null;
          if (v?.kind && SHORT[v.kind]) exp.present.push({ kind: v.kind, name: v.metadata?.name ?? '', spec: v.spec, file });
        }
      }
    } else if (verb === 'delete') {
      const kinds = (args[0] ?? '').split(',').map((k) => KINDS[k.toLowerCase()]).filter((k): k is string => Boolean(k));
      const names = args.slice(1).filter((x) => !x.startsWith('-'));
      if (args.includes('--all')) for (const kind of kinds) exp.absent.push({ kind });
      else for (const kind of kinds) for (const name of names) exp.absent.push({ kind, name });
    } else if (verb === 'install') {
      const set = args.find((x) => x.startsWith('meshConfig.outboundTrafficPolicy.mode='));
      if (set) exp.meshMode = set.split('=')[1];
    }
  }
  return exp;
}

/** The first place where `want` (as written in the file) and `got` (as in the lab) differ, or undefined. */
export function firstDifference(want: unknown, got: unknown, path = 'spec'): string | undefined {
  if (Array.isArray(want)) {
    if (!Array.isArray(got)) return path;
    if (got.length !== want.length) return path;
    for (let i = 0; i < want.length; i++) {
      const d = firstDifference(want[i], got[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (want && typeof want === 'object') {
    if (!got || typeof got !== 'object' || Array.isArray(got)) return path;
    for (const [k, v] of Object.entries(want)) {
      const d = firstDifference(v, (got as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  if (want === undefined || want === null) return undefined;
  return String(want) === String(got) ? undefined : path;
}

export function fqdn(host: string, namespace = 'istioinaction'): string {
  if (host.includes('.svc.')) return host;
  const parts = host.split('.');
  if (parts.length === 1) return `${host}.${namespace}.svc.cluster.local`;
  if (parts.length === 2) return `${host}.svc.cluster.local`;
  return host;
}

interface VsSpec {
  hosts?: string[];
  gateways?: string[];
  http?: Array<{ match?: Array<{ headers?: Record<string, unknown> }>; route?: Array<{ destination?: { host?: string; subset?: string } }> }>;
}
interface DrSpec {
  host?: string;
  subsets?: Array<{ name?: string }>;
}

const bindsMesh = (vs: VsSpec) => !vs.gateways || vs.gateways.length === 0 || vs.gateways.includes('mesh');

export function diagnose(exp: Expectation, state: MeshState, lines: readonly ParsedAccessLog[] = []): Hint[] {
  const hints: Hint[] = [];
  const find = (kind: string, name: string) => state.objects.find((o) => o.kind === kind && o.name === name);
  const vss = state.objects.filter((o) => o.kind === 'VirtualService');
  const drs = state.objects.filter((o) => o.kind === 'DestinationRule');

  // A header match bound to a gateway only: the edge sees the header, webapp's sidecar never
  // consults the rule, so its outbound call to catalog takes the default route.
  for (const want of exp.present.filter((o) => o.kind === 'VirtualService' && bindsMesh(o.spec as VsSpec))) {
    const have = find(want.kind, want.name);
    if (have && !firstDifference(want.spec, have.spec)) continue;
    const wantsHeader = ((want.spec as VsSpec).http ?? []).some((r) => r.match?.some((m) => m.headers));
    const edgeOnly = vss.find((v) => !bindsMesh(v.spec as VsSpec) && ((v.spec as VsSpec).http ?? []).some((r) => r.match?.some((m) => m.headers)));
    if (wantsHeader && edgeOnly) hints.push({ key: 'vsNotForMesh', params: { name: edgeOnly.name, gateways: ((edgeOnly.spec as VsSpec).gateways ?? []).join(', '), file: want.file } });
  }

  for (const vs of vss) {
    for (const r of (vs.spec as VsSpec).http ?? []) {
      for (const d of r.route ?? []) {
        const subset = d.destination?.subset;
        const host = d.destination?.host;
        if (!subset || !host) continue;
        const defined = drs.some((dr) => fqdn((dr.spec as DrSpec).host ?? '') === fqdn(host) && ((dr.spec as DrSpec).subsets ?? []).some((s) => s.name === subset));
        if (!defined && !hints.some((h) => h.key === 'subsetUndefined' && h.params.subset === subset)) hints.push({ key: 'subsetUndefined', params: { vs: vs.name, subset, host } });
      }
    }
  }

  for (const want of exp.present) {
    const have = find(want.kind, want.name);
    if (!have) hints.push({ key: 'notApplied', params: { kind: want.kind, name: want.name, file: want.file } });
    else {
      const field = firstDifference(want.spec, have.spec);
      if (field) hints.push({ key: 'differs', params: { kind: want.kind, name: want.name, file: want.file, field } });
    }
  }
  for (const gone of exp.absent) {
    const left = state.objects.filter((o) => o.kind === gone.kind && (!gone.name || o.name === gone.name));
    for (const o of left) hints.push({ key: 'stillThere', params: { kind: o.kind, name: o.name, short: SHORT[o.kind] ?? o.kind.toLowerCase() } });
  }
  if (exp.meshMode && exp.meshMode !== state.meshMode) hints.push({ key: 'meshMode', params: { want: exp.meshMode, have: state.meshMode } });

  const flags = new Set(lines.flatMap((l) => l.responseFlags.split(',')));
  if (flags.has('NC') && !hints.some((h) => h.key === 'subsetUndefined')) hints.push({ key: 'flagNC', params: {} });
  if (flags.has('NR')) hints.push({ key: 'flagNR', params: {} });
  if (flags.has('UH')) hints.push({ key: 'flagUH', params: {} });
  if (lines.some((l) => l.routeName === 'block_all')) hints.push({ key: 'blockAll', params: { mode: state.meshMode } });
  return hints;
}

/** The lab's objects of the kinds a step touches, and the mesh's outbound traffic mode. */
export async function readMeshState(ctx: StepContext, exp: Expectation): Promise<MeshState> {
  const kinds = new Set(['VirtualService', 'DestinationRule', 'Gateway', ...exp.present.map((o) => o.kind), ...exp.absent.map((o) => o.kind)]);
  const out = await ctx.labOut(['get', [...kinds].map((k) => SHORT[k]).join(','), '-o', 'json', '-n', 'istioinaction'], true);
  const list = JSON.parse(out || '{"items":[]}') as { items?: Array<{ kind: string; metadata: { name: string }; spec?: unknown }> };
  const objects = (list.items ?? []).map((o) => ({ kind: o.kind, name: o.metadata.name, spec: o.spec }));
  const mesh = JSON.parse(await ctx.labOut(['get', 'meshconfig', '-o', 'json'], true)) as { data?: { mesh?: string } };
  const meshConfig = (parse(mesh.data?.mesh ?? '') ?? {}) as { outboundTrafficPolicy?: { mode?: string } };
  return { objects, meshMode: meshConfig.outboundTrafficPolicy?.mode ?? 'ALLOW_ANY' };
}
