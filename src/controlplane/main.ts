/**
 * The control plane process (`lab up` starts it in the background). Arguments come as JSON in
 * LAB_CP_OPTIONS; state lives in LAB_HOME. It claims an address block by binding its API there,
 * starts the ingress gateway and the workloads the store already holds, then writes lab.json.
 */
import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { AddressPlan, blockCandidates, defaultAddressMode } from '../runtime/addresses.js';
import { LocalRuntime } from '../runtime/local/local-runtime.js';
import { ControlPlane } from './controlplane.js';
import { labHome, paths, removeLabInfo, writeLabInfo } from './lab-home.js';
import { applyMeshSettings, loadMeshConfig, saveMeshConfig } from './mesh-config.js';

interface Options {
  ingressPort: number;
  runtime: 'local';
  seed?: number;
  realExternal?: boolean;
  set?: string[];
  timeScale?: number;
}

const API_PORT = 15010;
const home = labHome();
const opts = JSON.parse(process.env.LAB_CP_OPTIONS ?? '{}') as Options;
const log = (msg: string) => process.stdout.write(`${new Date().toISOString()} ${msg}\n`);

function listen(server: Server, host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') resolve(false);
      else reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port });
  });
}

async function main(): Promise<void> {
  mkdirSync(home, { recursive: true });
  const mode = defaultAddressMode();
  const server = createServer();
  let addresses: AddressPlan | undefined;
  if (mode === 'loopback-ips') {
    for (const block of blockCandidates(home)) {
      const plan = new AddressPlan(mode, block);
      if (await listen(server, plan.controlPlaneHost, API_PORT)) {
        addresses = plan;
        break;
      }
    }
    if (!addresses) throw new Error('no free loopback address block for the lab');
  } else {
    addresses = new AddressPlan(mode, 0);
    await listen(server, '127.0.0.1', 0);
  }
  const apiPort = (server.address() as { port: number }).port;

  let mesh = loadMeshConfig(paths.mesh(home));
  if (opts.set?.length) {
    mesh = applyMeshSettings(mesh, opts.set);
    saveMeshConfig(paths.mesh(home), mesh);
  }
  const runtime = new LocalRuntime();
  const cp = new ControlPlane({
    runtime,
    addresses,
    mesh,
    meshFile: paths.mesh(home),
    storeFile: paths.store(home),
    logDir: paths.logs(home),
    ingressPort: opts.ingressPort ?? 8080,
    seed: opts.seed,
    realExternal: opts.realExternal ?? false,
    timeScale: opts.timeScale ?? 1,
    log,
  });

  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`shutting down (${why})`);
    const hard = setTimeout(() => process.exit(1), 10_000);
    hard.unref();
    await cp.stop().catch((e: Error) => log(`stop: ${e.message}`));
    removeLabInfo(home);
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await cp.start(server);
  writeLabInfo(home, {
    pid: process.pid,
    api: `http://${addresses.controlPlaneHost}:${apiPort}`,
    ingressPort: opts.ingressPort ?? 8080,
    runtime: runtime.name,
    addressMode: addresses.mode,
    block: addresses.block,
    startedAt: new Date().toISOString(),
    seed: opts.seed,
    timeScale: opts.timeScale ?? 1,
  });
  log(`control plane ready: api http://${addresses.controlPlaneHost}:${apiPort}, ingress 127.0.0.1:${opts.ingressPort ?? 8080}, runtime ${runtime.name}, addresses ${addresses.mode}`);
}

main().catch((err: Error) => {
  log(`fatal: ${err.stack ?? err.message}`);
  process.exit(1);
});
