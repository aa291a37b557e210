/**
 * Expectations against what was observed, pure and shared by offline and live runs: each check
 * returns the list of mismatches as sentences (empty = pass).
 */
import { BLACKHOLE_CLUSTER, PASSTHROUGH_CLUSTER } from '../compiler/clusters.js';
import { parseClusterName } from '../model/names.js';
import { binomialBounds } from './binomial.js';
import type { Expectation } from './scenario.js';

/** One request's outcome as the access log tells it (live) or the simulation decides it (offline). */
export interface Observed {
  /** Undefined offline when the upstream app answers (not simulated). */
  code?: number;
  /** True when no listener took the connection (gateway port not served). */
  refused?: boolean;
  flags: string;
  route?: string;
  cluster?: string;
  upstreamPath?: string;
  upstreamAuthority?: string;
  /** Clusters this request is (or, offline, may be) mirrored to. */
  mirrors: string[];
}

/** A subset name when the cluster has one, else the cluster name: what split and mirror keys name. */
export function clusterLabel(cluster: string): string {
  const p = parseClusterName(cluster);
  return p?.subset ? p.subset : cluster;
}

function labelMatches(want: string, cluster: string): boolean {
  return want === cluster || want === clusterLabel(cluster);
}

export function egressVerdict(o: Observed): 'allowed' | 'passthrough' | 'blocked' | undefined {
  if (o.route === 'block_all' || o.cluster === BLACKHOLE_CLUSTER) return 'blocked';
  if (o.cluster === PASSTHROUGH_CLUSTER) return 'passthrough';
  if (o.cluster && parseClusterName(o.cluster)?.direction === 'outbound' && o.flags === '-') return 'allowed';
  return undefined;
}

export function describeObserved(o: Observed): string {
  if (o.refused) return 'connection refused (no listener on that port)';
  const parts = [o.code === undefined ? 'forwarded' : String(o.code), `flags ${o.flags}`];
  if (o.route !== undefined) parts.push(`route ${o.route}`);
  if (o.cluster !== undefined) parts.push(`cluster ${o.cluster}`);
  if (o.upstreamPath !== undefined) parts.push(`path ${o.upstreamPath}`);
  if (o.mirrors.length) parts.push(`mirror ${o.mirrors.join(',')}`);
  return parts.join(', ');
}

const show = (v: string | number | undefined) => (v === undefined ? '(none)' : JSON.stringify(v));

/** Everything but `split`. `offline`: a forwarded request's status is the app's, taken as 200. */
export function checkObserved(e: Expectation, o: Observed, offline: boolean): string[] {
  const out: string[] = [];
  if (o.refused) {
    out.push('the connection was refused: no listener on that port (no Gateway server for it)');
    return out;
  }
  if (e.code !== undefined) {
    const code = o.code ?? (offline ? 200 : undefined);
    if (code !== e.code) out.push(`code: expected ${e.code}, got ${show(code)}${o.code === undefined && offline ? ' (forwarded to the app, taken as 200 offline)' : ''}`);
  }
  if (e.flags !== undefined && o.flags !== e.flags) out.push(`flags: expected ${e.flags}, got ${o.flags}`);
  if (e.route !== undefined && o.route !== e.route) out.push(`route: expected ${show(e.route)}, got ${show(o.route)}`);
  if (e.cluster !== undefined && o.cluster !== e.cluster) out.push(`cluster: expected ${show(e.cluster)}, got ${show(o.cluster)}`);
  if (e.subset !== undefined) {
    const subset = o.cluster ? (parseClusterName(o.cluster)?.subset ?? undefined) : undefined;
    if (subset !== e.subset) out.push(`subset: expected ${show(e.subset)}, got ${show(subset)}${o.cluster ? ` (cluster ${o.cluster})` : ''}`);
  }
  if (e.rewrite?.path !== undefined && o.upstreamPath !== e.rewrite.path) out.push(`rewrite.path: expected ${show(e.rewrite.path)}, upstream got ${show(o.upstreamPath)}`);
  if (e.rewrite?.authority !== undefined && o.upstreamAuthority !== e.rewrite.authority) {
    out.push(`rewrite.authority: expected ${show(e.rewrite.authority)}, upstream got ${show(o.upstreamAuthority)}`);
  }
  if (e.mirror !== undefined) {
    const missing = e.mirror.filter((m) => !o.mirrors.some((c) => labelMatches(m, c)));
    const extra = o.mirrors.filter((c) => !e.mirror!.some((m) => labelMatches(m, c)));
    if (missing.length || extra.length) out.push(`mirror: expected [${e.mirror.join(', ')}], got [${o.mirrors.join(', ')}]`);
  }
  if (e.egress !== undefined) {
    const v = egressVerdict(o);
    if (v !== e.egress) out.push(`egress: expected ${e.egress}, got ${v ?? `neither (${describeObserved(o)})`}`);
  }
  return out;
}

export interface SplitCheck {
  failures: string[];
  /** label -> [count, lo, hi] for the report. */
  rows: Array<{ label: string; expectedPct: number; count: number; lo: number; hi: number }>;
}

/** Counts per cluster label against the expected percentages, with exact binomial bounds. */
export function checkSplit(expectedPct: Record<string, number>, counts: Map<string, number>, n: number, alpha: number): SplitCheck {
  const failures: string[] = [];
  const rows: SplitCheck['rows'] = [];
  for (const [label, pct] of Object.entries(expectedPct)) {
    const count = counts.get(label) ?? 0;
    const { lo, hi } = binomialBounds(n, pct / 100, alpha);
    rows.push({ label, expectedPct: pct, count, lo, hi });
    if (count < lo || count > hi) failures.push(`split ${label}: ${count}/${n} is outside [${lo}, ${hi}], the exact binomial bounds for ${pct}% at alpha ${alpha}`);
  }
  for (const [label, count] of counts) {
    if (!(label in expectedPct) && count > 0) failures.push(`split: ${count}/${n} went to ${label}, which the expectation does not name`);
  }
  return { failures, rows };
}

/** Offline only: the route's weights give the exact shares; they must equal the expected ones. */
export function checkExactShares(expectedPct: Record<string, number>, destinations: Array<{ cluster: string; weight: number }>): string[] {
  if (destinations.length === 0) return ['split: the request matched no route that forwards'];
  const total = destinations.reduce((a, d) => a + d.weight, 0);
  const shares = new Map<string, number>();
  for (const d of destinations) {
    // Istio >= 1.15: weights are relative; a lone destination gets everything whatever its weight.
    const p = destinations.length === 1 ? 1 : total > 0 ? d.weight / total : 0;
    const l = clusterLabel(d.cluster);
    shares.set(l, (shares.get(l) ?? 0) + p);
  }
  const out: string[] = [];
  const pct = (p: number) => `${Math.round(p * 1e6) / 1e4}%`;
  for (const [label, want] of Object.entries(expectedPct)) {
    const got = shares.get(label) ?? 0;
    if (Math.abs(got * 100 - want) > 1e-6) out.push(`split ${label}: the route's weights give ${pct(got)}, expected ${want}%`);
  }
  for (const [label, got] of shares) if (!(label in expectedPct) && got > 0) out.push(`split: the route's weights send ${pct(got)} to ${label}, which the expectation does not name`);
  return out;
}
