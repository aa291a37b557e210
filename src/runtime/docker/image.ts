/**
 * The project's image: resolved base, then built from the repository's prebuilt dist/ and its
 * production dependencies, tagged by a hash of every input, so it is rebuilt only when something
 * it contains changed. No registry is needed: when the official base cannot be pulled, the base
 * is made from the host's Node.js by scripts/make-offline-base-image.sh and imported through the
 * Engine API.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { LabError } from '../../shared/errors.js';

/** The repository (or installed package) root: this file is dist/src/runtime/docker/image.js. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const DEFAULT_BASE = 'node:22-bookworm-slim';
export const IMAGE_REPO = 'istio-lab';

type Log = (msg: string) => void;

async function imageId(docker: Docker, ref: string): Promise<string | undefined> {
  try {
    return ((await docker.getImage(ref).inspect()) as { Id: string }).Id;
  } catch {
    return undefined;
  }
}

function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<Array<{ error?: string; stream?: string }>> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string; stream?: string }>) => (err ? reject(err) : resolve(out)));
  });
}

/** `istio-lab-base:node20.20.2`: the offline base is tied to the Node.js it copies. */
export function offlineBaseTag(): string {
  return `istio-lab-base:node${process.versions.node}`;
}

/**
 * The base image to build on: LAB_BASE_IMAGE if set; else the official Node image if present or
 * pullable; else the offline base (made once per Node version), saying which and why.
 */
export async function resolveBase(docker: Docker, log: Log): Promise<string> {
  const forced = process.env.LAB_BASE_IMAGE;
  if (forced) {
    if (!(await imageId(docker, forced))) throw new LabError('LAB_ERR_RUNTIME', `LAB_BASE_IMAGE=${forced}: no such image in the Docker engine`);
    return forced;
  }
  if (await imageId(docker, DEFAULT_BASE)) return DEFAULT_BASE;
  const offline = offlineBaseTag();
  if (await imageId(docker, offline)) {
    log(`base image: ${offline} (made from this machine's Node.js; ${DEFAULT_BASE} is not present)`);
    return offline;
  }
  try {
    log(`base image: pulling ${DEFAULT_BASE}`);
    await followProgress(docker, await docker.pull(DEFAULT_BASE));
    if (await imageId(docker, DEFAULT_BASE)) return DEFAULT_BASE;
  } catch (err) {
    log(`base image: ${DEFAULT_BASE} cannot be pulled (${firstLine((err as Error).message)}); making ${offline} from this machine's Node.js instead`);
  }
  await makeOfflineBase(docker, offline);
  return offline;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.slice(0, 200);
}

