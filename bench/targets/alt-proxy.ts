/**
 * Alternative Node HTTP stacks for the design-notes comparison: the smallest reverse proxy each
 * allows, all forwarding every request to one upstream over keep-alive connections.
 *   STACK=http-proxy   the http-proxy 1.18 package (the project owner's suggestion)
 *   STACK=node-http    node:http server + http.request + pipe (what src/proxy uses)
 *   STACK=undici       node:http server + undici Pool.stream() to the upstream
 * Env: HOST, PORT (listen), UPSTREAM_HOST, UPSTREAM_PORT; ACCESS_LOG=1 adds a one-line access log
 * to stdout, batched per event-loop turn like src/proxy's.
 */
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import httpProxy from 'http-proxy';
import { Pool } from 'undici';

const stack = process.env.STACK ?? 'node-http';
const upstreamHost = process.env.UPSTREAM_HOST ?? '127.0.0.1';
const upstreamPort = Number(process.env.UPSTREAM_PORT ?? 3000);
const logOn = process.env.ACCESS_LOG === '1';

let buffered: string[] = [];
let scheduled = false;
function log(req: IncomingMessage, res: ServerResponse, t0: number): void {
  if (!logOn) return;
  buffered.push(
    `[${new Date().toISOString()}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode} - via_upstream - "-" 0 500 ${Math.round(performance.now() - t0)} - "-" "${req.headers['user-agent'] ?? '-'}" "${req.headers['x-request-id'] ?? '-'}" "${req.headers.host ?? '-'}" "${upstreamHost}:${upstreamPort}"`,
  );
  if (!scheduled) {
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      process.stdout.write(buffered.join('\n') + '\n');
      buffered = [];
    });
  }
}

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);
function endToEnd(h: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP.has(k)) out[k] = v;
  return out;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function nodeHttp(): Handler {
  const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' });
  return (req, res) => {
    const t0 = performance.now();
    const up = request({ host: upstreamHost, port: upstreamPort, method: req.method, path: req.url, headers: endToEnd(req.headers), agent });
    up.on('response', (ures) => {
      res.writeHead(ures.statusCode ?? 502, endToEnd(ures.headers));
      ures.pipe(res);
      res.on('finish', () => log(req, res, t0));
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  };
}

function viaHttpProxy(): Handler {
  const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' });
  const proxy = httpProxy.createProxyServer({ target: { host: upstreamHost, port: upstreamPort }, agent, xfwd: false });
  proxy.on('error', (_err, _req, res) => {
    const r = res as ServerResponse;
    if (!r.headersSent) r.writeHead(502);
    r.end();
  });
  return (req, res) => {
    const t0 = performance.now();
    if (logOn) res.on('finish', () => log(req, res, t0));
    proxy.web(req, res);
  };
}

function viaUndici(): Handler {
  const pool = new Pool(`http://${upstreamHost}:${upstreamPort}`, { connections: 256, pipelining: 1 });
  return (req, res) => {
    const t0 = performance.now();
    const method = (req.method ?? 'GET') as 'GET';
    pool
      .stream(
        { path: req.url ?? '/', method, headers: endToEnd(req.headers) as Record<string, string>, body: method === 'GET' || method === 'HEAD' ? null : req },
        ({ statusCode, headers }) => {
          res.writeHead(statusCode, endToEnd(headers));
          return res;
        },
      )
      .then(
        () => log(req, res, t0),
        () => {
          if (!res.headersSent) res.writeHead(502);
          res.end();
        },
      );
  };
}

const handler = stack === 'http-proxy' ? viaHttpProxy() : stack === 'undici' ? viaUndici() : nodeHttp();
const server = createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, handler);
server.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.on('SIGTERM', () => process.exit(0));
