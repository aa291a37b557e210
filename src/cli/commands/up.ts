import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labHome, paths, processAlive, readLabInfo, removeLabInfo } from '../../controlplane/lab-home.js';
import { readAgentInfo } from '../../runtime/local/agent-protocol.js';
import { LabError } from '../../shared/errors.js';
import { ensureToken } from '../../controlplane/lab-home.js';
import { loadMeshConfig } from '../../controlplane/mesh-config.js';
import { readStoreFile } from '../../store/persistence.js';
import { intOption, parse } from '../args.js';
import { defaultRuntime, detectRuntime } from '../runtime-choice.js';
import { dockerClient } from '../../runtime/docker/engine.js';
import { ensureImage } from '../../runtime/docker/image.js';
import { ensurePrometheusImage } from '../../runtime/docker/prometheus-image.js';
import { dockerName, labId, LABELS } from '../../runtime/docker/labels.js';
import { containerRunning, createLabNetwork, removeLab, startControlPlaneContainer } from '../../runtime/docker/lab-containers.js';
import { apiAuthHeaders, labAlive } from '../client.js';

export const UP_USAGE = `Usage: lab up [--runtime auto|local|docker] [--ingress-port 8080] [--seed N] [--time-scale N]
              [--real-external] [--set meshConfig.outboundTrafficPolicy.mode=ALLOW_ANY|REGISTRY_ONLY]
              [--prometheus]

Starts the lab in the background (control plane, ingress gateway, the external stand-in) and
returns when it is ready. State lives in $LAB_HOME (default ./.lab).
  --runtime        local (default; or $LAB_RUNTIME): workloads are local processes;
                   docker: every pod is containers with iptables capture (needs a Docker engine);
                   auto: Docker when an engine answers, else local (it says which)
  --ingress-port   host port for the gateway's port 80 (the book's http://localhost)
  --seed           make weighted routing and mirror sampling reproducible
  --time-scale     run canary analysis N times faster (45: a 45s interval takes 1s); default 1
  --dashboard      also serve the dashboard (lab dashboard) in the background and print its URL;
                   lab down stops it (or LAB_DASHBOARD=1, or LAB_DASHBOARD=PORT for a fixed port)
  --real-external  send forum's calls to the real jsonplaceholder.typicode.com (needs internet)
  --set            mesh settings, like istioctl install --set
  --prometheus     run a real Prometheus (Debian's prometheus package) as the canary's metrics
                   provider (or $LAB_METRICS=prometheus); default: the embedded provider`;

/** `--prometheus`, else $LAB_METRICS (embedded | prometheus). */
function metricsChoice(flag: boolean | undefined): 'embedded' | 'prometheus' {
  if (flag) return 'prometheus';
  const env = process.env.LAB_METRICS;
  if (env === undefined || env === '' || env === 'embedded') return 'embedded';
  if (env === 'prometheus') return 'prometheus';
  throw new LabError('LAB_ERR_USAGE', `LAB_METRICS must be embedded or prometheus, got "${env}"`);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port }, () => s.close(() => resolve(true)));
  });
}

const CP_ENTRY = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'controlplane', 'main.js');
const START_TIMEOUT_MS = 60_000;

export async function up(argv: string[]): Promise<number> {
  // LAB_DASHBOARD=1 (a free port) or =PORT does the same for labs others start (scenarios, the
  // tutorial): with a fixed port one open page follows each new lab, as its stream reconnects.
  const env = process.env.LAB_DASHBOARD ?? '';
  const withDashboard = argv.includes('--dashboard') || (env !== '' && env !== '0');
  const code = await upLab(argv.filter((a) => a !== '--dashboard'));
  if (code !== 0 || !withDashboard || argv.includes('--help') || argv.includes('-h')) return code;
  const port = Number(env);
  return (await import('./dashboard.js')).dashboard(['--background', ...(Number.isInteger(port) && port > 1 ? ['--port', String(port)] : [])]);
}

