/**
 * The control plane: the object store, the controllers (deployments, pods, push) and the HTTP API
 * the CLI talks to. One process per lab.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSnapshot, type Snapshot } from '../compiler/snapshot.js';
import type { KubeObject } from '../model/objects.js';
import type { MeshConfig } from '../model/specs.js';
import { freePort, type AddressPlan } from '../runtime/addresses.js';
import type { Runtime, RunningPod } from '../runtime/types.js';
import { LabError } from '../shared/errors.js';
import { parseSelector, selectorMatches } from '../shared/selector.js';
import { StorePersistence } from '../store/persistence.js';
import { ObjectStore, type WatchEvent } from '../store/store.js';
import { CanaryController } from '../canary/controller.js';
import { admit, type ApplyDocument } from './admission.js';
import { DeploymentController } from './deployments.js';
import { hasBearerToken, readJson, sendError, sendJson } from './http-util.js';
import { flaggerLogFile } from './lab-home.js';
import { applyMeshSettings, saveMeshConfig } from './mesh-config.js';
import { PodManager } from './pods.js';
import { PushController } from './push.js';
import { AddressingStore, ServiceAddressAllocator } from './service-addresses.js';
import { buildDnsTable, type DnsTable } from '../dns/resolver.js';
import { LabMetrics, type PrometheusRunner } from './metrics.js';
import { checkMetricQueries } from '../canary/metric-admission.js';
import type { ProviderName } from '../metrics/provider.js';

export interface ControlPlaneOptions {
  runtime: Runtime;
  addresses: AddressPlan;
  mesh: MeshConfig;
  meshFile: string;
  storeFile: string;
  logDir: string;
  ingressPort: number;
  seed?: number;
  realExternal: boolean;
  /** Canary durations are divided by this (45: a 45s analysis interval takes 1s). */
  timeScale: number;
  log: (msg: string) => void;
  /** Where Services' virtual addresses (`spec.clusterIP`) come from (Docker: `172.28.128.0/17`); unset: none are assigned. */
  serviceCidr?: string;
  /** Every API route but `/healthz` needs `Authorization: Bearer <token>` (the lab's `$LAB_HOME/token`). */
  token: string;
  /** The lab's state folder (Prometheus keeps its configuration and data there). */
  home: string;
  /** Where the canary's metrics come from at start (`lab up --prometheus`); default embedded. */
  metrics?: ProviderName;
  /** Where Prometheus runs (default: a host process); Docker: its image, built by `lab up`. */
  prometheus?: { runner: PrometheusRunner; image?: string };
}

export const INGRESS_GATEWAY: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'istio-ingressgateway', namespace: 'istio-system', labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'istio-ingressgateway', istio: 'ingressgateway' } },
    template: {
      metadata: { labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' } },
      spec: { containers: [{ name: 'istio-proxy', image: 'istio/proxyv2:1.16.1' }] },
    },
  },
};

/** Namespaces whose lab-owned objects `lab delete` refuses to remove. */
const SYSTEM_NAMESPACES = new Set(['istio-system']);

/** In a container the gateway binds the Gateway's port 80 as 8080 (published as the ingress port), as Istio's gateway does. */
const GATEWAY_HTTP_PORT = 8080;
/** The external stand-in's name on the lab network. */
export const EXTERNAL_HOST = 'jsonplaceholder.typicode.com';

export class ControlPlane {
  readonly store: ObjectStore;
  readonly push: PushController;
  readonly pods: PodManager;
  readonly deployments: DeploymentController;
  readonly canaries: CanaryController;
  readonly metrics: LabMetrics;
  private readonly persistence: StorePersistence;
  private mesh: MeshConfig;
  private server: Server | undefined;
  private external: RunningPod | undefined;
  private externalTarget: { address: string; port: number } | undefined;

