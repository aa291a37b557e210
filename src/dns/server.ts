/**
 * The lab's DNS server, like Istio's DNS proxying: answers pods' queries for Service names from the
 * table `lookup()` returns (asked per query, so it always reflects the store), over UDP and TCP
 * (RFC 1035 4.2.2: a 2-byte length before each message) on the same port. It never forwards.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { isIPv6, createServer as createTcpServer, type Server as TcpServer, type Socket as TcpSocket } from 'node:net';
import { answer, DNS_TTL, type DnsTable } from './resolver.js';
import { decodeQuery, encodeResponse, RCODE_NOERROR, RCODE_NXDOMAIN, RCODE_SERVFAIL, type ResponseParts } from './wire.js';

export interface DnsServerOptions {
  /** Address to listen on (`0.0.0.0` to serve a Docker bridge, `127.0.0.1` for tests). */
  host: string;
  /** 0 picks a port free for both UDP and TCP. */
  port: number;
  /** The current table; called for every query. */
  lookup: () => DnsTable;
  /** Called with a line about anything unexpected (a failing lookup, a socket error). */
  log?: (msg: string) => void;
}

export interface DnsStats {
  /** Every packet or TCP message received, answered or not. */
  queries: number;
  udp: number;
  tcp: number;
  /** Answers with addresses. */
  answered: number;
  /** NOERROR without addresses (AAAA for a Service, ...). */
  noData: number;
  nxdomain: number;
  /** FORMERR, NOTIMP, BADVERS, SERVFAIL replies, plus packets dropped unanswered. */
  errors: number;
}

export interface DnsServer {
  host: string;
  port: number;
  /** A copy of the counters. */
  stats(): DnsStats;
  close(): Promise<void>;
}

/** TCP: a connection idle this long is closed (RFC 7766 suggests seconds, not minutes). */
const TCP_IDLE_MS = 10_000;
/** Plain DNS over UDP without EDNS (RFC 1035 2.3.4). */
const UDP_PLAIN_MAX = 512;

/** The response to one message, or undefined to stay silent. Exported for tests. */
export function respond(msg: Uint8Array, transport: 'udp' | 'tcp', lookup: () => DnsTable, stats: DnsStats, log: (m: string) => void): Uint8Array | undefined {
  stats.queries++;
  stats[transport]++;
  const decoded = decodeQuery(msg);
  if (!decoded.ok) {
    stats.errors++;
    return decoded.reply ? encodeResponse(decoded.reply) : undefined;
  }
  const { header, question, edns } = decoded.query;
  const base = { id: header.id, opcode: header.opcode, rd: header.rd, question, edns: edns !== undefined };
  let parts: ResponseParts;
  try {
    const a = answer(question.name, question.type, lookup());
    if (a.rcode === 'NXDOMAIN') {
      stats.nxdomain++;
      parts = { ...base, rcode: RCODE_NXDOMAIN };
    } else {
      if (a.addresses.length > 0) stats.answered++;
      else stats.noData++;
      parts = { ...base, rcode: RCODE_NOERROR, answers: a.addresses.map((address) => ({ address, ttl: DNS_TTL })) };
    }
  } catch (err) {
    stats.errors++;
    log(`dns: lookup failed: ${(err as Error).message}`);
    parts = { ...base, rcode: RCODE_SERVFAIL };
  }
  let out = encodeResponse(parts);
  const max = transport === 'tcp' ? 0xffff : edns ? edns.udpSize : UDP_PLAIN_MAX;
  if (out.length > max) out = encodeResponse({ ...parts, truncated: true });
  return out;
}

function emptyStats(): DnsStats {
  return { queries: 0, udp: 0, tcp: 0, answered: 0, noData: 0, nxdomain: 0, errors: 0 };
}

/** Serves DNS on `host:port` over UDP and TCP. Resolves once both listen. */
export async function startDnsServer(o: DnsServerOptions): Promise<DnsServer> {
  const log = o.log ?? (() => undefined);
  const stats = emptyStats();
  const connections = new Set<TcpSocket>();
  // With port 0 the UDP port is picked first; TCP may find it taken, so try a few.
  let bound: { udp: UdpSocket; tcp: TcpServer; port: number } | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < (o.port === 0 ? 8 : 1) && !bound; attempt++) {
    const udp = createSocket({ type: isIPv6(o.host) ? 'udp6' : 'udp4' });
    try {
      const port = await listenUdp(udp, o.host, o.port);
      const tcp = createTcpServer((sock) => serveTcp(sock, o.lookup, stats, log, connections));
      try {
        await listenTcp(tcp, o.host, port);
      } catch (err) {
        tcp.close();
        throw err;
      }
      bound = { udp, tcp, port };
    } catch (err) {
      lastError = err;
      udp.close();
    }
  }
  if (!bound) throw lastError instanceof Error ? lastError : new Error(`dns: could not listen on ${o.host}:${o.port}`);
  const { udp, tcp, port } = bound;

  udp.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    const out = respond(msg, 'udp', o.lookup, stats, log);
    if (out) udp.send(out, rinfo.port, rinfo.address, (err) => err && log(`dns: udp send to ${rinfo.address}:${rinfo.port}: ${err.message}`));
  });
  udp.on('error', (err) => log(`dns: udp: ${err.message}`));
  tcp.on('error', (err) => log(`dns: tcp: ${err.message}`));

  let closed: Promise<void> | undefined;
  return {
    host: o.host,
    port,
    stats: () => ({ ...stats }),
    close: () =>
      (closed ??= Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => {
          tcp.close(() => resolve());
          for (const c of connections) c.destroy();
        }),
      ]).then(() => undefined)),
  };
}

function listenUdp(udp: UdpSocket, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    udp.once('error', onError);
    udp.bind({ address: host, port, exclusive: true }, () => {
      udp.off('error', onError);
      resolve(udp.address().port);
    });
  });
}

function listenTcp(tcp: TcpServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    tcp.once('error', onError);
    tcp.listen({ host, port, exclusive: true }, () => {
      tcp.off('error', onError);
      resolve();
    });
  });
}

/** One TCP connection: any number of length-prefixed queries, answered in order. */
function serveTcp(sock: TcpSocket, lookup: () => DnsTable, stats: DnsStats, log: (m: string) => void, connections: Set<TcpSocket>): void {
  connections.add(sock);
  sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
  sock.on('close', () => connections.delete(sock));
  sock.on('error', () => sock.destroy());
  let buf: Buffer = Buffer.alloc(0);
  sock.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= 2) {
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) break;
      const msg = buf.subarray(2, 2 + len);
      buf = buf.subarray(2 + len);
      const out = respond(msg, 'tcp', lookup, stats, log);
      if (!out) {
        // Not a query we can answer at all: the stream may be out of step, so end it.
        sock.destroy();
        return;
      }
      const framed = Buffer.alloc(2 + out.length);
      framed.writeUInt16BE(out.length, 0);
      framed.set(out, 2);
      sock.write(framed);
    }
  });
}
