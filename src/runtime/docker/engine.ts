/**
 * The Docker Engine API client (dockerode). DOCKER_HOST is honoured as the docker CLI does;
 * otherwise the local socket.
 */
import Docker from 'dockerode';

export function dockerClient(): Docker {
  return new Docker();
}

/** The engine's version when it answers within `timeoutMs`, else why not. */
export async function pingDocker(docker: Docker = dockerClient(), timeoutMs = 1500): Promise<{ ok: true; version: string } | { ok: false; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const v = (await Promise.race([docker.version(), timeout])) as { Version: string; ApiVersion: string };
    return { ok: true, version: `${v.Version} (API ${v.ApiVersion})` };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const where = process.env.DOCKER_HOST ?? '/var/run/docker.sock';
    return { ok: false, reason: e.code === 'ENOENT' ? `no Docker engine at ${where}` : `Docker engine at ${where}: ${e.message}` };
  } finally {
    clearTimeout(timer);
  }
}
