/**
 * The lab's DNS server on real sockets: Node's resolver (c-ares) over UDP, raw TCP with length
 * framing, and junk that must not take it down.
 */
import { createSocket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsTableFromHosts, type DnsTable } from '../../src/dns/resolver.js';
import { startDnsServer, type DnsServer } from '../../src/dns/server.js';
import { decodeResponse, encodeQuery, RCODE_FORMERR, RCODE_NOTIMP, RCODE_NXDOMAIN, TYPE_A, TYPE_AAAA } from '../../src/dns/wire.js';

let table: DnsTable = dnsTableFromHosts([
  ['catalog.istioinaction.svc.cluster.local', '172.28.130.7'],
  ['jsonplaceholder.typicode.com', '172.28.0.50'],
]);
let server: DnsServer;
let resolver: dns.Resolver;

beforeAll(async () => {
  server = await startDnsServer({ host: '127.0.0.1', port: 0, lookup: () => table });
  resolver = new dns.Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`127.0.0.1:${server.port}`]);
});
afterAll(async () => {
  await server?.close();
});

function udpExchange(packet: Uint8Array, waitMs = 1000): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      resolve(undefined);
    }, waitMs);
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(msg);
    });
    sock.on('error', reject);
    sock.send(packet, server.port, '127.0.0.1');
  });
}

/** Sends `chunks` on one TCP connection and collects `count` length-framed responses. */
function tcpExchange(chunks: Uint8Array[], count: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const sock = connect(server.port, '127.0.0.1');
    const out: Buffer[] = [];
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length === count) {
        sock.end();
        resolve(out);
      }
    });
    sock.on('error', reject);
    sock.on('close', () => resolve(out));
    sock.on('connect', async () => {
      for (const c of chunks) {
        sock.write(c);
        await new Promise((r) => setTimeout(r, 20));
      }
    });
  });
}

const framed = (q: Uint8Array) => Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]);

