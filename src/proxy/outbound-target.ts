/**
 * Where an app's outbound request is going, decided once and canonically, so no spelling of a
 * host (mixed case, trailing dot, explicit default port, an absolute-form URI that disagrees with
 * Host, two Host headers, HTTP/1.0 without Host) can route one way and connect another.
 */
import { canonicalAuthority } from '../router/authority.js';

export type OutboundTarget =
  | {
      ok: true;
      /** Canonical `host:port`, what routing and policy see. */
      authority: string;
      host: string;
      port: number;
      /** Origin-form path to send upstream. */
      path: string;
      /** The Host header to send upstream (the authority as the client wrote it). */
      hostHeader: string;
    }
  | { ok: false; reason: string };

/**
 * `host` is the Host header's value and `hostCount` how many Host fields the request had (the codec
 * counts them; two are refused rather than guessed between).
 */
export function outboundTarget(url: string, host: string | undefined, hostCount: number, defaultPort = 80): OutboundTarget {
  if (hostCount > 1) return { ok: false, reason: 'duplicate Host headers' };
  let written: string | undefined;
  let path = url;
  const abs = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^#]*)/i.exec(url);
  if (abs) {
    if (abs[1]!.toLowerCase() !== 'http') return { ok: false, reason: `unsupported scheme ${abs[1]}` };
    // RFC 9112 3.2.2: with an absolute-form target, its authority is the one that counts.
    written = abs[2]!;
    path = abs[3] === '' ? '/' : abs[3]!.startsWith('/') ? abs[3]! : `/${abs[3]}`;
  } else {
    written = host;
    if (!path.startsWith('/')) return { ok: false, reason: 'request target is neither origin-form nor absolute-form' };
  }
  if (!written) return { ok: false, reason: 'no Host header and no absolute-form target' };
  if (written.includes('@')) return { ok: false, reason: 'userinfo in authority' };
  const canon = canonicalAuthority(written, defaultPort);
  if (!canon) return { ok: false, reason: `invalid authority "${written}"` };
  return { ok: true, authority: `${canon.host}:${canon.port}`, host: canon.host, port: canon.port, path, hostHeader: written };
}
