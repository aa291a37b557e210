import { stringify } from 'yaml';
import { LabError } from '../../shared/errors.js';
import { parse } from '../args.js';
import { connect } from '../client.js';
import { labHome, readLabInfo } from '../../controlplane/lab-home.js';

export const INSTALL_USAGE = `Usage: lab install --set meshConfig.outboundTrafficPolicy.mode=ALLOW_ANY|REGISTRY_ONLY [--set ...]
       lab install flagger
       lab install prometheus

The lab's \`istioctl install --set ...\`: changes the mesh config of the running lab; every sidecar
gets it without restarting workloads. (\`--set profile=demo\` is accepted and ignored.)
\`lab install prometheus\` starts a real Prometheus server (Debian's prometheus package) scraping
every proxy, and makes it the canary's metrics provider (the book's samples/addons/prometheus.yaml).`;

export async function install(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { set: { type: 'string', multiple: true }, skip: { type: 'boolean', short: 'y' } }, INSTALL_USAGE);
  if (values.help) {
    console.log(INSTALL_USAGE);
    return 0;
  }
  if (positionals[0] === 'flagger') {
    // The book's `helm install flagger ...`: the lab's canary controller is built into the control
    // plane and always on; its log is `lab logs deploy/flagger -n istio-system`.
    const metrics = await connect().call<{ provider: string; url?: string }>('GET', '/metrics');
    const from = metrics.provider === 'prometheus' ? `metrics from Prometheus at ${metrics.url}` : 'metrics from the embedded provider, which scrapes the sidecars';
    console.log(`flagger: the canary controller is built into the lab and running (meshProvider istio, ${from})`);
    console.log('logs: lab logs deploy/flagger -n istio-system');
    return 0;
  }
  if (positionals[0] === 'prometheus') {
    const api = connect();
    // On Docker the control plane starts a container from an image made here, from the host's binary.
    let image: string | undefined;
    if (readLabInfo(labHome())?.runtime === 'docker') {
      const [{ dockerClient }, { ensurePrometheusImage }] = await Promise.all([import('../../runtime/docker/engine.js'), import('../../runtime/docker/prometheus-image.js')]);
      image = await ensurePrometheusImage(dockerClient(), (m) => console.log(m));
    }
    const m = await api.call<{ provider: string; url?: string; scrapeIntervalMs: number }>('POST', '/metrics/prometheus', { image }, 60_000);
    console.log(`✔ prometheus is running at ${m.url} (scraping every proxy every ${m.scrapeIntervalMs} ms); the canary's metrics come from it`);
    console.log(`  e.g. curl -s '${m.url}/api/v1/query?query=istio_requests_total'`);
    return 0;
  }
  const settings = (values.set as string[] | undefined) ?? [];
  if (settings.length === 0) throw new LabError('LAB_ERR_USAGE', INSTALL_USAGE);
  const { mesh } = await connect().call<{ mesh: unknown }>('POST', '/meshconfig', { set: settings });
  console.log('✔ Mesh config updated; every proxy runs it');
  console.log(stringify({ meshConfig: mesh }).trimEnd());
  return 0;
}