async function upLab(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    {
      runtime: { type: 'string', default: defaultRuntime() },
      'ingress-port': { type: 'string' },
      seed: { type: 'string' },
      'real-external': { type: 'boolean' },
      'time-scale': { type: 'string' },
      set: { type: 'string', multiple: true },
      prometheus: { type: 'boolean' },
    },
    UP_USAGE,
  );
  if (values.help) {
    console.log(UP_USAGE);
    return 0;
  }
  const home = labHome();
  const existing = readLabInfo(home);
  if (existing && (await labAlive(existing))) {
    console.log(`lab is already up in ${home} (control plane pid ${existing.pid}, ingress 127.0.0.1:${existing.ingressPort})`);
    return 0;
  }
  // A store or mesh config that does not load is reported, naming the file, and kept: the lab does
  // not start empty over it (the control plane checks again, for compose.yaml's starts).
  readStoreFile(paths.store(home));
  loadMeshConfig(paths.mesh(home));
  removeLabInfo(home);
  const ingressPort = intOption(values['ingress-port'] as string | undefined, 'ingress-port', 8080);
  const seed = values.seed === undefined ? undefined : intOption(values.seed as string, 'seed', 0);
  const timeScale = values['time-scale'] === undefined ? 1 : Number(values['time-scale']);
  if (!Number.isFinite(timeScale) || timeScale <= 0) throw new LabError('LAB_ERR_USAGE', `--time-scale must be a positive number, got "${values['time-scale']}"`);
  const runtime = await detectRuntime(values.runtime as string);
  console.log(`runtime: ${runtime.name} (${runtime.reason})`);

  mkdirSync(home, { recursive: true });
  // The API's token (mode 0600); the control plane, local or in its container, reads it from here.
  ensureToken(home);
  const metrics = metricsChoice(values.prometheus as boolean | undefined);
  const cpOptions = { ingressPort, seed, realExternal: values['real-external'] ?? false, set: values.set ?? [], timeScale, metrics };
  if (runtime.name === 'docker') return upDocker(home, cpOptions);
  const agent = await ensureAgent(home);
  if (agent.pods > 0) console.log(`node agent (pid ${agent.pid}) still runs ${agent.pods} pod(s): the control plane will adopt them`);
  else if (!(await portFree(ingressPort))) {
    throw new LabError('LAB_ERR_USAGE', `ingress port 127.0.0.1:${ingressPort} is in use; pick another with --ingress-port`);
  }
  const logFile = paths.controlPlaneLog(home);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [CP_ENTRY], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: {
      ...process.env,
      LAB_HOME: home,
      LAB_CP_OPTIONS: JSON.stringify({ ...cpOptions, runtime: 'local', agentUrl: agent.url }),
    },
  });
  closeSync(fd);
  child.unref();
  process.stdout.write(`starting control plane (pid ${child.pid}), ingress gateway and external stand-in`);
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  while (Date.now() < deadline) {
    const info = readLabInfo(home);
    if (info && info.pid === child.pid) {
      process.stdout.write(' done\n');
      console.log(`lab is up: ingress http://127.0.0.1:${info.ingressPort}  (try: curl -H "Host: catalog.istioinaction.io" http://127.0.0.1:${info.ingressPort}/items)`);
      console.log(`state and logs: ${home}`);
      return 0;
    }
    if (exited !== null) break;
    process.stdout.write('.');
    await new Promise((r) => setTimeout(r, 200));
  }
  process.stdout.write('\n');
  const tail = readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
  if (exited === null) process.kill(child.pid!, 'SIGTERM');
  throw new LabError('LAB_ERR_RUNTIME', `the control plane did not become ready${exited !== null ? ` (exited with ${exited})` : ''}; its log (${logFile}) ends with:\n${tail}`);
}

const AGENT_ENTRY = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'runtime', 'local', 'agent-main.js');

