/**
 * Traffic mirroring (Envoy's request_mirror_policies): a fire-and-forget copy of the request to the
 * mirror cluster with `-shadow` appended to the host part of the authority. The client never
 * waits for it: the copy's response is discarded, its errors are swallowed, and it is bounded in
 * number, buffered bytes and time so a slow or dead mirror cannot grow memory or delay anyone.
 */
import { request, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { UpstreamPool } from './upstream-pool.js';

export const MAX_OUTSTANDING_MIRRORS = 128;
const MAX_BUFFERED_BYTES = 1 << 20;
const DEFAULT_MIRROR_TIMEOUT_MS = 10_000;

/** `catalog.istioinaction:80` -> `catalog.istioinaction-shadow:80` (IPv6 literals keep their port). */
export function shadowAuthority(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return `${authority.slice(0, end + 1)}-shadow${authority.slice(end + 1)}`;
  }
  const colon = authority.lastIndexOf(':');
  if (colon === -1) return `${authority}-shadow`;
  return `${authority.slice(0, colon)}-shadow${authority.slice(colon)}`;
}

export class MirrorSender {
  private outstanding = 0;
  /** Copies not sent because the bound was reached. */
  dropped = 0;
  sent = 0;

  constructor(private readonly pool: UpstreamPool) {}

  get inFlight(): number {
    return this.outstanding;
  }

  /**
   * Starts a copy of `req` (whose body may still be streaming) to `target`. Returns at once.
   */
  send(
    req: IncomingMessage,
    target: { address: string; port: number },
    path: string,
    headers: OutgoingHttpHeaders,
    timeoutMs: number | undefined,
  ): void {
    if (this.outstanding >= MAX_OUTSTANDING_MIRRORS) {
      this.dropped++;
      return;
    }
    this.outstanding++;
    this.sent++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.outstanding--;
    };
    const copy = request({
      host: target.address,
      port: target.port,
      method: req.method,
      path,
      headers,
      agent: this.pool.get(target.address, target.port),
      setHost: false,
    });
    copy.setTimeout(timeoutMs ?? DEFAULT_MIRROR_TIMEOUT_MS, () => copy.destroy());
    copy.on('response', (res) => {
      res.on('end', finish).on('error', finish).on('close', finish);
      res.resume();
    });
    copy.on('error', finish);
    copy.on('close', finish);

    if (req.readableEnded) {
      copy.end();
      return;
    }
    const onData = (chunk: Buffer) => {
      if (copy.destroyed) return;
      if (copy.writableLength > MAX_BUFFERED_BYTES) {
        copy.destroy();
        return;
      }
      copy.write(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      req.off('data', onData);
      if (!copy.destroyed) copy.end();
    });
    req.once('aborted', () => copy.destroy());
  }
}
