import { LabError } from '../shared/errors.js';

/**
 * Container images the lab can run, mapped to programs of this repository. The book's images keep
 * their names so its manifests apply unchanged.
 */
const IMAGE_PROGRAMS: Record<string, string> = {
  'istioinaction/catalog': 'catalog',
  'istioinaction/webapp': 'webapp',
  'istioinaction/forum': 'forum',
  'istio/proxyv2': 'proxy',
  'docker.io/istio/proxyv2': 'proxy',
};

export function programForImage(image: string, where: string): string {
  const withoutDigest = image.split('@')[0]!;
  const lastColon = withoutDigest.lastIndexOf(':');
  const repo = lastColon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(0, lastColon) : withoutDigest;
  const program = IMAGE_PROGRAMS[repo] ?? IMAGE_PROGRAMS[repo.replace(/^docker\.io\//, '')];
  if (!program) {
    throw new LabError(
      'LAB_ERR_UNKNOWN_IMAGE',
      `${where}: image "${image}" is not one the lab can run; known images: ${Object.keys(IMAGE_PROGRAMS)
        .filter((k) => !k.startsWith('docker.io/'))
        .map((k) => `${k}:<tag>`)
        .join(', ')}`,
    );
  }
  return program;
}
