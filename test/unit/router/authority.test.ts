import { describe, expect, it } from 'vitest';
import { canonicalAuthority, formatAuthority } from '../../../src/router/authority.js';

describe('canonicalAuthority', () => {
  const accepted: [string, string, number][] = [
    ['example.com', 'example.com', 80],
    ['Example.COM', 'example.com', 80],
    ['example.com.', 'example.com', 80],
    ['example.com:80', 'example.com', 80],
    ['EXAMPLE.com.:80', 'example.com', 80],
    ['example.com:8080', 'example.com', 8080],
    ['example.com:080', 'example.com', 80],
    ['catalog', 'catalog', 80],
    ['my_host-1.internal', 'my_host-1.internal', 80],
    ['127.0.0.1', '127.0.0.1', 80],
    ['127.0.0.1:3000', '127.0.0.1', 3000],
    ['[::1]', '[::1]', 80],
    ['[::1]:8080', '[::1]', 8080],
    ['[0:0:0:0:0:0:0:1]:80', '[::1]', 80],
    ['[2001:DB8::1]', '[2001:db8::1]', 80],
    ['a1.example.com', 'a1.example.com', 80],
  ];
  it.each(accepted)('%s -> %s port %s', (raw, host, port) => {
    expect(canonicalAuthority(raw, 80)).toEqual({ host, port });
  });

  const rejected: [string, string][] = [
    ['', 'empty'],
    [' example.com', 'leading space'],
    ['exa mple.com', 'inner space'],
    ['example.com\t', 'tab'],
    ['user@example.com', 'userinfo'],
    ['evil.com@example.com', 'userinfo posing as host'],
    ['example.com:', 'empty port'],
    ['example.com:0', 'port 0'],
    ['example.com:65536', 'port too large'],
    ['example.com:+80', 'signed port'],
    ['example.com:80:80', 'two ports'],
    ['example.com:8o', 'non-digit port'],
    ['example.com..', 'two trailing dots'],
    ['.example.com', 'empty first label'],
    ['a..b', 'empty label'],
    ['.', 'only a dot'],
    ['*.example.com', 'wildcard'],
    ['exa%6dple.com', 'percent-encoding'],
    ['example.com/path', 'path'],
    ['bücher.de', 'non-ASCII'],
    ['::1', 'unbracketed IPv6'],
    ['[::1', 'unclosed bracket'],
    ['[::1]x', 'junk after bracket'],
    ['[fe80::1%25eth0]', 'zone id'],
    ['[example.com]', 'name in brackets'],
    ['127.1', 'short IPv4'],
    ['2130706433', 'integer IPv4'],
    ['0x7f.0.0.1', 'hex IPv4'],
    ['1.2.3.256', 'IPv4 out of range'],
    [`${'a'.repeat(64)}.com`, 'label too long'],
  ];
  it.each(rejected)('rejects %j (%s)', (raw) => {
    expect(canonicalAuthority(raw, 80)).toBeUndefined();
  });

  it('uses the given default port', () => {
    expect(canonicalAuthority('example.com', 443)).toEqual({ host: 'example.com', port: 443 });
  });

  it('formats host:port, dropping a default port when asked', () => {
    const a = canonicalAuthority('Example.com.:80', 80)!;
    expect(formatAuthority(a)).toBe('example.com:80');
    expect(formatAuthority(a, 80)).toBe('example.com');
    expect(formatAuthority(canonicalAuthority('[::1]:81', 80)!, 80)).toBe('[::1]:81');
  });
});
