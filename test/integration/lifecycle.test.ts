/**
 * The lab as a process tree: pods are children of the node agent, not of the control plane, so a
 * killed control plane leaves them serving and the next one adopts them; no orphans after
 * `lab down` or a killed agent; two labs side by side, the store surviving a restart, and the
 * ports address mode (what non-Linux hosts use).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { processAlive } from '../../src/controlplane/lab-home.js';
import { TestLab, waitFor } from '../helpers/lab.js';

function agentPid(lab: TestLab): number {
  return (JSON.parse(readFileSync(join(lab.home, 'agent.json'), 'utf8')) as { pid: number }).pid;
}

/** PIDs in /proc for which `test` holds (processes that vanish mid-scan are skipped). */
function pidsWhere(test: (pid: string) => boolean): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (test(d)) out.push(Number(d));
    } catch {
      // gone, or not ours
    }
  }
  return out;
}

/** Processes of this lab: built programs whose environment names its LAB_HOME. */
function processesOf(home: string): number[] {
  return pidsWhere((d) => readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('dist/') && readFileSync(`/proc/${d}/environ`, 'utf8').includes(home));
}

function childrenOf(pid: number): number[] {
  return pidsWhere((d) => {
    const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
  });
}

/** Running (a killed process nobody reaped yet is not). */
function alive(pid: number): boolean {
  return processAlive(pid);
}

const labs: TestLab[] = [];
afterEach(async () => {
  for (const l of labs.splice(0)) {
    await l.down();
    l.destroy();
  }
});