  constructor(private readonly o: ControlPlaneOptions) {
    this.store = o.serviceCidr ? new AddressingStore(new ServiceAddressAllocator(o.serviceCidr)) : new ObjectStore();
    this.mesh = o.mesh;
    this.persistence = new StorePersistence(this.store, o.storeFile);
    this.push = new PushController(() => this.snapshot(), o.log);
    this.pods = new PodManager({
      store: this.store,
      runtime: o.runtime,
      push: this.push,
      addresses: o.addresses,
      logDir: o.logDir,
      seed: o.seed,
      realExternal: o.realExternal,
      log: o.log,
      publish: (labels) => (this.containerNetwork && labels['istio'] === 'ingressgateway' ? [{ hostPort: o.ingressPort, containerPort: GATEWAY_HTTP_PORT }] : undefined),
    });
    this.deployments = new DeploymentController(this.store, this.pods, o.log);
    this.metrics = new LabMetrics({ store: this.store, home: o.home, timeScale: o.timeScale, runner: o.prometheus?.runner, log: o.log });
    this.canaries = new CanaryController({
      store: this.store,
      deployments: this.deployments,
      push: this.push,
      timeScale: o.timeScale,
      metrics: () => this.metrics.current(),
      logFile: flaggerLogFile(o.logDir),
      log: o.log,
    });
  }

  /** Pods have addresses of their own on a container network (Docker), not loopback ones. */
  private get containerNetwork(): boolean {
    return this.o.addresses.mode === 'network';
  }

  private stopDeployments: (() => void) | undefined;
  /** What `POST /shutdown` (`lab down`) does; set by the process entry point. */
  onShutdownRequest: (() => void) | undefined;

  snapshot(): Snapshot {
    const ingressPort = this.o.ingressPort;
    const hosts: Snapshot['hosts'] = {};
    if (this.externalTarget) hosts[`${EXTERNAL_HOST}:80`] = this.externalTarget;
    const inContainer = this.containerNetwork;
    return createSnapshot(this.store.all(), this.mesh, {
      hosts,
      gatewayPorts: (port) => {
        if (inContainer) {
          if (port === 80) return { address: '0.0.0.0', port: GATEWAY_HTTP_PORT };
          if (port === 443) return { address: '0.0.0.0', port: 8443 };
          return port >= 1024 ? { address: '0.0.0.0', port } : undefined;
        }
        // The istio-ingressgateway Service's mapping: 80 -> the lab's ingress port on the host.
        if (port === 80) return { address: '127.0.0.1', port: ingressPort };
        if (port === 443) return { address: '127.0.0.1', port: ingressPort + 363 };
        return port >= 1024 ? { address: '127.0.0.1', port } : undefined;
      },
      telemetry: { accessLog: this.mesh.accessLogFile !== '', metrics: this.mesh.enableMetrics },
    });
  }

  /** Starts everything; resolves when the ingress gateway and restored workloads are ready. */
  async start(server: Server): Promise<void> {
    this.server = server;
    server.on('request', (req, res) => void this.handle(req, res));
    this.persistence.load();
    this.persistence.start();
    this.store.watch((e) => this.onChange(e));
    this.stopDeployments = this.deployments.start();
    await this.syncServicePorts();
    // Docker pods outlive a control plane: take over what is still running instead of starting anew.
    const adopted = (await this.o.runtime.adopt?.()) ?? [];
    const external = adopted.find((a) => a.namespace === 'external');
    const target = external ? (JSON.parse(external.record) as { target?: { address: string; port: number } }).target : undefined;
    if (external && target) {
      this.external = external.pod;
      this.externalTarget = target;
    } else {
      await external?.pod.stop();
      await this.startExternal();
    }
    await this.pods.adopt(adopted.filter((a) => a !== external));
    this.store.apply(INGRESS_GATEWAY);
    const all = this.store.list('Deployment').map((d) => ({ namespace: d.metadata.namespace ?? 'default', name: d.metadata.name }));
    for (const d of all) void this.deployments.enqueue(d.namespace, d.name);
    const errors = await this.deployments.rolledOut(all);
    if (errors.length) this.o.log(`some workloads did not start: ${errors.join('; ')}`);
    await this.metrics.start(this.o.metrics ?? 'embedded', this.o.prometheus?.image);
    this.canaries.start();
  }

