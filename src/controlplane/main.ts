/**
 * The control plane process (`lab up` starts it in the background). Arguments come as JSON in
 * LAB_CP_OPTIONS; state lives in LAB_HOME. It claims an address block by binding its API there,
 * starts the ingress gateway and the workloads the store already holds, then writes lab.json.
 */
import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { AddressPlan, blockCandidates, defaultAddressMode } from '../runtime/addresses.js';
import { LocalRuntime } from '../runtime/local/local-runtime.js';
import { AgentRuntime } from '../runtime/local/agent-runtime.js';
import { DockerRuntime } from '../runtime/docker/docker-runtime.js';
import { dockerClient } from '../runtime/docker/engine.js';
import { labLabels } from '../runtime/docker/labels.js';
import { labSubnet } from '../runtime/docker/subnet.js';
import { startDnsServer } from '../dns/server.js';
import type { Runtime } from '../runtime/types.js';
import { ControlPlane } from './controlplane.js';
import { ensureToken, labHome, paths, removeLabInfo, writeLabInfo } from './lab-home.js';
import { readStoreFile } from '../store/persistence.js';
import { LabError } from '../shared/errors.js';
import { applyMeshSettings, loadMeshConfig, saveMeshConfig } from './mesh-config.js';
import { DockerPrometheus } from '../runtime/docker/prometheus-container.js';
import { prometheusPaths } from '../runtime/local/prometheus-process.js';
import { dockerPrometheusRunner } from './metrics.js';

/** What `lab up --runtime docker` tells the control plane container about its lab. */
export interface DockerLabOptions {
  labId: string;
  network: string;
  /** Second octet of the lab network (172.N.0.0/16). */
  subnet: number;
  image: string;
  /** The API as the host reaches it (the published port). */
  apiUrl: string;
  /** Echoed into lab.json so `lab up` knows this start wrote it. */
  nonce: string;
}

interface Options {
  ingressPort: number;
  runtime: 'local' | 'docker';
  /** Local runtime: the node agent that runs the pods (they outlive this process). */
  agentUrl?: string;
  docker?: DockerLabOptions;
  seed?: number;
  realExternal?: boolean;
  set?: string[];
  timeScale?: number;
  /** `lab up --prometheus` / LAB_METRICS=prometheus. */
  metrics?: 'embedded' | 'prometheus';
  /** Docker: the Prometheus image `lab up` built on the host. */
  prometheusImage?: string;
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
  // State that does not load stops the start here, before anything is started or written: the
  // files are kept as they are for the user (the message says how to recover).
  readStoreFile(paths.store(home));
  let mesh = loadMeshConfig(paths.mesh(home));
  // `lab up` made it already; under compose.yaml this is the first start and makes it.
  const token = ensureToken(home);
  const dockerLab = opts.runtime === 'docker' ? opts.docker : undefined;
  const agent = !dockerLab && opts.agentUrl ? new AgentRuntime(opts.agentUrl, ensureToken(home), log) : undefined;
  if (opts.runtime === 'docker' && !dockerLab) throw new Error('runtime docker without its lab options');
  const mode = dockerLab ? 'network' : defaultAddressMode();
  const server = createServer();
  let addresses: AddressPlan | undefined;
  if (dockerLab) {
    // Inside the control plane container: the API is published on the host's loopback.
    addresses = new AddressPlan('network', 0, labSubnet(dockerLab.subnet));
    if (!(await listen(server, '0.0.0.0', API_PORT))) throw new Error(`port ${API_PORT} is taken in the control plane container`);
  } else if (mode === 'loopback-ips') {
    // The pods an agent still runs have addresses in the block an earlier control plane claimed.
    const kept = agent ? (await agent.meta<{ block?: number }>()).block : undefined;
    const candidates = kept === undefined ? blockCandidates(home) : [kept, ...blockCandidates(home).filter((b) => b !== kept)];
    for (const block of candidates) {
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
  await agent?.setMeta({ block: addresses.block, mode: addresses.mode });

  if (opts.set?.length) {
    mesh = applyMeshSettings(mesh, opts.set);
    saveMeshConfig(paths.mesh(home), mesh);
  }
  const runtime: Runtime = dockerLab
    ? new DockerRuntime({
        docker: dockerClient(),
        labId: dockerLab.labId,
        baseLabels: { ...labLabels(dockerLab.labId, home, 'pod') },
        network: dockerLab.network,
        image: dockerLab.image,
        dns: addresses.controlPlaneHost,
        controlPlaneIp: addresses.controlPlaneHost,
        log,
      })
    : (agent ?? new LocalRuntime());
  const cp = new ControlPlane({
    serviceCidr: dockerLab ? addresses.subnet!.serviceCidr : undefined,
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
    token,
    home,
    metrics: opts.metrics,
    prometheus: dockerLab
      ? {
          runner: dockerPrometheusRunner(new DockerPrometheus({ docker: dockerClient(), labId: dockerLab.labId, home, network: dockerLab.network, dir: prometheusPaths.dir(home), configFile: prometheusPaths.config(home) })),
          image: opts.prometheusImage,
        }
      : undefined,
  });

  let stopping = false;
  const shutdown = async (why: string, teardown: boolean) => {
    if (stopping) return;
    stopping = true;
    if (!teardown) {
      // Docker: `docker stop`/`restart` of the control plane must not take the data plane with it.
      log(`exiting (${why}); pods keep serving their last configuration and the next control plane adopts them`);
      cp.detach();
      agent?.detach();
      process.exit(0);
    }
    log(`shutting down (${why})`);
    const hard = setTimeout(() => process.exit(1), 20_000);
    hard.unref();
    await cp.stop().catch((e: Error) => log(`stop: ${e.message}`));
    removeLabInfo(home);
    server.close();
    process.exit(0);
  };
  // Pods run in containers (Docker) or under the node agent (local), not in this process: a signal
  // ends the control plane only. Without an agent the pods are this process's children and go too.
  const podsOutliveUs = dockerLab !== undefined || agent !== undefined;
  process.on('SIGTERM', () => void shutdown('SIGTERM', !podsOutliveUs));
  process.on('SIGINT', () => void shutdown('SIGINT', !podsOutliveUs));
  cp.onShutdownRequest = () => void shutdown('lab down', true);

  if (dockerLab) {
    // Pods' resolver (Docker's embedded DNS) forwards the names it does not know here.
    const dns = await startDnsServer({ host: '0.0.0.0', port: 53, lookup: () => cp.dnsHosts(), log });
    log(`dns: serving the mesh's names on ${addresses.controlPlaneHost}:${dns.port}`);
  }
  await cp.start(server);
  writeLabInfo(home, {
    pid: process.pid,
    api: dockerLab ? dockerLab.apiUrl : `http://${addresses.controlPlaneHost}:${apiPort}`,
    ...(dockerLab ? { nonce: dockerLab.nonce, labId: dockerLab.labId, network: dockerLab.network, image: dockerLab.image } : {}),
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
  // A LabError is a condition to report (a store that does not load), not a bug: its message alone.
  log(`fatal: ${err instanceof LabError ? err.message : (err.stack ?? err.message)}`);
  process.exit(1);
});
