/**
 * Canonical form of a Host / :authority value, for policy decisions (egress: REGISTRY_ONLY, the
 * `hosts` table) where two spellings of one destination must compare equal and a malformed value
 * must not slip through: `Example.COM.`, `example.com:80` and `example.com` are the same host on
 * port 80; `evil.com@example.com`, `exa mple.com`, `example.com:99999` are rejected.
 *
 * Rules:
 * - ASCII lowercase (no Unicode folding; non-ASCII is rejected: clients must send punycode);
 * - one trailing dot stripped (`example.com.` is the same absolute name); an empty label anywhere
 *   else (`a..b`, `.a`, `a.com..`) is malformed;
 * - host names: letters, digits, `-`, `_`, `.`; labels <= 63, name <= 253 characters. No `*`,
 *   `%`-encoding, userinfo (`@`), path or whitespace;
 * - a name whose last label is numeric (or hex `0x..`) must be a strict dotted-quad IPv4 address,
 *   so `127.1`, `2130706433` or `0x7f.0.0.1` cannot pose as some other host;
 * - IPv6 only in brackets (`[::1]:80`), no zone id, returned in canonical compressed form (`[::1]`);
 * - port: 1-5 digits within 1..65535; absent means `defaultPort`. An empty port (`host:`) is
 *   rejected rather than guessed.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { asciiLowerCase } from './ascii.js';

export interface CanonicalAuthority {
  /** Lowercase host without port or trailing dot; IPv6 in brackets. */
  host: string;
  /** The explicit port, or the default one. */
  port: number;
}

const HOST_CHARS = /^[a-z0-9._-]+$/;
const NUMERIC_LABEL = /^(?:[0-9]+|0x[0-9a-f]*)$/;

export function canonicalAuthority(raw: string, defaultPort: number): CanonicalAuthority | undefined {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 300) return undefined;
  let host: string | undefined;
  let portText: string | undefined;
  if (raw.startsWith('[')) {
    const close = raw.indexOf(']');
    if (close < 0) return undefined;
    host = canonicalIPv6(raw.slice(1, close));
    const rest = raw.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      portText = rest.slice(1);
    }
  } else {
    const colon = raw.indexOf(':');
    // A second ':' means an unbracketed IPv6 address or garbage: ambiguous either way.
    if (colon >= 0 && raw.indexOf(':', colon + 1) >= 0) return undefined;
    if (colon >= 0) portText = raw.slice(colon + 1);
    host = canonicalHostName(colon >= 0 ? raw.slice(0, colon) : raw);
  }
  if (host === undefined) return undefined;
  const port = portText === undefined ? defaultPort : parsePort(portText);
  if (port === undefined) return undefined;
  return { host, port };
}

/** `host` when `port` is the default, else `host:port` (the form `ProxyTable.hosts` keys use with no default). */
export function formatAuthority(a: CanonicalAuthority, defaultPort?: number): string {
  return a.port === defaultPort ? a.host : `${a.host}:${a.port}`;
}

function canonicalHostName(name: string): string | undefined {
  let host = asciiLowerCase(name);
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0 || host.length > 253 || !HOST_CHARS.test(host)) return undefined;
  const labels = host.split('.');
  for (const label of labels) if (label.length === 0 || label.length > 63) return undefined;
  if (NUMERIC_LABEL.test(labels[labels.length - 1]!) && !isIPv4(host)) return undefined;
  return host;
}

function canonicalIPv6(inner: string): string | undefined {
  if (inner.includes('%') || !isIPv6(inner)) return undefined;
  // The WHATWG URL parser prints IPv6 in its canonical (RFC 5952) form: lowercase, zeros compressed.
  return new URL(`http://[${inner}]/`).hostname;
}

function parsePort(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}