  private onChange(e: WatchEvent): void {
    // Pod readiness changes feed Deployment status; any change may change some proxy's table.
    if (e.object.kind === 'Pod') this.deployments.refreshStatuses();
    if (e.object.kind === 'Service' || e.object.kind === 'ServiceEntry') void this.syncServicePorts();
    this.push.trigger();
  }

  /** Docker pods capture each known service port by a rule of its own (see src/capture/). */
  private async syncServicePorts(): Promise<void> {
    if (!this.o.runtime.setServicePorts) return;
    const ports = new Set<number>();
    for (const svc of this.snapshot().registry.services) for (const p of svc.ports) ports.add(p.port);
    await this.o.runtime.setServicePorts([...ports]).catch((err: Error) => this.o.log(`capture rules: ${err.message}`));
  }

  /** The lab's DNS: Services by their virtual addresses, and the external stand-in by its own. */
  dnsHosts(): DnsTable {
    return this.dnsTable(this.externalTarget ? { [EXTERNAL_HOST]: this.externalTarget.address } : {});
  }

  private async startExternal(): Promise<void> {
    if (this.o.realExternal) return;
    const host = this.o.addresses.externalHost;
    const inContainer = this.containerNetwork;
    const port = inContainer ? 80 : this.o.addresses.mode === 'loopback-ips' ? 8080 : await freePort();
    this.external = await this.o.runtime.start({
      name: 'jsonplaceholder-standin',
      namespace: 'external',
      containers: [{ name: 'external', program: 'external', env: { HOST: inContainer ? '0.0.0.0' : host, PORT: String(port) }, logFile: `${this.o.logDir}/external/jsonplaceholder.log` }],
      ...(inContainer ? { ip: host, aliases: [EXTERNAL_HOST] } : {}),
      record: JSON.stringify({ target: { address: host, port } }),
    });
    this.externalTarget = { address: host, port };
  }

  /**
   * The control plane goes away but the data plane stays (Docker: pods are containers of their
   * own and keep serving their last table, as with istiod down); a later one adopts them.
   */
  detach(): void {
    this.canaries.stop();
    void this.metrics.stop(false);
    this.persistence.flush();
  }

  async stop(): Promise<void> {
    this.canaries.stop();
    await this.metrics.stop(true).catch((e: Error) => this.o.log(`metrics stop: ${e.message}`));
    // No Deployment may start replacements for the pods being stopped.
    this.stopDeployments?.();
    await this.deployments.idle();
    await this.pods.deleteAll().catch(() => undefined);
    await this.external?.stop();
    await this.o.runtime.shutdown();
    this.persistence.flush();
  }

