/**
 * The command a reader of the book types for a `lab` command: `kubectl` for the Kubernetes verbs,
 * `istioctl install` for mesh config, Helm for Flagger. Pure, so the table is tested as data.
 */
import { shellQuote } from '../lib/scenario.js';

export function labLine(argv: readonly string[]): string {
  return ['lab', ...argv.map(shellQuote)].join(' ');
}

export function bookCommand(argv: readonly string[]): string {
  const [verb, ...rest] = argv;
  const q = rest.map(shellQuote).join(' ');
  switch (verb) {
    case 'apply':
    case 'delete':
    case 'get':
    case 'logs':
      // `lab get meshconfig` is how the lab shows what the book reads from Istio's ConfigMap.
      if (verb === 'get' && rest[0] === 'meshconfig') return 'kubectl get cm istio -n istio-system -o yaml';
      return `kubectl ${verb} ${q}`;
    case 'install':
      if (rest[0] === 'flagger') return 'helm install flagger flagger/flagger --namespace=istio-system --set meshProvider=istio --set metricsServer=http://prometheus:9090';
      return `istioctl install ${q}`;
    case 'curl': {
      const url = rest.filter((a) => !a.startsWith('-')).pop() ?? '';
      return `kubectl run -i -n default --rm --restart=Never dummy --image=curlimages/curl --command -- sh -c 'curl -s ${url}'`;
    }
    case 'exec':
      return `kubectl exec ${q}`;
    default:
      return labLine(argv);
  }
}
