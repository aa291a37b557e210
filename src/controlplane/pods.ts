/**
 * Pods: allocate addresses, start the containers through the runtime, register the sidecar with
 * the push controller, and report readiness in the Pod's status (which is what puts the pod into
 * Service endpoints). A container that crashes is restarted, as the kubelet would.
 */
import { join } from 'node:path';
import type { ProxyNode } from '../compiler/snapshot.js';
import type { KubeObject } from '../model/objects.js';
import type { PodStatus, PodTemplate } from '../model/specs.js';
import { AddressPlan, type PodAddresses } from '../runtime/addresses.js';
import { programForImage } from '../runtime/images.js';
import type { AdoptedPod, ContainerLaunch, Runtime, RunningPod } from '../runtime/types.js';
import type { ObjectStore } from '../store/store.js';
import { httpOk, tcpOpen } from '../shared/probes.js';
import type { PushController } from './push.js';

export interface PodManagerOptions {
  store: ObjectStore;
  runtime: Runtime;
  push: PushController;
  addresses: AddressPlan;
  logDir: string;
  /** Seed handed to each proxy (reproducible weighted picks), derived per pod. */
  seed?: number;
  realExternal: boolean;
  log: (msg: string) => void;
  /** Host ports a pod publishes (Docker: the ingress gateway's), by the pod's labels. */
  publish?: (labels: Record<string, string>) => Array<{ hostPort: number; containerPort: number }> | undefined;
}

interface PodRecord {
  name: string;
  namespace: string;
  addresses: PodAddresses;
  running?: RunningPod;
  proxyKey?: string;
  adminUrl?: string;
  appPorts: number[];
  stopping: boolean;
  restarts: number;
}

const READY_TIMEOUT_MS = 30_000;

/** What a pod carries for a later control plane to adopt it (see `adopt`). */
interface AdoptionRecord {
  pod: KubeObject;
  addresses: PodAddresses;
  node: ProxyNode;
  adminUrl: string;
  appPorts: number[];
  proxyOnly: boolean;
  startTime: string;
}

export class PodManager {
  private readonly pods = new Map<string, PodRecord>();
  private seedCounter = 0;

  constructor(private readonly o: PodManagerOptions) {}

  logFile(namespace: string, pod: string, container: string): string {
    return join(this.o.logDir, namespace, pod, `${container}.log`);
  }