  setMesh(settings: string[]): MeshConfig {
    this.mesh = applyMeshSettings(this.mesh, settings);
    saveMeshConfig(this.o.meshFile, this.mesh);
    this.push.trigger();
    return this.mesh;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://lab');
    const p = url.pathname;
    try {
      if (p === '/healthz') return sendJson(res, 200, { ok: true });
      // Before anything else is looked at (the body is not even read): a request without the token changes nothing.
      if (!hasBearerToken(req, this.o.token)) {
        throw new LabError('LAB_ERR_UNAUTHORIZED', 'the lab API needs "Authorization: Bearer <token>" with the token in the lab\'s state folder ($LAB_HOME/token); the lab CLI sends it');
      }
      if (p === '/apply' && req.method === 'POST') return sendJson(res, 200, await this.apply(await readJson(req)));
      if (p === '/delete' && req.method === 'POST') return sendJson(res, 200, await this.delete(await readJson(req)));
      if (p === '/objects') return sendJson(res, 200, { items: this.query(url.searchParams) });
      if (p === '/watch') return this.watch(url.searchParams, req, res);
      if (p === '/meshconfig' && req.method === 'POST') {
        const body = await readJson<{ set?: string[] }>(req);
        const mesh = this.setMesh(body.set ?? []);
        await this.push.converged();
        return sendJson(res, 200, { mesh });
      }
      if (p === '/meshconfig') return sendJson(res, 200, { mesh: this.mesh });
      if (p === '/metrics/prometheus' && req.method === 'POST') return sendJson(res, 200, await this.metrics.usePrometheus((await readJson<{ image?: string }>(req)).image));
      if (p === '/metrics') return sendJson(res, 200, this.metrics.status());
      if (p === '/metrics/query') {
        const time = url.searchParams.get('time');
        return sendJson(res, 200, await this.metrics.query(url.searchParams.get('query') ?? '', time === null ? undefined : Number(time)));
      }
      if (p === '/proxies') {
        return sendJson(res, 200, {
          proxies: this.push.list().map((x) => ({ key: x.key, role: x.node.role, adminUrl: x.adminUrl, version: x.version, lastError: x.lastError })),
          stats: this.push.stats,
        });
      }
      if (p === '/proxy-config') {
        const key = url.searchParams.get('proxy') ?? '';
        const table = this.push.tableFor(key);
        if (!table) throw new LabError('LAB_ERR_NOT_FOUND', `no proxy ${key}`);
        return sendJson(res, 200, table);
      }
      if (p === '/resolve') return sendJson(res, 200, this.resolve(url.searchParams));
      if (p === '/shutdown' && req.method === 'POST') {
        // `lab down`: the whole lab goes, pods included (a signal alone leaves Docker pods running).
        sendJson(res, 200, { ok: true });
        this.onShutdownRequest?.();
        return;
      }
      throw new LabError('LAB_ERR_NOT_FOUND', `no API ${req.method} ${p}`);
    } catch (err) {
      sendError(res, err);
    }
  }

  /**
   * Validates every document first; if any is invalid nothing is applied (the previous good state
   * is kept). Then applies, waits for Deployments to roll out and for every proxy to serve the
   * new configuration.
   */
  async apply(body: { documents: ApplyDocument[]; namespace?: string; wait?: boolean }) {
    const ns = body.namespace ?? 'istioinaction';
    const addresses = this.store instanceof AddressingStore ? this.store.serviceAddresses : undefined;
    const { objects, warnings } = admit(body.documents ?? [], ns, this.store.all(), addresses);
    // PromQL the current provider cannot run is refused now, not found out during an analysis.
    checkMetricQueries(objects, body.documents ?? [], this.store, this.metrics.current(), this.o.timeScale);
    const results = objects.map((o) => {
      const r = this.store.apply(o);
      return { kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name, outcome: r.outcome };
    });
    const rollouts = objects.filter((o) => o.kind === 'Deployment').map((o) => ({ namespace: o.metadata.namespace ?? ns, name: o.metadata.name }));
    let errors: string[] = [];
    if (body.wait !== false) {
      errors = await this.deployments.rolledOut(rollouts);
      await this.push.converged();
    }
    return { results, warnings, errors };
  }

