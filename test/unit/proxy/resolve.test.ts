/** Where an upstream host name goes: the table's hosts map, IP literals, and DNS only when allowed. */
import { describe, expect, it } from 'vitest';
import { isLoopback, resolveTarget } from '../../../src/proxy/resolve.js';

const hosts = { 'api.example.com:443': { address: '127.0.0.9', port: 8443 } };

describe('resolveTarget', () => {
  it.each([
    ['a host in the table', 'api.example.com', 443, false, { address: '127.0.0.9', port: 8443 }],
    ['the same host on another port (not in the table)', 'api.example.com', 80, false, undefined],
    ['an IPv4 literal', '127.0.0.5', 8080, false, { address: '127.0.0.5', port: 8080 }],
    ['a bracketed IPv6 literal', '[::1]', 80, false, { address: '::1', port: 80 }],
    ['a name outside the table without DNS', 'localhost', 80, false, undefined],
  ])('%s', async (_what, host, port, dns, expected) => {
    expect(await resolveTarget(host, port, hosts, dns)).toEqual(expected);
  });

  it('asks the machine (here /etc/hosts) only when real DNS is allowed', async () => {
    const t = await resolveTarget('localhost', 80, hosts, true);
    expect(t?.port).toBe(80);
    expect(isLoopback(t!.address)).toBe(true);
  });
});
