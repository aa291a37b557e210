import { labHome, processAlive, readLabInfo, removeLabInfo } from '../../controlplane/lab-home.js';
import { parse } from '../args.js';

export const DOWN_USAGE = `Usage: lab down

Stops the lab of $LAB_HOME: every workload, the gateway and the control plane.`;

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
  const info = readLabInfo(home);
  if (!info) {
    console.log(`no lab is running in ${home}`);
    return 0;
  }
  if (processAlive(info.pid)) {
    process.stdout.write(`stopping lab (control plane pid ${info.pid})`);
    tryKill(info.pid, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (processAlive(info.pid) && Date.now() < deadline) {
      process.stdout.write('.');
      await new Promise((r) => setTimeout(r, 200));
    }
    process.stdout.write('\n');
  }
  // The control plane leads its own process group; whatever is left of it goes too.
  tryKill(-info.pid, 'SIGKILL');
  removeLabInfo(home);
  console.log('lab is down');
  return 0;
}