/** Runs the script in its `--tar -` form and imports the stream as an image. */
export async function makeOfflineBase(docker: Docker, tag: string): Promise<void> {
  const script = join(PACKAGE_ROOT, 'scripts', 'make-offline-base-image.sh');
  const child = spawn('bash', [script, '--tar', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const [repo, version] = tag.split(':') as [string, string];
  const imported = followProgress(
    docker,
    (await docker.importImage(child.stdout, { repo, tag: version, changes: ['ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] } as never)) as unknown as NodeJS.ReadableStream,
  );
  const [code, out] = await Promise.all([exited, imported]);
  const failed = out.find((o) => o.error);
  if (code !== 0 || failed) throw new LabError('LAB_ERR_RUNTIME', `could not make the offline base image ${tag}: ${failed?.error ?? stderr.trim()}`);
}

/** The production dependency closure, as paths relative to the package root (`node_modules/x`). */
export function productionModules(root = PACKAGE_ROOT): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const seen = new Set<string>();
  const queue: Array<{ name: string; from: string }> = Object.keys(pkg.dependencies ?? {}).map((name) => ({ name, from: root }));
  while (queue.length) {
    const { name, from } = queue.shift()!;
    const dir = locate(name, from, root);
    if (!dir) throw new LabError('LAB_ERR_RUNTIME', `dependency ${name} is not installed under ${root}/node_modules; run npm ci first`);
    const rel = relative(root, dir);
    if (seen.has(rel)) continue;
    seen.add(rel);
    const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const dep of Object.keys(meta.dependencies ?? {})) queue.push({ name: dep, from: dir });
    for (const dep of Object.keys(meta.optionalDependencies ?? {})) if (locate(dep, dir, root)) queue.push({ name: dep, from: dir });
  }
  // A package nested inside another is copied with it.
  const all = [...seen].sort();
  return all.filter((p) => !all.some((q) => q !== p && p.startsWith(`${q}/`)));
}

/** Node's lookup: `<dir>/node_modules/<name>`, then each parent's, not above the root. */
function locate(name: string, from: string, root: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return undefined;
    dir = dirname(dir);
  }
}

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    const st = statSync(p);
    if (st.isDirectory()) yield* files(p);
    else if (st.isFile() && !p.endsWith('.map')) yield p;
  }
}

/** The build context's entries, and a hash over their content and the base image's id. */
export function buildInputs(baseId: string, root = PACKAGE_ROOT): { entries: string[]; hash: string } {
  for (const need of ['dist/src/proxy/main.js', 'dist/src/controlplane/main.js']) {
    if (!existsSync(join(root, need))) throw new LabError('LAB_ERR_RUNTIME', `${need} is missing; run npm run build first`);
  }
  const entries = ['Dockerfile', '.dockerignore', 'package.json', 'dist/src', 'dist/services', ...productionModules(root)];
  const h = createHash('sha256').update(`base ${baseId}\n`);
  for (const e of entries) {
    const p = join(root, e);
    const list = statSync(p).isDirectory() ? [...files(p)] : [p];
    for (const f of list) h.update(`${relative(root, f)}\n`).update(readFileSync(f));
  }
  return { entries, hash: h.digest('hex').slice(0, 12) };
}

/** The project's image for this checkout: built once per content hash. Returns its tag. */
export async function ensureImage(docker: Docker, log: Log): Promise<string> {
  const base = await resolveBase(docker, log);
  const baseId = (await imageId(docker, base))!;
  const { entries, hash } = buildInputs(baseId);
  const tag = `${IMAGE_REPO}:${hash}`;
  if (await imageId(docker, tag)) return tag;
  log(`building image ${tag} (base ${base})`);
  const t0 = Date.now();
  const stream = await docker.buildImage({ context: PACKAGE_ROOT, src: entries }, { t: tag, buildargs: { BASE: base }, labels: { 'io.istio-lab.base': base }, rm: true, forcerm: true });
  const out = await followProgress(docker, stream);
  const failed = out.find((o) => o.error);
  if (failed || !(await imageId(docker, tag))) {
    const tail = out.map((o) => o.stream ?? '').join('').trim().split('\n').slice(-10).join('\n');
    throw new LabError('LAB_ERR_RUNTIME', `building ${tag} failed: ${failed?.error ?? 'no image was produced'}\n${tail}`);
  }
  log(`built ${tag} in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  const removed = await pruneOldImages(docker, tag);
  if (removed.length) log(`removed ${removed.length} older lab image(s) no container uses: ${removed.join(', ')}`);
  return tag;
}

/**
 * Every change of the checkout makes a new `istio-lab:<hash>`; the ones before it are removed
 * once nothing uses them (an image a container still runs is refused by the engine and kept).
 */
export async function pruneOldImages(docker: Docker, keep: string): Promise<string[]> {
  const removed: string[] = [];
  const images = await docker.listImages({ filters: { reference: [IMAGE_REPO] } }).catch(() => []);
  for (const img of images) {
    for (const t of img.RepoTags ?? []) {
      if (t === keep || !new RegExp(`^${IMAGE_REPO}:[0-9a-f]{12}$`).test(t)) continue;
      try {
        await docker.getImage(t).remove();
        removed.push(t);
      } catch {
        // In use by a container (another lab on an older checkout): kept.
      }
    }
  }
  return removed;
}
