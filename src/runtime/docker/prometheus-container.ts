/**
 * The lab's Prometheus on the Docker runtime: a container on the lab network (so it reaches every
 * pod's admin port), carrying the lab's labels (so `lab down` removes it with the rest), its
 * configuration and discovery file in `$LAB_HOME/prometheus` bind-mounted at the same path (the
 * control plane container writes them there), its API published on a free host loopback port.
 * Like the pods it outlives the control plane container, and the next one adopts it.
 */
import type Docker from 'dockerode';
import { LabError } from '../../shared/errors.js';
import { dockerName, labLabels } from './labels.js';
import { prometheusReady } from '../../metrics/prometheus.js';

const PORT = 9090;

export interface RunningPrometheus {
  /** Where the control plane reaches it (on the lab network). */
  url: string;
  /** Where a person on the host reaches it. */
  publicUrl: string;
}

export class DockerPrometheus {
  private readonly name: string;

  constructor(
    private readonly o: { docker: Docker; labId: string; home: string; network: string; dir: string; configFile: string },
  ) {
    this.name = dockerName(o.labId, 'prometheus');
  }

  private async inspect(): Promise<RunningPrometheus | undefined> {
    try {
      const info = (await this.o.docker.getContainer(this.name).inspect()) as {
        State: { Running: boolean };
        NetworkSettings: { Networks: Record<string, { IPAddress: string }>; Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> };
      };
      if (!info.State.Running) return undefined;
      const ip = info.NetworkSettings.Networks[this.o.network]?.IPAddress;
      const host = info.NetworkSettings.Ports[`${PORT}/tcp`]?.[0];
      if (!ip || !host) return undefined;
      return { url: `http://${ip}:${PORT}`, publicUrl: `http://127.0.0.1:${host.HostPort}` };
    } catch {
      return undefined;
    }
  }

  async adopt(): Promise<RunningPrometheus | undefined> {
    const r = await this.inspect();
    return r && (await prometheusReady(r.url)) ? r : undefined;
  }

  async start(image: string | undefined): Promise<RunningPrometheus> {
    const kept = await this.adopt();
    if (kept) {
      await fetch(`${kept.url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(5000) }).then((r) => r.arrayBuffer()).catch(() => undefined);
      return kept;
    }
    if (!image) throw new LabError('LAB_ERR_USAGE', 'no Prometheus image for the Docker runtime: lab up --runtime docker --prometheus (or lab install prometheus) builds it on the host');
    await this.o.docker.getContainer(this.name).remove({ force: true }).catch(() => undefined);
    const port = `${PORT}/tcp`;
    const c = await this.o.docker.createContainer({
      name: this.name,
      Image: image,
      Cmd: [`--config.file=${this.o.configFile}`, '--storage.tsdb.path=/prometheus', '--storage.tsdb.retention.time=2h', `--web.listen-address=0.0.0.0:${PORT}`, '--web.enable-lifecycle'],
      Labels: labLabels(this.o.labId, this.o.home, 'prometheus'),
      ExposedPorts: { [port]: {} },
      HostConfig: {
        NetworkMode: this.o.network,
        Binds: [`${this.o.dir}:${this.o.dir}`],
        // A free host port, chosen by the engine: the control plane cannot see the host's ports.
        PortBindings: { [port]: [{ HostIp: '127.0.0.1', HostPort: '' }] },
        RestartPolicy: { Name: 'no' },
      },
    });
    await c.start();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await this.inspect();
      if (r && (await prometheusReady(r.url))) return r;
      if (Date.now() > deadline) throw new LabError('LAB_ERR_RUNTIME', `the prometheus container ${this.name} did not become ready in 30 s (docker logs ${this.name})`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }

  async stop(): Promise<void> {
    await this.o.docker.getContainer(this.name).remove({ force: true }).catch(() => undefined);
  }
}
