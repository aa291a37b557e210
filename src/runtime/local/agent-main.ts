/**
 * The node agent (the kubelet of the local runtime): it owns the pods' processes, so the control
 * plane can die (even by SIGKILL) while every pod keeps serving its last table; the next control
 * plane adopts them from here. Pods are its children with a stdin pipe, so a killed agent still
 * takes them with it: no orphans.
 *
 * HTTP on 127.0.0.1 (its URL in $LAB_HOME/agent.json), with the lab's API token, for the control
 * plane (and `lab up`/`lab down`):
 *   POST /pods {launch}               start a pod             GET /pods  the running pods
 *   POST /pods/restart {key, container}  restart a container  POST /pods/stop {key}
 *   GET  /events                      container exits, as NDJSON, until the client goes
 *   GET|PUT /meta                     a little JSON the control plane keeps here (its address block)
 *   POST /shutdown                    stop every pod and exit
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ensureToken, labHome } from '../../controlplane/lab-home.js';
import { hasBearerToken } from '../../controlplane/http-util.js';
import type { PodLaunch, RunningPod } from '../types.js';
import { LocalRuntime } from './local-runtime.js';
import { removeAgentInfo, writeAgentInfo, type AgentEvent, type AgentPod } from './agent-protocol.js';

const home = labHome();
/** The lab's API token: only the control plane and the lab CLI may drive the agent. */
const token = ensureToken(home);
const runtime = new LocalRuntime();
const pods = new Map<string, { launch: PodLaunch; pod: RunningPod }>();
const subscribers = new Set<ServerResponse>();
let meta: unknown = {};
const log = (msg: string) => process.stdout.write(`${new Date().toISOString()} agent: ${msg}\n`);

const keyOf = (l: { namespace: string; name: string }) => `${l.namespace}/${l.name}`;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function body<T>(req: IncomingMessage): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as T;
}

function publish(e: AgentEvent): void {
  const line = JSON.stringify(e) + '\n';
  for (const s of subscribers) s.write(line);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (!hasBearerToken(req, token)) return send(res, 401, { error: 'the node agent needs "Authorization: Bearer <token>" ($LAB_HOME/token)' });
  try {
    if (req.method === 'GET' && path === '/pods') {
      const list: AgentPod[] = [...pods.values()].map((p) => ({ name: p.launch.name, namespace: p.launch.namespace, record: p.launch.record ?? '' }));
      return send(res, 200, { pods: list });
    }
    if (req.method === 'POST' && path === '/pods') {
      const { launch } = await body<{ launch: PodLaunch }>(req);
      const k = keyOf(launch);
      if (pods.has(k)) return send(res, 409, { error: `pod ${k} is already running` });
      const pod = await runtime.start(launch);
      pods.set(k, { launch, pod });
      pod.onExit((exit) => publish({ key: k, ...exit }));
      return send(res, 200, { ok: true });
    }
    if (req.method === 'POST' && path === '/pods/restart') {
      const { key, container } = await body<{ key: string; container: string }>(req);
      const p = pods.get(key);
      if (!p) return send(res, 404, { error: `no pod ${key}` });
      await p.pod.restart(container);
      return send(res, 200, { ok: true });
    }
    if (req.method === 'POST' && path === '/pods/stop') {
      const { key } = await body<{ key: string }>(req);
      const p = pods.get(key);
      pods.delete(key);
      await p?.pod.stop();
      return send(res, 200, { ok: true });
    }
    if (req.method === 'GET' && path === '/events') {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('\n');
      subscribers.add(res);
      req.on('close', () => subscribers.delete(res));
      return;
    }
    if (path === '/meta') {
      if (req.method === 'PUT') meta = await body<unknown>(req);
      return send(res, 200, meta);
    }
    if (req.method === 'POST' && path === '/shutdown') {
      send(res, 200, { ok: true });
      void shutdown('shutdown requested');
      return;
    }
    send(res, 404, { error: `no route ${req.method} ${path}` });
  } catch (err) {
    send(res, 500, { error: (err as Error).message });
  }
}

let stopping = false;
async function shutdown(why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`stopping every pod (${why})`);
  const hard = setTimeout(() => process.exit(1), 10_000);
  hard.unref();
  await runtime.shutdown().catch(() => undefined);
  removeAgentInfo(home, process.pid);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

const server = createServer((req, res) => void handle(req, res));
server.listen({ host: '127.0.0.1', port: 0 }, () => {
  const { port } = server.address() as { port: number };
  writeAgentInfo(home, { pid: process.pid, url: `http://127.0.0.1:${port}`, startedAt: new Date().toISOString() });
  log(`serving on 127.0.0.1:${port}`);
});
