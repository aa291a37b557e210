/**
 * The lab's Prometheus image for the Docker runtime, built where no registry is reachable: the
 * host's Prometheus binary (Debian's, linked against libc only) on the lab's base image (which has
 * libc: it carries Node.js). Tagged by a hash of the binary and the base, so built once per pair.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { LabError } from '../../shared/errors.js';
import { prometheusBinary } from '../local/prometheus-process.js';
import { resolveBase } from './image.js';

export const PROMETHEUS_IMAGE_REPO = 'istio-lab-prometheus';

const DOCKERFILE = `ARG BASE
FROM \${BASE}
COPY prometheus /bin/prometheus
LABEL io.istio-lab.image="${PROMETHEUS_IMAGE_REPO}"
ENTRYPOINT ["/bin/prometheus"]
`;

export async function ensurePrometheusImage(docker: Docker, log: (m: string) => void): Promise<string> {
  const bin = prometheusBinary();
  if (!bin) throw new LabError('LAB_ERR_USAGE', 'prometheus is not installed on this machine, and its image is built from it: apt-get install -y prometheus (or set PROMETHEUS_BIN)');
  const base = await resolveBase(docker, log);
  const baseId = ((await docker.getImage(base).inspect()) as { Id: string }).Id;
  const hash = createHash('sha256').update(`base ${baseId}\n`).update(DOCKERFILE).update(readFileSync(bin)).digest('hex').slice(0, 12);
  const tag = `${PROMETHEUS_IMAGE_REPO}:${hash}`;
  try {
    await docker.getImage(tag).inspect();
    return tag;
  } catch {
    // not built yet
  }
  log(`building image ${tag} (${bin} on ${base})`);
  const dir = mkdtempSync(join(tmpdir(), 'lab-prometheus-image-'));
  try {
    writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
    copyFileSync(bin, join(dir, 'prometheus'));
    const stream = await docker.buildImage({ context: dir, src: ['Dockerfile', 'prometheus'] }, { t: tag, buildargs: { BASE: base }, rm: true, forcerm: true });
    const out = await new Promise<Array<{ error?: string; stream?: string }>>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null, res: Array<{ error?: string; stream?: string }>) => (err ? reject(err) : resolve(res)));
    });
    const failed = out.find((o) => o.error);
    if (failed) throw new LabError('LAB_ERR_RUNTIME', `building ${tag} failed: ${failed.error}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tag;
}
