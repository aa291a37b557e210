/** The CLI's side of the control plane API. */
import { labHome, readLabInfo, readToken, processAlive, type LabInfo } from '../controlplane/lab-home.js';
import { LabError, type LabErrorCode } from '../shared/errors.js';

/** The headers every API request but `/healthz` needs: the lab's token from `$LAB_HOME/token`. */
export function apiAuthHeaders(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export class ApiClient {
  private token: string | undefined;

  /** `token`: the lab's API token; by default read from `$LAB_HOME/token` at the first request. */
  constructor(
    readonly info: LabInfo,
    token?: string,
  ) {
    this.token = token;
  }

  /** A raw request to the API with the token (streams such as `/watch`); the caller reads the body. */
  async fetch(path: string, init: { method?: 'GET' | 'POST'; body?: unknown; timeoutMs?: number } = {}): Promise<Response> {
    const token = (this.token ??= readToken(labHome()));
    try {
      return await fetch(`${this.info.api}${path}`, {
        method: init.method ?? 'GET',
        headers: { ...apiAuthHeaders(token), ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: init.timeoutMs === undefined ? undefined : AbortSignal.timeout(init.timeoutMs),
      });
    } catch (err) {
      throw new LabError('LAB_ERR_NOT_RUNNING', `cannot reach the lab's control plane at ${this.info.api} (${(err as Error).message}); is it up? Try \`lab up\``);
    }
  }

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 120_000): Promise<T> {
    const res = await this.fetch(path, { method, body, timeoutMs });
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
  return new ApiClient(info, readToken(home));
}
