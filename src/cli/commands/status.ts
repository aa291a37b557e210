import { labHome, readLabInfo } from '../../controlplane/lab-home.js';
import { parse } from '../args.js';
import { connect, labAlive } from '../client.js';
import { table } from '../format.js';

export const STATUS_USAGE = 'Usage: lab status\n\nShows whether the lab is up, and each proxy with the config version it serves.';

export async function status(argv: string[]): Promise<number> {
  const { values } = parse(argv, {}, STATUS_USAGE);
  if (values.help) {
    console.log(STATUS_USAGE);
    return 0;
  }
  const home = labHome();
  const info = readLabInfo(home);
  if (!info || !(await labAlive(info))) {
    console.log(`lab: down (${home})`);
    return 3;
  }
  console.log(`lab: up (${home}); control plane ${info.runtime === 'docker' ? `container (network ${info.network}, image ${info.image})` : `pid ${info.pid}`} at ${info.api}; runtime ${info.runtime}; addresses ${info.addressMode}; ingress http://127.0.0.1:${info.ingressPort}`);
  const { proxies, stats } = await connect().call<{ proxies: Array<{ key: string; role: string; version?: string; lastError?: string }>; stats: { pushes: number; lastPushMs: number } }>('GET', '/proxies');
  console.log(table(['PROXY', 'ROLE', 'VERSION', 'ERROR'], proxies.map((p) => [p.key, p.role, p.version ?? '-', p.lastError ?? ''])));
  console.log(`pushes: ${stats.pushes}, last push ${stats.lastPushMs.toFixed(1)} ms`);
  return 0;
}
