/** `lab`: the kubectl/istioctl of the sandbox. */
import { LabError } from '../shared/errors.js';
type Run = (argv: string[]) => Promise<number>;

/**
 * Each command's module is loaded only when it runs: the Docker client (dockerode and its
 * dependencies) doubled the start-up of every \`lab\` call when all were imported up front.
 */
const COMMANDS: Record<string, { load: () => Promise<Run>; summary: string }> = {
  up: { load: async () => (await import('./commands/up.js')).up, summary: 'start the lab in the background' },
  down: { load: async () => (await import('./commands/down.js')).down, summary: 'stop the lab and everything it started' },
  status: { load: async () => (await import('./commands/status.js')).status, summary: 'is the lab up; proxies and their config versions' },
  apply: { load: async () => (await import('./commands/apply.js')).apply, summary: 'apply manifests (kubectl apply -f)' },
  delete: { load: async () => (await import('./commands/delete.js')).del, summary: 'delete objects (kubectl delete)' },
  get: { load: async () => (await import('./commands/get.js')).get, summary: 'list objects (kubectl get)' },
  logs: { load: async () => (await import('./commands/logs.js')).logs, summary: 'container logs, incl. -c istio-proxy access logs' },
  curl: { load: async () => (await import('./commands/curl.js')).curl, summary: 'an HTTP request from inside the mesh' },
  exec: { load: async () => (await import('./commands/exec.js')).exec, summary: 'run a command in a pod (kubectl exec)' },
  install: { load: async () => (await import('./commands/install.js')).install, summary: 'change mesh config (istioctl install --set)' },
  tutorial: { load: async () => (await import('./commands/tutorial.js')).tutorial, summary: 'the chapter as a guided course (5.2-5.5, English/Korean)' },
  dashboard: { load: async () => (await import('./commands/dashboard.js')).dashboard, summary: 'a live view of the mesh in the browser (graph, logs, rules, egress, canary)' },
  validate: { load: async () => (await import('./commands/validate.js')).validate, summary: 'validate manifests, no lab needed (istioctl validate -f)' },
  analyze: { load: async () => (await import('./commands/analyze.js')).analyzeCommand, summary: 'Istio analyzer messages for manifests or the lab (istioctl analyze)' },
  verify: { load: async () => (await import('./commands/verify.js')).verify, summary: 'check a scenario file: requests -> expected routing, offline or --live' },
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
    return await (await c.load())(rest);
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
