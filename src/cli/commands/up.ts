import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labHome, paths, processAlive, readLabInfo, removeLabInfo } from '../../controlplane/lab-home.js';
import { LabError } from '../../shared/errors.js';
import { intOption, parse } from '../args.js';
import { detectRuntime } from '../runtime-choice.js';

export const UP_USAGE = `Usage: lab up [--runtime auto|local|docker] [--ingress-port 8080] [--seed N] [--time-scale N]
              [--real-external] [--set meshConfig.outboundTrafficPolicy.mode=ALLOW_ANY|REGISTRY_ONLY]

Starts the lab in the background (control plane, ingress gateway, the external stand-in) and
returns when it is ready. State lives in $LAB_HOME (default ./.lab).
  --runtime        auto (default) uses Docker when an engine answers, else local processes
  --ingress-port   host port for the gateway's port 80 (the book's http://localhost)
  --seed           make weighted routing and mirror sampling reproducible
  --time-scale     run canary analysis N times faster (45: a 45s interval takes 1s); default 1
  --real-external  send forum's calls to the real jsonplaceholder.typicode.com (needs internet)
  --set            mesh settings, like istioctl install --set`;

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
  const { values } = parse(
    argv,
    {
      runtime: { type: 'string', default: 'auto' },
      'ingress-port': { type: 'string' },
      seed: { type: 'string' },
      'real-external': { type: 'boolean' },
      'time-scale': { type: 'string' },
      set: { type: 'string', multiple: true },
    },
    UP_USAGE,
  );
  if (values.help) {
    console.log(UP_USAGE);
    return 0;
  }
  const home = labHome();
  const existing = readLabInfo(home);
  if (existing && processAlive(existing.pid)) {
    console.log(`lab is already up in ${home} (control plane pid ${existing.pid}, ingress 127.0.0.1:${existing.ingressPort})`);
    return 0;
  }
  removeLabInfo(home);
  const ingressPort = intOption(values['ingress-port'] as string | undefined, 'ingress-port', 8080);
  const seed = values.seed === undefined ? undefined : intOption(values.seed as string, 'seed', 0);
  const timeScale = values['time-scale'] === undefined ? 1 : Number(values['time-scale']);
  if (!Number.isFinite(timeScale) || timeScale <= 0) throw new LabError('LAB_ERR_USAGE', `--time-scale must be a positive number, got "${values['time-scale']}"`);
  const runtime = await detectRuntime(values.runtime as string);
  console.log(`runtime: ${runtime.name} (${runtime.reason})`);
  if (!(await portFree(ingressPort))) {
    throw new LabError('LAB_ERR_USAGE', `ingress port 127.0.0.1:${ingressPort} is in use; pick another with --ingress-port`);
  }

  mkdirSync(home, { recursive: true });
  const logFile = paths.controlPlaneLog(home);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [CP_ENTRY], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: {
      ...process.env,
      LAB_HOME: home,
      LAB_CP_OPTIONS: JSON.stringify({ ingressPort, runtime: runtime.name, seed, realExternal: values['real-external'] ?? false, set: values.set ?? [], timeScale }),
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
