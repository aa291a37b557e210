/**
 * The lab's own Docker objects, as the CLI creates and removes them: the network, the control
 * plane container (which then creates pods itself through the same engine), and cleanup of
 * everything carrying the lab's label, which also covers a crashed or interrupted lab.
 */
import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import { LabError } from '../../shared/errors.js';
import { freePort } from '../addresses.js';
import { dockerName, labFilter, labLabels, LABELS } from './labels.js';
import { labSubnet, subnetCandidates } from './subnet.js';
import type { DockerLabOptions } from '../../controlplane/main.js';

export const CONTROL_PLANE_API_PORT = 15010;

/** The engine's socket as a path the control plane container can mount. */
export function dockerSocketPath(): string {
  const host = process.env.DOCKER_HOST;
  if (!host) return '/var/run/docker.sock';
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  throw new LabError('LAB_ERR_USAGE', `DOCKER_HOST=${host}: the Docker runtime needs the engine's unix socket (the control plane container mounts it)`);
}

/** The lab network, as data (see controlPlaneSpec). */
export function networkSpec(id: string, home: string, second: number): { name: string; labels: Record<string, string>; subnet: string; ipRange: string; gateway: string } {
  const s = labSubnet(second);
  return { name: dockerName(id, 'net'), labels: labLabels(id, home, 'network'), subnet: s.subnet, ipRange: s.ipRange, gateway: s.gateway };
}

/** Creates the lab network on the first free 172.N.0.0/16 of the lab's candidates. */
export async function createLabNetwork(docker: Docker, id: string, home: string): Promise<{ name: string; second: number }> {
  const name = dockerName(id, 'net');
  const existing = (await docker.listNetworks({ filters: { name: [name] } })).find((n) => n.Name === name);
  if (existing) {
    const subnet = existing.IPAM?.Config?.[0]?.Subnet ?? '';
    const m = /^172\.(\d+)\.0\.0\/16$/.exec(subnet);
    if (m) return { name, second: Number(m[1]) };
    await docker.getNetwork(existing.Id).remove();
  }
  const errors: string[] = [];
  for (const second of subnetCandidates(id)) {
    const s = labSubnet(second);
    const spec = networkSpec(id, home, second);
    try {
      await docker.createNetwork({
        Name: spec.name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: spec.labels,
        IPAM: { Driver: 'default', Config: [{ Subnet: spec.subnet, IPRange: spec.ipRange, Gateway: spec.gateway }] },
      });
      return { name, second };
    } catch (err) {
      // Overlapping pools are the expected refusal; keep looking.
      errors.push(`${s.subnet}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new LabError('LAB_ERR_RUNTIME', `no free 172.18-31.0.0/16 network for the lab:\n  ${errors.join('\n  ')}`);
}

export interface StartedControlPlane {
  container: string;
  apiUrl: string;
  nonce: string;
}

/** The control plane container, as data: `lab up` creates it from this, compose.yaml is generated from it. */
export interface ControlPlaneSpec {
  name: string;
  image: string;
  hostname: string;
  command: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  /** host path -> container path */
  binds: Array<{ host: string; container: string }>;
  publish: { hostIp: string; hostPort: number; containerPort: number };
  network: string;
  ip: string;
  aliases: string[];
}

export interface ControlPlaneInputs {
  id: string;
  /** LAB_HOME as the host sees it; mounted at the same path, so pods' log mounts name host paths. */
  home: string;
  image: string;
  network: { name: string; second: number };
  cpOptions: Record<string, unknown>;
  logFile: string;
  apiPort: number;
  nonce: string;
  socket: string;
}

export function controlPlaneSpec(o: ControlPlaneInputs): ControlPlaneSpec {
  const s = labSubnet(o.network.second);
  const apiUrl = `http://127.0.0.1:${o.apiPort}`;
  const dockerOpts: DockerLabOptions = { labId: o.id, network: o.network.name, subnet: o.network.second, image: o.image, apiUrl, nonce: o.nonce };
  return {
    name: dockerName(o.id, 'controlplane'),
    image: o.image,
    hostname: 'istiod',
    command: ['/bin/sh', '-c', 'exec node /app/dist/src/controlplane/main.js >>"$LAB_LOG_FILE" 2>&1'],
    env: { LAB_HOME: o.home, LAB_LOG_FILE: o.logFile, LAB_CP_OPTIONS: JSON.stringify({ ...o.cpOptions, runtime: 'docker', docker: dockerOpts }) },
    labels: labLabels(o.id, o.home, 'controlplane'),
    binds: [
      { host: o.home, container: o.home },
      { host: o.socket, container: '/var/run/docker.sock' },
    ],
    publish: { hostIp: '127.0.0.1', hostPort: o.apiPort, containerPort: CONTROL_PLANE_API_PORT },
    network: o.network.name,
    ip: s.controlPlane,
    aliases: ['istiod'],
  };
}

/** Starts the control plane container; it writes lab.json into LAB_HOME (mounted at its own path). */
export async function startControlPlaneContainer(
  docker: Docker,
  o: { id: string; home: string; image: string; network: { name: string; second: number }; cpOptions: Record<string, unknown>; logFile: string },
): Promise<StartedControlPlane> {
  const spec = controlPlaneSpec({ ...o, apiPort: await freePort(), nonce: randomUUID(), socket: dockerSocketPath() });
  const port = `${spec.publish.containerPort}/tcp`;
  const container = await docker.createContainer({
    name: spec.name,
    Image: spec.image,
    Hostname: spec.hostname,
    Cmd: spec.command,
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: spec.labels,
    ExposedPorts: { [port]: {} },
    HostConfig: {
      NetworkMode: spec.network,
      Binds: spec.binds.map((b) => `${b.host}:${b.container}`),
      PortBindings: { [port]: [{ HostIp: spec.publish.hostIp, HostPort: String(spec.publish.hostPort) }] },
      RestartPolicy: { Name: 'no' },
    },
    NetworkingConfig: { EndpointsConfig: { [spec.network]: { IPAMConfig: { IPv4Address: spec.ip }, Aliases: spec.aliases } } },
  });
  await container.start();
  const dockerOpts = JSON.parse(spec.env.LAB_CP_OPTIONS!) as { docker: DockerLabOptions };
  return { container: spec.name, apiUrl: dockerOpts.docker.apiUrl, nonce: dockerOpts.docker.nonce };
}

/** Whether a container of this lab is still running. */
export async function containerRunning(docker: Docker, name: string): Promise<boolean> {
  try {
    return ((await docker.getContainer(name).inspect()) as { State: { Running: boolean } }).State.Running;
  } catch {
    return false;
  }
}

/** Removes every container and network carrying the lab's label. Returns how many of each. */
export async function removeLab(docker: Docker, id: string): Promise<{ containers: number; networks: number }> {
  const containers = await docker.listContainers({ all: true, filters: labFilter(id) });
  // Pods' app and proxy containers first, their namespace holders after, the control plane last.
  const rank = (c: Docker.ContainerInfo) => (c.Labels[LABELS.role] === 'controlplane' ? 2 : c.Labels[LABELS.container] === 'istio-init' ? 1 : 0);
  for (const r of [0, 1, 2]) {
    await Promise.all(containers.filter((c) => rank(c) === r).map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  }
  const networks = await docker.listNetworks({ filters: labFilter(id) });
  for (const n of networks) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  return { containers: containers.length, networks: networks.length };
}
