/**
 * Traffic mirroring (Envoy's request_mirror_policies): a fire-and-forget copy of the request to the
 * mirror cluster with `-shadow` appended to the host part of the authority. The client never
 * waits for it: the copy's response is discarded, its errors are swallowed, and it is bounded in
 * number, buffered bytes and time so a slow or dead mirror cannot grow memory or delay anyone.
 */
import type { UpstreamPool, UpstreamRequest } from './http1/client.js';
import { headerLines, type HeaderMap } from './http1/wire.js';

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

/** The body of the original request is fed to its copy as it arrives. */
export interface MirrorCopy {
  write(chunk: Buffer): void;
  end(): void;
  abort(): void;
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

  /** Starts a copy to `target`; its body (if any) follows through the returned handle. */
  send(target: { address: string; port: number }, method: string, path: string, headers: HeaderMap, timeoutMs: number | undefined): MirrorCopy | undefined {
    if (this.outstanding >= MAX_OUTSTANDING_MIRRORS) {
      this.dropped++;
      return undefined;
    }
    this.outstanding++;
    this.sent++;
    let done = false;
    let ended = false;
    let buffered = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.outstanding--;
    };
    const bodyless = headers['content-length'] === undefined && headers['transfer-encoding'] === undefined;
    const head = `${method} ${path} HTTP/1.1\r\n${headerLines(headers)}\r\n`;
    const copy: UpstreamRequest = this.pool.request(target, head, method, bodyless, {
      head: () => 'raw',
      data: () => {},
      end: finish,
      error: finish,
    });
    // The copy's own request may stall (slow mirror); it is bounded in time like Envoy's timeout.
    timer = setTimeout(() => {
      copy.abort();
      finish();
    }, timeoutMs ?? DEFAULT_MIRROR_TIMEOUT_MS);
    copy.onDrain = () => (buffered = 0);
    const abort = () => {
      copy.abort();
      finish();
    };
    return {
      write(chunk) {
        if (done) return;
        buffered += chunk.length;
        // A mirror that does not read is cut off rather than buffered without bound.
        if (!copy.write(chunk) && buffered > MAX_BUFFERED_BYTES) abort();
      },
      end() {
        if (ended) return;
        ended = true;
        copy.end();
      },
      abort,
    };
  }
}