describe.runIf(process.platform === 'linux')('process lifecycle', () => {
  it('lab down stops every process the lab started', async () => {
    const lab = new TestLab();
    labs.push(lab);
    await lab.up();
    await lab.ok('apply', '-f', 'services/catalog/kubernetes/catalog.yaml');
    const cp = lab.info().pid;
    const agent = agentPid(lab);
    const children = childrenOf(agent);
    // gateway proxy, external stand-in, catalog app + sidecar
    expect(children.length).toBeGreaterThanOrEqual(4);
    expect(childrenOf(cp)).toEqual([]);
    // The agent takes orders only with the lab's token.
    const agentUrl = (JSON.parse(readFileSync(join(lab.home, 'agent.json'), 'utf8')) as { url: string }).url;
    expect((await fetch(`${agentUrl}/pods`)).status).toBe(401);
    expect((await fetch(`${agentUrl}/shutdown`, { method: 'POST', headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect(alive(agent)).toBe(true);
    await lab.ok('down');
    await waitFor(async () => (children.every((p) => !alive(p)) && !alive(cp) && !alive(agent) ? true : undefined), 'all lab processes to exit');
    expect(processesOf(lab.home).filter(alive)).toEqual([]);
  });

  it('a control plane killed with SIGKILL under load: no request fails; lab up adopts the pods, none restarted', async () => {
    const lab = new TestLab();
    labs.push(lab);
    await lab.up();
    await lab.ok('apply', '-f', 'services/catalog/kubernetes/catalog.yaml', '-f', 'ch5/catalog-gateway.yaml', '-f', 'ch5/catalog-vs.yaml');
    const host = { host: 'catalog.istioinaction.io' };
    const cp = lab.info().pid;
    const pods = childrenOf(agentPid(lab)).sort();
    let stop = false;
    const statuses: number[] = [];
    const load = (async () => {
      while (!stop && statuses.length < 20_000) statuses.push((await lab.ingress('/items', host)).status);
    })();
    await waitFor(async () => (statuses.length >= 20 ? true : undefined), 'traffic before the kill');
    process.kill(cp, 'SIGKILL');
    await waitFor(async () => (!alive(cp) ? true : undefined), 'the control plane to die');
    const atKill = statuses.length;
    await waitFor(async () => (statuses.length >= atKill + 50 ? true : undefined), 'traffic with no control plane');
    expect((await lab.cli('status')).code).toBe(3);
    await lab.ok('up', '--ingress-port', String(lab.ingressPort));
    const afterUp = statuses.length;
    await waitFor(async () => (statuses.length >= afterUp + 50 ? true : undefined), 'traffic after the new control plane adopted the pods');
    stop = true;
    await load;
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // The same processes: nothing was restarted, and the adopted proxies take new configuration.
    expect(childrenOf(agentPid(lab)).sort()).toEqual(pods);
    await lab.ok('apply', '-f', 'services/catalog/kubernetes/catalog-deployment-v2.yaml', '-f', 'ch5/catalog-dest-rule.yaml', '-f', 'ch5/catalog-vs-v2-request.yaml');
    expect((await lab.ingress('/items', { ...host, 'x-istio-cohort': 'internal' })).body).toContain('imageUrl');
  }, 90_000);

  it('a node agent killed with SIGKILL leaves no orphans', async () => {
    const lab = new TestLab();
    labs.push(lab);
    await lab.up();
    await lab.ok('apply', '-f', 'services/catalog/kubernetes/catalog.yaml');
    const agent = agentPid(lab);
    const children = childrenOf(agent);
    expect(children.length).toBeGreaterThanOrEqual(4);
    process.kill(agent, 'SIGKILL');
    await waitFor(async () => (children.every((p) => !alive(p)) ? true : undefined), 'the pods to exit after their agent died');
    await lab.ok('down');
    expect(processesOf(lab.home).filter(alive)).toEqual([]);
  });
});

describe.runIf(process.platform === 'linux')('crashes', () => {
  function childOf(agent: number, cmdPart: string, envPart: string): number {
    const pid = childrenOf(agent).find((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(cmdPart) && readFileSync(`/proc/${p}/environ`, 'utf8').includes(envPart);
      } catch {
        return false;
      }
    });
    if (!pid) throw new Error(`no child matching ${cmdPart} / ${envPart}`);
    return pid;
  }

  it('a crashed app or sidecar is restarted, the sidecar gets its table again, and traffic flows', async () => {
    const lab = new TestLab();
    labs.push(lab);
    await lab.up();
    await lab.ok('apply', '-f', 'services/catalog/kubernetes/catalog.yaml', '-f', 'ch5/catalog-gateway.yaml', '-f', 'ch5/catalog-vs.yaml');
    const cp = agentPid(lab);
    const host = { host: 'catalog.istioinaction.io' };
    expect((await lab.ingress('/items', host)).status).toBe(200);

    process.kill(childOf(cp, 'services/catalog', 'POD_NAME=catalog-'), 'SIGKILL');
    await waitFor(async () => ((await lab.ok('get', 'po', '-l', 'app=catalog')).match(/2\/2\s+Running\s+1\s/) ? true : undefined), 'the pod to show 1 restart and be ready');
    expect((await lab.ingress('/items', host)).status).toBe(200);

    process.kill(childOf(cp, 'proxy/main.js', 'POD_NAME=catalog-'), 'SIGKILL');
    await waitFor(async () => ((await lab.ok('get', 'po', '-l', 'app=catalog')).match(/2\/2\s+Running\s+2\s/) ? true : undefined), 'the pod to show 2 restarts and be ready');
    expect((await lab.ingress('/items', host)).status).toBe(200);
  });
});

describe('two labs and restarts', () => {
  it('two labs with different LAB_HOME and ports run side by side', async () => {
    const a = new TestLab();
    const b = new TestLab();
    labs.push(a, b);
    await a.up();
    await b.up();
    expect(a.info().api).not.toBe(b.info().api);
    await a.ok('apply', '-f', 'services/catalog/kubernetes/catalog.yaml', '-f', 'ch5/catalog-gateway.yaml', '-f', 'ch5/catalog-vs.yaml');
    await b.ok('apply', '-f', 'ch5/catalog-gateway.yaml');
    expect((await a.ingress('/items', { host: 'catalog.istioinaction.io' })).status).toBe(200);
    expect((await b.ingress('/items', { host: 'catalog.istioinaction.io' })).status).toBe(404);
  });

  it('config survives lab down / lab up (the store persists)', async () => {
    const lab = new TestLab();
    labs.push(lab);
    await lab.up();
    await lab.ok('apply', '-f', 'services/catalog/kubernetes/catalog.yaml', '-f', 'ch5/catalog-gateway.yaml', '-f', 'ch5/catalog-vs.yaml');
    await lab.ok('down');
    const port = lab.ingressPort;
    await lab.ok('up', '--ingress-port', String(port));
    const r = await lab.ingress('/items', { host: 'catalog.istioinaction.io' });
    expect(r.status).toBe(200);
    expect(await lab.ok('get', 'vs')).toContain('catalog-vs-from-gw');
  });

  it('ports mode (one address, a port per listener) routes the same', async () => {
    const lab = new TestLab({ LAB_ADDRESS_MODE: 'ports' });
    labs.push(lab);
    await lab.up();
    await lab.ok('apply', '-f', 'services/catalog/kubernetes/catalog.yaml', '-f', 'services/catalog/kubernetes/catalog-deployment-v2.yaml');
    await lab.ok('apply', '-f', 'ch5/catalog-gateway.yaml', '-f', 'ch5/catalog-vs-v2-request.yaml', '-f', 'ch5/catalog-dest-rule.yaml');
    const v2 = await lab.ingress('/items', { host: 'catalog.istioinaction.io', 'x-istio-cohort': 'internal' });
    const v1 = await lab.ingress('/items', { host: 'catalog.istioinaction.io' });
    expect(v2.body).toContain('imageUrl');
    expect(v1.body).not.toContain('imageUrl');
    const pods = JSON.parse(await lab.ok('get', 'po', '-o', 'json')) as { items: Array<{ status: { podIP: string } }> };
    expect(pods.items.every((p) => p.status.podIP === '127.0.0.1')).toBe(true);
  });
});
