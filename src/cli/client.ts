/** The CLI's side of the control plane API. */
import { labHome, readLabInfo, processAlive, type LabInfo } from '../controlplane/lab-home.js';
import { LabError, type LabErrorCode } from '../shared/errors.js';

export class ApiClient {
  constructor(readonly info: LabInfo) {}

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 120_000): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.info.api}${path}`, {
        method,
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new LabError('LAB_ERR_NOT_RUNNING', `cannot reach the lab's control plane at ${this.info.api} (${(err as Error).message}); is it up? Try \`lab up\``);
    }
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as unknown) : {};
    if (!res.ok) {
      const e = (parsed as { error?: { code?: LabErrorCode; message?: string; details?: string[] } }).error;
      throw new LabError(e?.code ?? 'LAB_ERR_INTERNAL', e?.message ?? `HTTP ${res.status}`, e?.details);
    }
    return parsed as T;
  }
}

/**
 * Whether the lab's control plane is there: its process (local runtime), or an answer from its
 * API (Docker, where the process is in a container).
 */
export async function labAlive(info: LabInfo): Promise<boolean> {
  if (info.runtime !== 'docker') return processAlive(info.pid);
  try {
    const res = await fetch(`${info.api}/healthz`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** The running lab of LAB_HOME, or a clear error. (Docker labs are checked by their first call.) */
export function connect(): ApiClient {
  const home = labHome();
  const info = readLabInfo(home);
  if (!info || (info.runtime !== 'docker' && !processAlive(info.pid))) {
    throw new LabError('LAB_ERR_NOT_RUNNING', `no lab is running in ${home}; start one with \`lab up\` (or set LAB_HOME)`);
  }
  return new ApiClient(info);
}
