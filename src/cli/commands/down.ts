import { labHome, processAlive, readLabInfo, readToken, removeLabInfo, type LabInfo } from '../../controlplane/lab-home.js';
import { rmSync } from 'node:fs';
import { parse } from '../args.js';
import { apiAuthHeaders, ApiClient } from '../client.js';
import { agentInfoFile, readAgentInfo } from '../../runtime/local/agent-protocol.js';
import { dockerClient, pingDocker } from '../../runtime/docker/engine.js';
import { dockerName, labId } from '../../runtime/docker/labels.js';
import { containerRunning, removeLab } from '../../runtime/docker/lab-containers.js';
import { stopDashboard } from '../../dashboard/process-record.js';
import { stopLocalPrometheus } from '../../runtime/local/prometheus-process.js';

export const DOWN_USAGE = `Usage: lab down

Stops the lab of $LAB_HOME: every workload, the gateway and the control plane. On Docker it also
removes every container and network carrying the lab's label, including those a crashed or
interrupted run left behind.`;

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export async function down(argv: string[]): Promise<number> {
  const { values } = parse(argv, {}, DOWN_USAGE);
  if (values.help) {
    console.log(DOWN_USAGE);
    return 0;
  }
  const home = labHome();
  // The dashboard goes first: it would only report the lab going away piece by piece.
  await stopDashboard(home);
  const info = readLabInfo(home);
  if (info?.runtime === 'docker' || !info) {
    const cleaned = await downDocker(home, info);
    if (!info) {
      // A local lab whose control plane died without lab.json may still have its agent and pods.
      const agentLeft = readAgentInfo(home) !== undefined;
      await stopAgent(home);
      // So does a Prometheus it started (it outlives a control plane as the pods do).
      await stopLocalPrometheus(home);
      if (agentLeft) {
        console.log('lab is down');
        return 0;
      }
      console.log(cleaned ? 'lab is down' : `no lab is running in ${home}`);
      return 0;
    }
    removeLabInfo(home);
    console.log('lab is down');
    return 0;
  }
  if (processAlive(info.pid)) {
    process.stdout.write(`stopping lab (control plane pid ${info.pid})`);
    // A signal would only end the control plane (the agent's pods outlive it): ask it to stop all.
    const asked = await Promise.resolve()
      .then(() => new ApiClient(info, readToken(home)).call('POST', '/shutdown', undefined, 5000))
      .then(
      () => true,
      () => false,
    );
    if (!asked) tryKill(info.pid, 'SIGTERM');
    const deadline = Date.now() + 20_000;
    while (processAlive(info.pid) && Date.now() < deadline) {
      process.stdout.write('.');
      await new Promise((r) => setTimeout(r, 200));
    }
    process.stdout.write('\n');
  }
  // The control plane and the node agent each lead a process group; whatever is left goes too.
  tryKill(-info.pid, 'SIGKILL');
  await stopAgent(home);
  await stopLocalPrometheus(home);
  removeLabInfo(home);
  console.log('lab is down');
  return 0;
}

/** The local runtime's node agent: its remaining pods stop, then its whole process group goes. */
async function stopAgent(home: string): Promise<void> {
  const agent = readAgentInfo(home);
  if (!agent) return;
  if (processAlive(agent.pid)) {
    let auth: Record<string, string> | undefined;
    try {
      auth = apiAuthHeaders(readToken(home));
    } catch {
      auth = undefined;
    }
    // Without the token (or if the agent does not answer) the process group is killed below anyway.
    await fetch(`${agent.url}/shutdown`, { method: 'POST', headers: auth, signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while (processAlive(agent.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  }
  tryKill(-agent.pid, 'SIGKILL');
  rmSync(agentInfoFile(home), { force: true });
}

/**
 * Docker: the control plane stops its pods, then everything with the lab's label is removed
 * (which is all of it after a crash). Returns whether anything of the lab was found.
 */
async function downDocker(home: string, info: LabInfo | undefined): Promise<boolean> {
  const docker = dockerClient();
  if (!(await pingDocker(docker)).ok) return false;
  const id = info?.labId ?? labId(home);
  const cp = dockerName(id, 'controlplane');
  if (info && (await containerRunning(docker, cp))) {
    process.stdout.write('stopping lab (control plane container)');
    // Without a readable token the request is refused; the containers go by their label below anyway.
    let headers: Record<string, string> = {};
    try {
      headers = apiAuthHeaders(readToken(home));
    } catch (err) {
      process.stdout.write(` (${(err as Error).message}; removing the containers without it)`);
    }
    await fetch(`${info.api}/shutdown`, { method: 'POST', headers, signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    const deadline = Date.now() + 20_000;
    while ((await containerRunning(docker, cp)) && Date.now() < deadline) {
      process.stdout.write('.');
      await new Promise((r) => setTimeout(r, 250));
    }
    process.stdout.write('\n');
  }
  const removed = await removeLab(docker, id);
  if (removed.containers + removed.networks > 0) console.log(`removed ${removed.containers} container(s) and ${removed.networks} network(s)`);
  return info !== undefined || removed.containers + removed.networks > 0;
}
