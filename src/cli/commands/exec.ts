/**
 * `lab exec POD|deploy/NAME [-c CONTAINER] [-n NS] -- COMMAND [ARGS...]`, like `kubectl exec`.
 * On Docker the command runs inside the pod's container (through the Engine API), so a plain
 * `curl` there is captured by the pod's iptables rules like any app's call. On the local runtime
 * it runs as a local process with the pod's environment: its outbound proxy in `http_proxy`
 * (which curl honours), the only way a local process reaches the mesh.
 */
import { spawn } from 'node:child_process';
import { labHome, readLabInfo } from '../../controlplane/lab-home.js';
import type { KubeObject } from '../../model/objects.js';
import type { PodStatus } from '../../model/specs.js';
import { dockerClient } from '../../runtime/docker/engine.js';
import { labFilter, LABELS } from '../../runtime/docker/labels.js';
import { LabError } from '../../shared/errors.js';
import { parse } from '../args.js';
import { connect } from '../client.js';

export const EXEC_USAGE = `Usage: lab exec POD|deploy/NAME [-c CONTAINER] [-n NAMESPACE] -- COMMAND [ARGS...]

Runs a command in a pod, like kubectl exec. The container defaults to the app's (not istio-proxy).
  Docker runtime: inside the container; its network calls are captured by the pod's iptables rules,
                  so e.g. \`lab exec deploy/webapp -- curl -s http://catalog/items\` is routed by the mesh.
  local runtime:  a local process with the pod's outbound proxy in http_proxy/HTTP_PROXY.
The exit code is the command's.`;

export async function exec(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const command = dash >= 0 ? argv.slice(dash + 1) : [];
  const { values, positionals } = parse(own, { container: { type: 'string', short: 'c' }, namespace: { type: 'string', short: 'n', default: 'istioinaction' } }, EXEC_USAGE);
  if (values.help) {
    console.log(EXEC_USAGE);
    return 0;
  }
  if (positionals.length !== 1 || command.length === 0) throw new LabError('LAB_ERR_USAGE', `exec needs one pod and a command after --\n\n${EXEC_USAGE}`);
  const ns = values.namespace as string;
  const pod = await findPod(positionals[0]!, ns);
  const info = readLabInfo(labHome());
  const spec = pod.spec as { containers?: Array<{ name: string }> };
  const container = (values.container as string | undefined) ?? spec.containers?.[0]?.name ?? 'istio-proxy';
  if (info?.runtime === 'docker') return execDocker(info.labId!, ns, pod.metadata.name, container, command);
  return execLocal(pod, command);
}

async function findPod(ref: string, ns: string): Promise<KubeObject> {
  const { items } = await connect().call<{ items: KubeObject[] }>('GET', `/objects?${new URLSearchParams({ kind: 'Pod', namespace: ns })}`);
  const m = /^(?:deploy|deployment)\/(.+)$/.exec(ref);
  const ready = (p: KubeObject) => ((p.status ?? {}) as unknown as PodStatus).ready === true;
  if (m) {
    const pod = items.find((p) => ready(p) && p.metadata.ownerReferences?.some((o) => o.name === m[1]));
    if (!pod) throw new LabError('LAB_ERR_NOT_FOUND', `no ready pod of Deployment ${m[1]} in namespace ${ns}`);
    return pod;
  }
  const pod = items.find((p) => p.metadata.name === ref.replace(/^(?:po|pod|pods)\//, ''));
  if (!pod) throw new LabError('LAB_ERR_NOT_FOUND', `pod "${ref}" not found in namespace ${ns}`);
  return pod;
}

async function execDocker(labId: string, ns: string, pod: string, container: string, command: string[]): Promise<number> {
  const docker = dockerClient();
  const [found] = await docker.listContainers({
    filters: { label: [...labFilter(labId).label, `${LABELS.namespace}=${ns}`, `${LABELS.pod}=${pod}`, `${LABELS.container}=${container}`] },
  });
  if (!found) throw new LabError('LAB_ERR_NOT_FOUND', `pod ${ns}/${pod} has no running container "${container}"`);
  const e = await docker.getContainer(found.Id).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({ hijack: true, stdin: false });
  await new Promise<void>((resolve) => {
    docker.modem.demuxStream(stream, process.stdout, process.stderr);
    stream.on('end', resolve);
    stream.on('close', resolve);
  });
  const result = (await e.inspect()) as { ExitCode: number | null };
  return result.ExitCode ?? 1;
}

function execLocal(pod: KubeObject, command: string[]): Promise<number> {
  const st = (pod.status ?? {}) as unknown as PodStatus;
  const proxy = st.outboundProxy;
  const env = { ...process.env, ...(proxy ? { http_proxy: proxy, HTTP_PROXY: proxy } : {}), POD_NAME: pod.metadata.name, POD_NAMESPACE: pod.metadata.namespace ?? '' };
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env });
    child.on('error', (err) => reject(new LabError('LAB_ERR_USAGE', `cannot run ${command[0]}: ${err.message}`)));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