/**
 * The local runtime's node agent: the one still running for this LAB_HOME (with the pods an
 * earlier control plane left), or a new one in a process group of its own.
 */
async function ensureAgent(home: string): Promise<{ url: string; pid: number; pods: number }> {
  const existing = readAgentInfo(home);
  if (existing && processAlive(existing.pid)) {
    try {
      const res = await fetch(`${existing.url}/pods`, { signal: AbortSignal.timeout(3000), headers: apiAuthHeaders(ensureToken(home)) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const { pods } = (await res.json()) as { pods: unknown[] };
      return { url: existing.url, pid: existing.pid, pods: pods.length };
    } catch {
      process.kill(existing.pid, 'SIGKILL');
    }
  }
  const fd = openSync(join(home, 'agent.log'), 'a');
  const child = spawn(process.execPath, [AGENT_ENTRY], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, LAB_HOME: home } });
  closeSync(fd);
  child.unref();
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const info = readAgentInfo(home);
    if (info && info.pid === child.pid) return { url: info.url, pid: info.pid, pods: 0 };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new LabError('LAB_ERR_RUNTIME', `the node agent did not start; see ${join(home, 'agent.log')}`);
}

/** `lab up --runtime docker`: image, network, then the control plane container, which starts the rest. */
async function upDocker(home: string, cpOptions: Record<string, unknown>): Promise<number> {
  const docker = dockerClient();
  const id = labId(home);
  const t0 = Date.now();
  // Pods an earlier control plane left running are adopted by the new one (the data plane outlives
  // the control plane); only the dead control plane's container goes.
  const leftPods = await docker.listContainers({ filters: { label: [`${LABELS.lab}=${id}`, `${LABELS.role}=pod`] } });
  await docker.getContainer(dockerName(id, 'controlplane')).remove({ force: true }).catch(() => undefined);
  if (leftPods.length > 0) console.log(`found ${leftPods.length} running container(s) of this lab's pods: the control plane will adopt them`);
  else if (!(await portFree(Number(cpOptions.ingressPort)))) {
    throw new LabError('LAB_ERR_USAGE', `ingress port 127.0.0.1:${cpOptions.ingressPort} is in use; pick another with --ingress-port`);
  }
  const image = await ensureImage(docker, (m) => console.log(m));
  // The control plane container starts Prometheus, but its image is made here, from the host's binary.
  if (cpOptions.metrics === 'prometheus') cpOptions = { ...cpOptions, prometheusImage: await ensurePrometheusImage(docker, (m) => console.log(m)) };
  const network = await createLabNetwork(docker, id, home);
  const logFile = paths.controlPlaneLog(home);
  const started = await startControlPlaneContainer(docker, { id, home, image, network, cpOptions, logFile });
  process.stdout.write(`starting control plane container ${started.container} (network ${network.name}, 172.${network.second}.0.0/16), ingress gateway and external stand-in`);
  const deadline = Date.now() + START_TIMEOUT_MS;
  let running = true;
  while (Date.now() < deadline) {
    const info = readLabInfo(home);
    if (info && info.nonce === started.nonce) {
      process.stdout.write(` done (${((Date.now() - t0) / 1000).toFixed(1)}s)\n`);
      console.log(`lab is up: ingress http://127.0.0.1:${info.ingressPort}  (try: curl -H "Host: catalog.istioinaction.io" http://127.0.0.1:${info.ingressPort}/items)`);
      console.log(`state and logs: ${home}; containers: docker ps --filter label=io.istio-lab.lab=${id}`);
      return 0;
    }
    running = await containerRunning(docker, started.container);
    if (!running) break;
    process.stdout.write('.');
    await new Promise((r) => setTimeout(r, 250));
  }
  process.stdout.write('\n');
  const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '(no log)';
  await removeLab(docker, id);
  throw new LabError('LAB_ERR_RUNTIME', `the control plane container did not become ready${running ? '' : ' (it exited)'}; its log (${logFile}) ends with:\n${tail}`);
}
