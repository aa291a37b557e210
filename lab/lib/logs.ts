import { parseAccessLogLines, type ParsedAccessLog } from '../../src/proxy/telemetry/access-log.js';
import type { StepContext } from './scenario.js';

/** Access log lines of a workload's sidecar (or the gateway), read with `lab logs ... -c istio-proxy`. */
export async function accessLog(ctx: StepContext, deployment: string, namespace = 'istioinaction', silent = false): Promise<ParsedAccessLog[]> {
  const out = await ctx.labOut(['logs', `deploy/${deployment}`, '-c', 'istio-proxy', '-n', namespace], silent);
  // Multi-pod output is prefixed with [pod/...]; strip it before parsing.
  const lines = out.split('\n').map((l) => l.replace(/^\[pod\/[^\]]+\] /, ''));
  return parseAccessLogLines(lines);
}

export function withRequestId(lines: ParsedAccessLog[], id: string): ParsedAccessLog[] {
  return lines.filter((l) => l.requestId === id);
}

export function describe(l: ParsedAccessLog | undefined): string {
  if (!l) return 'no log line';
  return `"${l.method} ${l.path}" ${l.responseCode} ${l.responseFlags} ${l.responseCodeDetails} upstream ${l.upstreamHost} ${l.upstreamCluster} route ${l.routeName}`;
}

/**
 * Proxies write their access log a moment after the response (batched per event-loop turn):
 * poll until the line for `id` shows up, bounded.
 */
export async function waitForLog(ctx: StepContext, deployment: string, id: string, namespace = 'istioinaction', count = 1): Promise<ParsedAccessLog[]> {
  const deadline = Date.now() + 5000;
  for (let i = 0; ; i++) {
    const lines = withRequestId(await accessLog(ctx, deployment, namespace, i > 0), id);
    if (lines.length >= count || Date.now() > deadline) return lines;
    await new Promise((r) => setTimeout(r, 100));
  }
}