  /** Starts a pod from a template and resolves once it is ready (or throws with the reason). */
  async create(meta: { name: string; namespace: string; labels: Record<string, string>; owner: { kind: string; name: string } }, template: PodTemplate): Promise<void> {
    const { name, namespace, labels } = meta;
    const containers = template.spec.containers;
    const app = containers[0]!;
    const program = programForImage(app.image, `${meta.owner.kind} ${namespace}/${meta.owner.name}: container "${app.name}"`);
    const proxyOnly = program === 'proxy';
    const ports = proxyOnly ? [] : (app.ports ?? []).map((p) => p.containerPort);
    const addresses = await this.o.addresses.allocate(ports);
    const rec: PodRecord = { name, namespace, addresses, appPorts: [], stopping: false, restarts: 0 };
    this.pods.set(key(namespace, name), rec);

    const podObject: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace,
        labels,
        ownerReferences: [{ apiVersion: 'apps/v1', kind: meta.owner.kind, name: meta.owner.name, controller: true }],
      },
      spec: { containers: template.spec.containers, serviceAccountName: template.spec.serviceAccountName },
    };
    this.o.store.apply(podObject);
    const portMap = this.o.addresses.mode === 'ports' ? addresses.inboundPorts : undefined;
    const adminUrl = `http://${addresses.ip}:${addresses.adminPort}`;
    const status: PodStatus = {
      phase: 'Pending',
      podIP: addresses.ip,
      portMap,
      ready: false,
      adminUrl,
      outboundProxy: proxyOnly ? undefined : `http://${addresses.ip}:${addresses.outboundPort}`,
      startTime: new Date().toISOString(),
      restarts: 0,
    };
    this.setStatus(rec, status);

    const launches: ContainerLaunch[] = [];
    const captured = this.o.addresses.mode === 'network';
    const seed = this.o.seed === undefined ? undefined : this.o.seed + this.seedCounter++;
    const proxyEnv: Record<string, string> = {
      LAB_ADMIN_HOST: addresses.ip,
      LAB_ADMIN_PORT: String(addresses.adminPort),
      POD_NAME: name,
      POD_NAMESPACE: namespace,
      ...(seed !== undefined ? { LAB_PROXY_SEED: String(seed) } : {}),
      ...(this.o.realExternal ? { LAB_REAL_EXTERNAL: '1' } : {}),
      ...(this.o.addresses.subnet ? { LAB_PROXY_NETWORK: this.o.addresses.subnet.subnet } : {}),
    };
    if (!proxyOnly) {
      const env: Record<string, string> = {};
      for (const e of app.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
      const firstPort = ports[0];
      launches.push({
        name: app.name,
        program,
        env: {
          ...env,
          HOST: this.o.addresses.appBindHost(addresses),
          ...(firstPort !== undefined ? { PORT: String(addresses.appPorts[String(firstPort)]) } : {}),
          // With capture (Docker) the app is not told about its sidecar at all.
          ...(captured ? {} : { HTTP_PROXY: `http://${addresses.ip}:${addresses.outboundPort}` }),
          POD_NAME: name,
          POD_NAMESPACE: namespace,
          KUBERNETES_NAMESPACE: namespace,
        },
        logFile: this.logFile(namespace, name, app.name),
      });
    }
    launches.push({ name: 'istio-proxy', program: 'proxy', env: proxyEnv, logFile: this.logFile(namespace, name, 'istio-proxy') });

    const node: ProxyNode = {
      role: labels['istio'] === 'ingressgateway' || proxyOnly ? 'gateway' : 'sidecar',
      pod: name,
      namespace,
      ip: addresses.ip,
      labels,
      workload: meta.owner.name,
      inbound: ports.map((p) => ({
        port: p,
        bindAddress: addresses.ip,
        bindPort: addresses.inboundPorts[String(p)]!,
        appAddress: addresses.appIp,
        appPort: addresses.appPorts[String(p)]!,
        ...(captured ? { capture: true as const } : {}),
      })),
      // Captured connections arrive at 127.1.x.y (the original port, spelled as an address).
      outbound: proxyOnly ? undefined : captured ? { bindAddress: '0.0.0.0', bindPort: addresses.outboundPort, capture: true } : { bindAddress: addresses.ip, bindPort: addresses.outboundPort },
    };
    rec.running = await this.o.runtime.start({
      name,
      namespace,
      containers: launches,
      labels,
      record: JSON.stringify({ pod: podObject, addresses, node, adminUrl, appPorts: ports.map((p) => addresses.appPorts[String(p)]!), proxyOnly, startTime: status.startTime! } satisfies AdoptionRecord),
      ...(captured
        ? {
            ip: addresses.ip,
            capture: proxyOnly ? undefined : { inbound: ports.map((p) => ({ port: p, capturePort: addresses.inboundPorts[String(p)]! })) },
            publish: this.o.publish?.(labels),
          }
        : {}),
    });
    this.watchExit(rec);

    rec.adminUrl = adminUrl;
    rec.appPorts = ports.map((p) => addresses.appPorts[String(p)]!);
    await this.becomeReady(rec, node);
  }

  /**
   * Takes over pods an earlier control plane left running (Docker): back into the store with
   * their addresses, registered for pushes (a proxy keeps serving its last table until the first
   * push reaches it), ready again once probed. No container is restarted.
   */
  async adopt(adopted: AdoptedPod[]): Promise<void> {
    const ready: Promise<void>[] = [];
    for (const a of adopted) {
      const r = JSON.parse(a.record) as Partial<AdoptionRecord>;
      if (!r.pod || !r.addresses || !r.node || !r.adminUrl) continue;
      this.o.addresses.reserve(r.addresses);
      const rec: PodRecord = { name: a.name, namespace: a.namespace, addresses: r.addresses, running: a.pod, adminUrl: r.adminUrl, appPorts: r.appPorts ?? [], stopping: false, restarts: 0 };
      this.pods.set(key(a.namespace, a.name), rec);
      this.o.store.apply(r.pod);
      // It was ready and is serving: keep it in the endpoints while it is checked again, or the
      // first push of the new control plane would take it out of every caller's table.
      this.setStatus(rec, {
        phase: 'Running',
        podIP: r.addresses.ip,
        ready: true,
        adminUrl: r.adminUrl,
        outboundProxy: r.proxyOnly ? undefined : `http://${r.addresses.ip}:${r.addresses.outboundPort}`,
        startTime: r.startTime ?? new Date().toISOString(),
        restarts: 0,
      });
      this.watchExit(rec);
      this.o.log(`pod ${a.namespace}/${a.name}: adopted (${r.addresses.ip})`);
      ready.push(this.becomeReady(rec, r.node).catch((err: Error) => this.o.log(`pod ${a.namespace}/${a.name}: ${err.message}`)));
    }
    await Promise.all(ready);
  }

  private async becomeReady(rec: PodRecord, node: ProxyNode): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    await waitUntil(deadline, () => httpOk(`${rec.adminUrl}/version`), `pod ${rec.namespace}/${rec.name}: istio-proxy did not start`);
    rec.proxyKey = `${rec.namespace}/${rec.name}`;
    this.o.push.register({ key: rec.proxyKey, node, adminUrl: rec.adminUrl! });
    await this.o.push.converged();
    await this.probe(rec, deadline);
    if (rec.stopping) return;
    this.patchStatus(rec, { phase: 'Running', ready: true });
    // Endpoints changed: every proxy must know the new pod before the caller goes on.
    await this.o.push.converged();
  }

  /** Readiness: the sidecar serves a table and every app port accepts connections. */
  private async probe(rec: PodRecord, deadline: number): Promise<void> {
    await waitUntil(deadline, () => httpOk(`${rec.adminUrl}/ready`), `pod ${rec.namespace}/${rec.name}: istio-proxy did not accept its configuration`);
    for (const p of rec.appPorts) {
      await waitUntil(deadline, () => tcpOpen(rec.addresses.appIp, p), `pod ${rec.namespace}/${rec.name}: app did not listen on ${rec.addresses.appIp}:${p}`);
    }
  }

  private watchExit(rec: PodRecord): void {
    const running = rec.running!;
    running.onExit(async (exit) => {
      if (rec.stopping || this.pods.get(key(rec.namespace, rec.name)) !== rec) return;
      rec.restarts++;
      this.o.log(`pod ${rec.namespace}/${rec.name}: container ${exit.container} exited (code ${exit.code}, signal ${exit.signal}); restarting`);
      this.patchStatus(rec, { ready: false, restarts: rec.restarts, message: `container ${exit.container} exited with ${exit.code ?? exit.signal}` });
      // A crash-looping pod is restarted at most a few times, like CrashLoopBackOff giving up.
      if (rec.restarts > 5) {
        this.patchStatus(rec, { phase: 'Failed' });
        return;
      }
      await delay(Math.min(5000, 200 * 2 ** rec.restarts));
      if (rec.stopping) return;
      try {
        await running.restart(exit.container);
        // A restarted proxy starts empty: forget what it was sent so the next push resends it all.
        const handle = rec.proxyKey ? this.o.push.get(rec.proxyKey) : undefined;
        if (handle) handle.version = undefined;
        const deadline = Date.now() + READY_TIMEOUT_MS;
        if (exit.container === 'istio-proxy') await waitUntil(deadline, () => httpOk(`${rec.adminUrl}/version`), `pod ${rec.name}: istio-proxy did not restart`);
        this.o.push.trigger();
        await this.o.push.converged();
        await this.probe(rec, deadline);
        if (rec.stopping) return;
        this.patchStatus(rec, { ready: true, phase: 'Running' });
      } catch (err) {
        this.o.log(`pod ${rec.name}: restart failed: ${(err as Error).message}`);
      }
    });
  }

  async delete(namespace: string, name: string): Promise<void> {
    const rec = this.pods.get(key(namespace, name));
    if (!rec) {
      this.o.store.delete('Pod', namespace, name);
      return;
    }
    rec.stopping = true;
    // Leave the endpoints first (like a terminating pod), then stop the processes.
    this.patchStatus(rec, { phase: 'Terminating', ready: false });
    await this.o.push.converged();
    if (rec.proxyKey) this.o.push.unregister(rec.proxyKey);
    await rec.running?.stop();
    this.o.addresses.release(rec.addresses);
    this.pods.delete(key(namespace, name));
    this.o.store.delete('Pod', namespace, name);
    this.o.push.trigger();
  }

  async deleteAll(): Promise<void> {
    await Promise.all([...this.pods.values()].map((p) => this.delete(p.namespace, p.name)));
  }

  private setStatus(rec: PodRecord, status: PodStatus): void {
    this.o.store.updateStatus('Pod', rec.namespace, rec.name, status as unknown as Record<string, unknown>);
  }

  private patchStatus(rec: PodRecord, patch: Partial<PodStatus>): void {
    const prev = (this.o.store.get('Pod', rec.namespace, rec.name)?.status ?? {}) as unknown as PodStatus;
    this.setStatus(rec, { ...prev, ...patch });
  }
}

function key(ns: string, name: string): string {
  return `${ns}/${name}`;
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitUntil(deadline: number, probe: () => Promise<boolean>, failure: string): Promise<void> {
  let wait = 10;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await delay(wait);
    wait = Math.min(200, wait * 2);
  }
  throw new Error(`${failure} within ${READY_TIMEOUT_MS / 1000}s`);
}
