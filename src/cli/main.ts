/** `lab`: the kubectl/istioctl of the sandbox. */
import { LabError } from '../shared/errors.js';
import { apply, APPLY_USAGE } from './commands/apply.js';
import { curl, CURL_USAGE } from './commands/curl.js';
import { del, DELETE_USAGE } from './commands/delete.js';
import { down, DOWN_USAGE } from './commands/down.js';
import { exec, EXEC_USAGE } from './commands/exec.js';
import { get, GET_USAGE } from './commands/get.js';
import { install, INSTALL_USAGE } from './commands/install.js';
import { logs, LOGS_USAGE } from './commands/logs.js';
import { status, STATUS_USAGE } from './commands/status.js';
import { up, UP_USAGE } from './commands/up.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; usage: string; summary: string }> = {
  up: { run: up, usage: UP_USAGE, summary: 'start the lab in the background' },
  down: { run: down, usage: DOWN_USAGE, summary: 'stop the lab and everything it started' },
  status: { run: status, usage: STATUS_USAGE, summary: 'is the lab up; proxies and their config versions' },
  apply: { run: apply, usage: APPLY_USAGE, summary: 'apply manifests (kubectl apply -f)' },
  delete: { run: del, usage: DELETE_USAGE, summary: 'delete objects (kubectl delete)' },
  get: { run: get, usage: GET_USAGE, summary: 'list objects (kubectl get)' },
  logs: { run: logs, usage: LOGS_USAGE, summary: 'container logs, incl. -c istio-proxy access logs' },
  curl: { run: curl, usage: CURL_USAGE, summary: 'an HTTP request from inside the mesh' },
  exec: { run: exec, usage: EXEC_USAGE, summary: 'run a command in a pod (kubectl exec)' },
  install: { run: install, usage: INSTALL_USAGE, summary: 'change mesh config (istioctl install --set)' },
};

export const HELP = `lab: Istio's traffic control (Istio in Action, chapter 5) on one machine, no Kubernetes.

Usage: lab COMMAND [options]      (lab COMMAND --help for details)

${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join('\n')}

Environment: LAB_HOME (default ./.lab) selects the lab; two labs with different LAB_HOMEs and
ingress ports run side by side. LAB_RUNTIME=docker makes \`lab up\` use Docker (default: local).`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(HELP);
    return cmd ? 0 : 1;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    console.error(`lab: unknown command "${cmd}"\n\n${HELP}`);
    return 1;
  }
  try {
    return await c.run(rest);
  } catch (err) {
    if (err instanceof LabError) {
      console.error(`error: ${err.message}`);
      if (err.details && err.details.length > 1) for (const d of err.details) console.error(`  ${d}`);
      return err.code === 'LAB_ERR_USAGE' ? 2 : 1;
    }
    console.error(`lab: internal error: ${(err as Error).stack ?? String(err)}`);
    return 70;
  }
}

process.exitCode = await main(process.argv.slice(2));