  async delete(body: { items?: Array<{ kind: string; namespace?: string; name: string }>; all?: { kinds: string[]; namespace: string }; wait?: boolean }) {
    const targets: KubeObject[] = [];
    const missing: string[] = [];
    for (const it of body.items ?? []) {
      const o = this.store.get(it.kind, it.namespace, it.name);
      if (o) targets.push(o);
      else missing.push(`${it.kind} "${it.name}" not found`);
    }
    if (body.all) {
      for (const kind of body.all.kinds) targets.push(...this.store.list(kind, body.all.namespace));
    }
    const results: Array<{ kind: string; namespace?: string; name: string }> = [];
    const deployments: Array<{ namespace: string; name: string }> = [];
    for (const o of targets) {
      if (o.kind === 'Pod') {
        // Deleting a pod makes its Deployment replace it, as in Kubernetes.
        await this.pods.delete(o.metadata.namespace ?? 'default', o.metadata.name);
        const owner = o.metadata.ownerReferences?.[0];
        if (owner) deployments.push({ namespace: o.metadata.namespace ?? 'default', name: owner.name });
        if (owner) void this.deployments.enqueue(o.metadata.namespace ?? 'default', owner.name);
      } else {
        if (o.kind === 'Deployment' && SYSTEM_NAMESPACES.has(o.metadata.namespace ?? '') && o.metadata.name === 'istio-ingressgateway') {
          throw new LabError('LAB_ERR_USAGE', 'the ingress gateway belongs to the lab; use `lab down` to stop it');
        }
        this.store.delete(o.kind, o.metadata.namespace, o.metadata.name);
        if (o.kind === 'Deployment') deployments.push({ namespace: o.metadata.namespace ?? 'default', name: o.metadata.name });
      }
      results.push({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name });
    }
    if (body.wait !== false) {
      await this.deployments.rolledOut(deployments);
      await this.push.converged();
    }
    return { results, missing };
  }

  private query(q: URLSearchParams): KubeObject[] {
    const kind = q.get('kind') ?? undefined;
    const ns = q.get('namespace') ?? undefined;
    const name = q.get('name') ?? undefined;
    const sel = q.get('selector');
    const reqs = sel ? parseSelector(sel) : [];
    return this.store
      .list(kind, ns === '*' ? undefined : ns)
      .filter((o) => (name ? o.metadata.name === name : true))
      .filter((o) => selectorMatches(reqs, o.metadata.labels));
  }

  /** Newline-delimited JSON events, like `kubectl get -w`. */
  private watch(q: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
    const kind = q.get('kind') ?? undefined;
    const ns = q.get('namespace') ?? undefined;
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const matches = (o: KubeObject) => (!kind || o.kind === kind) && (!ns || ns === '*' || o.metadata.namespace === ns);
    for (const o of this.store.list(kind)) if (matches(o)) res.write(JSON.stringify({ type: 'ADDED', object: o }) + '\n');
    const stop = this.store.watch((e) => {
      if (matches(e.object)) res.write(JSON.stringify(e) + '\n');
    });
    req.on('close', stop);
  }

  /**
   * What the lab's DNS server answers (`startDnsServer({ lookup: () => cp.dnsTable(hosts) })`):
   * `<name>.<ns>.svc.cluster.local` for every Service with a virtual address, plus `extraHosts`
   * (FQDN -> IPv4, e.g. the external stand-in's `jsonplaceholder.typicode.com`).
   */
  dnsTable(extraHosts: Readonly<Record<string, string>> = {}): DnsTable {
    return buildDnsTable(this.store.list('Service'), extraHosts);
  }

  /** For `lab curl` without `--from`: a Service's endpoints, as kube-proxy would pick from. */
  private resolve(q: URLSearchParams) {
    const host = (q.get('host') ?? '').toLowerCase();
    const port = Number(q.get('port') ?? 80);
    const ns = q.get('namespace') ?? 'default';
    const snap = this.snapshot();
    const parts = host.split('.');
    const fqdn = parts.length === 1 ? `${host}.${ns}.svc.cluster.local` : parts.length === 2 ? `${host}.svc.cluster.local` : parts.length === 3 && parts[2] === 'svc' ? `${host}.cluster.local` : host;
    const svc = snap.registry.byHost.get(fqdn);
    if (!svc) {
      if (host === 'jsonplaceholder.typicode.com' && this.externalTarget) return { host, endpoints: [this.externalTarget] };
      throw new LabError('LAB_ERR_NOT_FOUND', `could not resolve host: ${host}`);
    }
    const endpoints = svc.endpoints.get(port) ?? [];
    return { host: fqdn, endpoints: endpoints.map((e) => ({ address: e.address, port: e.port, pod: e.pod })) };
  }
}
