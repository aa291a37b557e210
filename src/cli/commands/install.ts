import { stringify } from 'yaml';
import { LabError } from '../../shared/errors.js';
import { parse } from '../args.js';
import { connect } from '../client.js';

export const INSTALL_USAGE = `Usage: lab install --set meshConfig.outboundTrafficPolicy.mode=ALLOW_ANY|REGISTRY_ONLY [--set ...]
       lab install flagger

The lab's \`istioctl install --set ...\`: changes the mesh config of the running lab; every sidecar
gets it without restarting workloads. (\`--set profile=demo\` is accepted and ignored.)`;

export async function install(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { set: { type: 'string', multiple: true }, skip: { type: 'boolean', short: 'y' } }, INSTALL_USAGE);
  if (values.help) {
    console.log(INSTALL_USAGE);
    return 0;
  }
  if (positionals[0] === 'flagger') {
    // The book's `helm install flagger ...`: the lab's canary controller is built into the control
    // plane and always on; its log is `lab logs deploy/flagger -n istio-system`.
    connect();
    console.log('flagger: the canary controller is built into the lab and running (meshProvider istio, metrics from the sidecars)');
    console.log('logs: lab logs deploy/flagger -n istio-system');
    return 0;
  }
  const settings = (values.set as string[] | undefined) ?? [];
  if (settings.length === 0) throw new LabError('LAB_ERR_USAGE', INSTALL_USAGE);
  const { mesh } = await connect().call<{ mesh: unknown }>('POST', '/meshconfig', { set: settings });
  console.log('✔ Mesh config updated; every proxy runs it');
  console.log(stringify({ meshConfig: mesh }).trimEnd());
  return 0;
}
