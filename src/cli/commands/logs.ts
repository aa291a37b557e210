import { existsSync, openSync, readSync, closeSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { flaggerLogFile, labHome, paths } from '../../controlplane/lab-home.js';
import type { KubeObject } from '../../model/objects.js';
import { LabError } from '../../shared/errors.js';
import { intOption, parse } from '../args.js';
import { connect } from '../client.js';

export const LOGS_USAGE = `Usage: lab logs [deploy/]NAME|POD [-c istio-proxy|CONTAINER] [--tail N] [-f] [-n NAMESPACE]

Prints a workload's container log (default: the app container; -c istio-proxy for the sidecar's
access log). With several pods, each line is prefixed with its pod.`;

export async function logs(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      container: { type: 'string', short: 'c' },
      tail: { type: 'string' },
      follow: { type: 'boolean', short: 'f' },
      namespace: { type: 'string', short: 'n' },
    },
    LOGS_USAGE,
  );
  if (values.help) {
    console.log(LOGS_USAGE);
    return 0;
  }
  const target = positionals[0];
  if (!target) throw new LabError('LAB_ERR_USAGE', LOGS_USAGE);
  const ns = (values.namespace as string | undefined) ?? (target.startsWith('deploy/istio-ingressgateway') ? 'istio-system' : 'istioinaction');
  const tail = values.tail === undefined ? -1 : intOption(values.tail as string, 'tail', 0);
  if (/^(deploy\/|deployment\/)?flagger$/.test(target)) {
    // The canary controller runs inside the control plane; this is its log.
    const file = flaggerLogFile(paths.logs(labHome()));
    const files = [{ pod: 'flagger', container: 'flagger', file }];
    printFiles(files, tail, false);
    if (values.follow) await follow(files.map((f) => ({ ...f, prefix: false })));
    return 0;
  }
  const pods = await podsFor(target, ns);
  if (pods.length === 0) throw new LabError('LAB_ERR_NOT_FOUND', `no pods found for ${target} in namespace ${ns}`);
  const files = pods.map((p) => {
    const containers = ((p.spec as { containers?: Array<{ name: string }> })?.containers ?? []).map((c) => c.name);
    const proxyOnly = containers[0] === 'istio-proxy';
    const container = (values.container as string | undefined) ?? containers[0] ?? 'istio-proxy';
    const known = proxyOnly ? ['istio-proxy'] : [...containers, 'istio-proxy'];
    if (!known.includes(container)) {
      throw new LabError('LAB_ERR_USAGE', `container ${container} is not valid for pod ${p.metadata.name}: choose one of: [${known.join(' ')}]`);
    }
    return { pod: p.metadata.name, container, file: join(paths.logs(labHome()), ns, p.metadata.name, `${container}.log`) };
  });
  const prefix = files.length > 1;
  printFiles(files, tail, prefix);
  if (values.follow) await follow(files.map((f) => ({ ...f, prefix })));
  return 0;
}

function printFiles(files: Array<{ pod: string; container: string; file: string }>, tail: number, prefix: boolean): void {
  for (const f of files) {
    const text = existsSync(f.file) ? readFileSync(f.file, 'utf8') : '';
    let lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (tail >= 0) lines = lines.slice(Math.max(0, lines.length - tail));
    for (const l of lines) console.log(prefix ? `[pod/${f.pod}/${f.container}] ${l}` : l);
  }
}

async function podsFor(target: string, ns: string): Promise<KubeObject[]> {
  const client = connect();
  const { items } = await client.call<{ items: KubeObject[] }>('GET', `/objects?${new URLSearchParams({ kind: 'Pod', namespace: ns })}`);
  const [kind, name] = target.includes('/') ? target.split('/', 2) : ['', target];
  const isDeploy = kind === 'deploy' || kind === 'deployment' || kind === 'deployments';
  if (kind && !isDeploy && kind !== 'pod' && kind !== 'po') throw new LabError('LAB_ERR_USAGE', `lab logs takes deploy/NAME or a pod name, got ${target}`);
  if (kind === 'pod' || kind === 'po') return items.filter((p) => p.metadata.name === name);
  const exactPod = items.filter((p) => p.metadata.name === name);
  if (!isDeploy && exactPod.length) return exactPod;
  return items.filter((p) => p.metadata.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === name));
}

async function follow(files: Array<{ pod: string; container: string; file: string; prefix: boolean }>): Promise<never> {
  const offsets = files.map((f) => (existsSync(f.file) ? statSync(f.file).size : 0));
  for (;;) {
    files.forEach((f, i) => {
      if (!existsSync(f.file)) return;
      const size = statSync(f.file).size;
      if (size <= offsets[i]!) return;
      const fd = openSync(f.file, 'r');
      const buf = Buffer.alloc(size - offsets[i]!);
      readSync(fd, buf, 0, buf.length, offsets[i]!);
      closeSync(fd);
      offsets[i] = size;
      for (const l of buf.toString('utf8').split('\n').filter(Boolean)) console.log(f.prefix ? `[pod/${f.pod}/${f.container}] ${l}` : l);
    });
    await new Promise((r) => setTimeout(r, 200));
  }
}
