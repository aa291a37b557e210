import { request } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { KubeObject } from '../../model/objects.js';
import type { PodStatus } from '../../model/specs.js';
import { LabError } from '../../shared/errors.js';
import { parse } from '../args.js';
import { connect } from '../client.js';

export const CURL_USAGE = `Usage: lab curl [--from DEPLOYMENT] [-n NAMESPACE] [-H 'Name: value']... [-X METHOD] [-d BODY]
                [-i] [-v] [-s] [-f] [-o FILE] [-w '%{http_code}'] URL

A request from inside the mesh, like the book's \`kubectl run ... curlimages/curl\` pod.
  --from DEPLOYMENT  send it through that workload's sidecar (its VirtualService view applies)
  (no --from)        a client outside the mesh: straight to one of the Service's pods
Exit codes follow curl: 7 could not connect, 52 empty reply, 56 connection reset, 22 with -f on HTTP >= 400.`;

export interface CurlResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export async function curl(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      from: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      header: { type: 'string', short: 'H', multiple: true },
      request: { type: 'string', short: 'X' },
      data: { type: 'string', short: 'd' },
      include: { type: 'boolean', short: 'i' },
      verbose: { type: 'boolean', short: 'v' },
      silent: { type: 'boolean', short: 's' },
      fail: { type: 'boolean', short: 'f' },
      output: { type: 'string', short: 'o' },
      'write-out': { type: 'string', short: 'w' },
    },
    CURL_USAGE,
  );
  if (values.help) {
    console.log(CURL_USAGE);
    return 0;
  }
  const rawUrl = positionals[0];
  if (!rawUrl) throw new LabError('LAB_ERR_USAGE', CURL_USAGE);
  const url = new URL(rawUrl.includes('://') ? rawUrl : `http://${rawUrl}`);
  if (url.protocol !== 'http:') throw new LabError('LAB_ERR_USAGE', `only http:// URLs are supported, got ${url.protocol}`);
  const ns = (values.namespace as string | undefined) ?? 'istioinaction';
  const headers: Record<string, string> = { 'user-agent': 'curl/lab', accept: '*/*' };
  // Keep the authority as written (with an explicit port if given), as the book's clients do.
  const authority = rawUrl.replace(/^[a-z]+:\/\//i, '').split(/[/?#]/)[0]!;
  headers.host = authority;
  for (const h of (values.header as string[] | undefined) ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new LabError('LAB_ERR_USAGE', `-H "${h}": expected "Name: value"`);
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  const data = values.data as string | undefined;
  const method = (values.request as string | undefined) ?? (data !== undefined ? 'POST' : 'GET');
  if (data !== undefined && !headers['content-type']) headers['content-type'] = 'application/x-www-form-urlencoded';
  const path = `${url.pathname}${url.search}`;

  let target: { host: string; port: number; path: string };
  if (values.from) {
    const pod = await readyPod(values.from as string, ns);
    const proxy = new URL(((pod.status ?? {}) as unknown as PodStatus).outboundProxy!);
    target = { host: proxy.hostname, port: Number(proxy.port), path: `http://${authority}${path}` };
  } else if (url.hostname === 'localhost' || url.hostname.startsWith('127.')) {
    target = { host: url.hostname, port: Number(url.port || 80), path };
  } else {
    const res = await connect().call<{ endpoints: Array<{ address: string; port: number }> }>(
      'GET',
      `/resolve?${new URLSearchParams({ host: url.hostname, port: url.port || '80', namespace: 'default' })}`,
    );
    const ep = res.endpoints[Math.floor(Math.random() * res.endpoints.length)];
    if (!ep) {
      console.error(`curl: (7) Failed to connect to ${url.hostname} port ${url.port || 80}: no endpoints`);
      return 7;
    }
    target = { host: ep.address, port: ep.port, path };
  }

  if (values.verbose) {
    console.error(`* Trying ${target.host}:${target.port}...`);
    console.error(`> ${method} ${target.path} HTTP/1.1`);
    for (const [k, v] of Object.entries(headers)) console.error(`> ${k}: ${v}`);
    console.error('>');
  }
  let result: CurlResult;
  try {
    result = await send(target, method, headers, data);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') {
      console.error(`curl: (7) Failed to connect to ${url.hostname} port ${url.port || 80}: Connection refused`);
      return 7;
    }
    if (code === 'ECONNRESET') {
      console.error('curl: (56) Recv failure: Connection reset by peer');
      return 56;
    }
    console.error(`curl: (52) Empty reply from server (${(err as Error).message})`);
    return 52;
  }
  const head = [`HTTP/1.1 ${result.status}`, ...Object.entries(result.headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => `${k}: ${x}`) : [`${k}: ${v}`]))];
  if (values.verbose) for (const l of head) console.error(`< ${l}`);
  const out = values.include ? Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n'), result.body]) : result.body;
  if (values.output) writeFileSync(values.output as string, out);
  else process.stdout.write(out);
  const wo = values['write-out'] as string | undefined;
  if (wo) process.stdout.write(wo.replace(/%\{http_code\}/g, String(result.status)).replace(/\\n/g, '\n'));
  if (values.fail && result.status >= 400) {
    console.error(`curl: (22) The requested URL returned error: ${result.status}`);
    return 22;
  }
  return 0;
}

export function send(target: { host: string; port: number; path: string }, method: string, headers: Record<string, string>, data?: string): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host: target.host, port: target.port, method, path: target.path, headers, setHost: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function readyPod(deployment: string, ns: string): Promise<KubeObject> {
  const name = deployment.replace(/^(deploy|deployment)\//, '');
  const { items } = await connect().call<{ items: KubeObject[] }>('GET', `/objects?${new URLSearchParams({ kind: 'Pod', namespace: ns })}`);
  const pods = items.filter((p) => p.metadata.ownerReferences?.some((o) => o.name === name));
  const ready = pods.find((p) => ((p.status ?? {}) as unknown as PodStatus).ready && ((p.status ?? {}) as unknown as PodStatus).outboundProxy);
  if (!ready) throw new LabError('LAB_ERR_NOT_FOUND', `--from ${deployment}: no ready pod of Deployment ${name} in namespace ${ns}`);
  return ready;
}