describe('DNS server over UDP, asked by Node\'s resolver', () => {
  it('resolve4 of a Service FQDN and of the external stand-in', async () => {
    expect(await resolver.resolve4('catalog.istioinaction.svc.cluster.local')).toEqual(['172.28.130.7']);
    expect(await resolver.resolve4('jsonplaceholder.typicode.com', { ttl: true })).toEqual([{ address: '172.28.0.50', ttl: 5 }]);
  });

  it('names are case-insensitive; a trailing dot is fine', async () => {
    expect(await resolver.resolve4('CATALOG.IstioInAction.Svc.Cluster.Local')).toEqual(['172.28.130.7']);
    expect(await resolver.resolve4('catalog.istioinaction.svc.cluster.local.')).toEqual(['172.28.130.7']);
  });

  it('NXDOMAIN for unknown names (short names are the search list\'s job); no data for AAAA', async () => {
    await expect(resolver.resolve4('nothing.istioinaction.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve4('catalog')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve4('example.com')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve6('catalog.istioinaction.svc.cluster.local')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('answers from the table as it is now (a Service created or deleted shows at once)', async () => {
    const before = table;
    table = dnsTableFromHosts([...before.hosts, ['webapp.istioinaction.svc.cluster.local', '172.28.140.2']]);
    try {
      expect(await resolver.resolve4('webapp.istioinaction.svc.cluster.local')).toEqual(['172.28.140.2']);
    } finally {
      table = before;
    }
    await expect(resolver.resolve4('webapp.istioinaction.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('malformed packets: FORMERR/NOTIMP where there is an id to answer, silence otherwise, and no crash', async () => {
    const before = server.stats();
    // A header announcing a question that is not there.
    const formerr = await udpExchange(Uint8Array.from([0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 97]));
    expect(formerr && decodeResponse(formerr)).toMatchObject({ header: { id: 0xabcd, qr: true }, rcode: RCODE_FORMERR });
    // A pointer loop.
    const loop = await udpExchange(Uint8Array.from([0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]));
    expect(loop && decodeResponse(loop).rcode).toBe(RCODE_FORMERR);
    // CHAOS class (version.bind probes).
    const chaos = await udpExchange(encodeQuery({ id: 9, name: 'version.bind', type: 16, class: 3 }));
    expect(chaos && decodeResponse(chaos).rcode).toBe(RCODE_NOTIMP);
    // Too short for an id, or a response: no answer.
    expect(await udpExchange(Uint8Array.from([1, 2, 3]), 300)).toBeUndefined();
    expect(await udpExchange(Uint8Array.from([0, 1, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0]), 300)).toBeUndefined();
    // Still serving.
    expect(await resolver.resolve4('catalog.istioinaction.svc.cluster.local')).toEqual(['172.28.130.7']);
    const after = server.stats();
    expect(after.errors - before.errors).toBe(5);
    expect(after.answered - before.answered).toBe(1);
  });
});

describe('DNS server over TCP', () => {
  it('length-framed queries, several on one connection, split across writes', async () => {
    const a = framed(encodeQuery({ id: 1, name: 'catalog.istioinaction.svc.cluster.local', type: TYPE_A }));
    const b = framed(encodeQuery({ id: 2, name: 'nope.istioinaction.svc.cluster.local', type: TYPE_A, edns: {} }));
    const c = framed(encodeQuery({ id: 3, name: 'Catalog.IstioInAction.svc.cluster.local', type: TYPE_AAAA }));
    const all = Buffer.concat([a, b, c]);
    const replies = (await tcpExchange([all.subarray(0, 1), all.subarray(1, 30), all.subarray(30)], 3)).map((r) => decodeResponse(r));
    expect(replies.map((r) => r.header.id)).toEqual([1, 2, 3]);
    expect([...replies[0]!.answers[0]!.data].join('.')).toBe('172.28.130.7');
    expect(replies[1]).toMatchObject({ rcode: RCODE_NXDOMAIN, hasOpt: true });
    expect(replies[2]).toMatchObject({ rcode: 0, answers: [] });
    expect(replies[2]!.question?.labels[0]).toBe('Catalog');
  });

  it('a junk message gets FORMERR; a non-query ends the connection; the server keeps going', async () => {
    const [formerr] = await tcpExchange([framed(Uint8Array.from([0, 5, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x40]))], 1);
    expect(decodeResponse(formerr!).rcode).toBe(RCODE_FORMERR);
    expect(await tcpExchange([framed(Uint8Array.from([1, 2]))], 1)).toEqual([]);
    expect(await resolver.resolve4('jsonplaceholder.typicode.com')).toEqual(['172.28.0.50']);
  });
});

describe('DNS server lifecycle', () => {
  it('counts queries by transport and outcome; close frees the port', async () => {
    const s = await startDnsServer({ host: '127.0.0.1', port: 0, lookup: () => table });
    const r = new dns.Resolver({ timeout: 2000, tries: 1 });
    r.setServers([`127.0.0.1:${s.port}`]);
    await r.resolve4('catalog.istioinaction.svc.cluster.local');
    await expect(r.resolve4('x.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(s.stats()).toMatchObject({ queries: 2, udp: 2, tcp: 0, answered: 1, nxdomain: 1, errors: 0 });
    await s.close();
    await s.close(); // idempotent
    // The same port can be bound again.
    const again = await startDnsServer({ host: '127.0.0.1', port: s.port, lookup: () => table });
    await again.close();
  });

  it('a lookup that throws is SERVFAIL, not a crash', async () => {
    const logs: string[] = [];
    const s = await startDnsServer({ host: '127.0.0.1', port: 0, lookup: () => { throw new Error('store gone'); }, log: (m) => logs.push(m) });
    try {
      const r = new dns.Resolver({ timeout: 2000, tries: 1 });
      r.setServers([`127.0.0.1:${s.port}`]);
      await expect(r.resolve4('catalog.istioinaction.svc.cluster.local')).rejects.toMatchObject({ code: 'ESERVFAIL' });
      expect(logs.join('\n')).toContain('store gone');
    } finally {
      await s.close();
    }
  });
});
