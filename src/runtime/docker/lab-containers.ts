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
    try {
      await docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: labLabels(id, home, 'network'),
        IPAM: { Driver: 'default', Config: [{ Subnet: s.subnet, IPRange: s.ipRange, Gateway: s.gateway }] },
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

/** Starts the control plane container; it writes lab.json into LAB_HOME (mounted at its own path). */
export async function startControlPlaneContainer(
  docker: Docker,
  o: { id: string; home: string; image: string; network: { name: string; second: number }; cpOptions: Record<string, unknown>; logFile: string },
): Promise<StartedControlPlane> {
  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const nonce = randomUUID();
  const s = labSubnet(o.network.second);
  const dockerOpts: DockerLabOptions = { labId: o.id, network: o.network.name, subnet: o.network.second, image: o.image, apiUrl, nonce };
  const name = dockerName(o.id, 'controlplane');
  const container = await docker.createContainer({
    name,
    Image: o.image,
    Hostname: 'istiod',
    Cmd: ['/bin/sh', '-c', 'exec node /app/dist/src/controlplane/main.js >>"$LAB_LOG_FILE" 2>&1'],
    Env: [`LAB_HOME=${o.home}`, `LAB_LOG_FILE=${o.logFile}`, `LAB_CP_OPTIONS=${JSON.stringify({ ...o.cpOptions, runtime: 'docker', docker: dockerOpts })}`],
    Labels: labLabels(o.id, o.home, 'controlplane'),
    ExposedPorts: { [`${CONTROL_PLANE_API_PORT}/tcp`]: {} },
    HostConfig: {
      NetworkMode: o.network.name,
      Binds: [`${o.home}:${o.home}`, `${dockerSocketPath()}:/var/run/docker.sock`],
      PortBindings: { [`${CONTROL_PLANE_API_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(apiPort) }] },
      RestartPolicy: { Name: 'no' },
    },
    NetworkingConfig: { EndpointsConfig: { [o.network.name]: { IPAMConfig: { IPv4Address: s.controlPlane }, Aliases: ['istiod'] } } },
  });
  await container.start();
  return { container: name, apiUrl, nonce };
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
