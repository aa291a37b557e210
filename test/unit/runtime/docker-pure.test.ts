import { describe, expect, it } from 'vitest';
import { captureRules } from '../../../src/runtime/docker/iptables.js';
import { dockerName, labFilter, labId, podContainerLabels, LABELS } from '../../../src/runtime/docker/labels.js';
import { labSubnet, podAddress, subnetCandidates } from '../../../src/runtime/docker/subnet.js';
import { demux } from '../../../src/runtime/docker/docker-runtime.js';
import { decodeOriginalPort, encodeOriginalPort } from '../../../src/capture/original-port.js';
import { AddressPlan } from '../../../src/runtime/addresses.js';
import { inCidr, mayConnect, parseCidr } from '../../../src/proxy/capture.js';

describe('capture rules (iptables-restore input)', () => {
  const spec = { inbound: [{ port: 3000, capturePort: 15100 }], outboundPorts: [80, 3000, 80], inboundExcludeSources: ['172.20.0.2'] };

  it('hooks the chains in only the first time', () => {
    expect(captureRules(spec, true)).toContain('-A PREROUTING -p tcp -j ISTIO_INBOUND');
    expect(captureRules(spec, true)).toContain('-A OUTPUT -p tcp -j ISTIO_OUTPUT');
    expect(captureRules(spec, false)).not.toContain('PREROUTING');
    expect(captureRules(spec, false)).not.toMatch(/-A OUTPUT /);
  });

  it('declares both chains (so an update empties and refills them) and commits', () => {
    const r = captureRules(spec, false).split('\n');
    expect(r[0]).toBe('*nat');
    expect(r).toContain(':ISTIO_INBOUND - [0:0]');
    expect(r).toContain(':ISTIO_OUTPUT - [0:0]');
    expect(r.at(-2)).toBe('COMMIT');
  });

  it('orders the rules: excluded sources, inbound redirects; proxy UID and loopback, known ports, then the catch-all', () => {
    const r = captureRules(spec, true)
      .split('\n')
      .filter((l) => l.startsWith('-A ISTIO_'));
    expect(r).toEqual([
      '-A ISTIO_INBOUND -s 172.20.0.2/32 -j RETURN',
      '-A ISTIO_INBOUND -p tcp --dport 3000 -j REDIRECT --to-ports 15100',
      '-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN',
      '-A ISTIO_OUTPUT -d 127.0.0.0/8 -j RETURN',
      '-A ISTIO_OUTPUT -p tcp --dport 80 -j DNAT --to-destination 127.1.0.80:15001',
      '-A ISTIO_OUTPUT -p tcp --dport 3000 -j DNAT --to-destination 127.1.11.184:15001',
      '-A ISTIO_OUTPUT -p tcp -j DNAT --to-destination 127.1.0.0:15001',
    ]);
  });

  it.each([1, 80, 255, 256, 3000, 8080, 15010, 65535])('port %i survives the trip through an address', (port) => {
    expect(decodeOriginalPort(encodeOriginalPort(port))).toBe(port);
  });
});

describe('labels and names', () => {
  it('gives a stable short id per LAB_HOME, different for different homes', () => {
    expect(labId('/tmp/a')).toBe(labId('/tmp/a'));
    expect(labId('/tmp/a')).not.toBe(labId('/tmp/b'));
    expect(labId('/tmp/a')).toMatch(/^[0-9a-f]{10}$/);
  });

  it('keeps Docker names in Docker\'s alphabet', () => {
    expect(dockerName('abc', 'istioinaction', 'catalog-1/x', 'istio-proxy')).toBe('istio-lab-abc-istioinaction-catalog-1-x-istio-proxy');
  });

  it('puts the pod identity and its labels on each container', () => {
    const l = podContainerLabels({ [LABELS.lab]: 'id1' }, { namespace: 'istioinaction', name: 'catalog-x', labels: { app: 'catalog', version: 'v1' } }, 'istio-proxy');
    expect(l).toMatchObject({
      [LABELS.lab]: 'id1',
      [LABELS.namespace]: 'istioinaction',
      [LABELS.pod]: 'catalog-x',
      [LABELS.container]: 'istio-proxy',
      'io.istio-lab.label.app': 'catalog',
      'io.istio-lab.label.version': 'v1',
    });
    expect(labFilter('id1')).toEqual({ label: ['io.istio-lab.lab=id1'] });
  });
});

describe('lab network addressing', () => {
  it('splits a /16: containers in the lower half, virtual addresses in the upper', () => {
    expect(labSubnet(24)).toEqual({
      base: '172.24',
      subnet: '172.24.0.0/16',
      ipRange: '172.24.0.0/17',
      gateway: '172.24.0.1',
      controlPlane: '172.24.0.2',
      external: '172.24.0.3',
      serviceCidr: '172.24.128.0/17',
    });
  });

  it('tries every 172.18-31 network once, never Docker\'s default 172.17 nor compose.yaml\'s 172.29', () => {
    const c = subnetCandidates(labId('/tmp/x'));
    expect([...c].sort((a, b) => a - b)).toEqual(Array.from({ length: 14 }, (_, i) => 18 + i).filter((n) => n !== 29));
  });

  it.each([
    [0, '172.24.1.2'],
    [249, '172.24.1.251'],
    [250, '172.24.2.2'],
  ])('pod slot %i is %s', (slot, ip) => {
    expect(podAddress(labSubnet(24), slot)).toBe(ip);
  });

  it('never hands out an address in the virtual half', () => {
    expect(() => podAddress(labSubnet(24), 250 * 127)).toThrow(/no free pod address/);
  });

  it('network-mode pods keep their app ports and get capture ports for the sidecar', async () => {
    const plan = new AddressPlan('network', 0, labSubnet(24));
    const a = await plan.allocate([3000, 8080]);
    expect(a).toMatchObject({ ip: '172.24.1.2', appIp: '172.24.1.2', adminPort: 15000, outboundPort: 15001, inboundPorts: { 3000: 15100, 8080: 15101 }, appPorts: { 3000: 3000, 8080: 8080 } });
    expect(plan.appBindHost(a)).toBe('0.0.0.0');
    const b = await plan.allocate([]);
    expect(b.ip).toBe('172.24.1.3');
    plan.release(a);
    expect((await plan.allocate([])).ip).toBe('172.24.1.2');
    expect(plan.controlPlaneHost).toBe('172.24.0.2');
    expect(plan.externalHost).toBe('172.24.0.3');
  });
});

describe("Docker's multiplexed stream", () => {
  const frame = (stream: number, text: string) => {
    const body = Buffer.from(text);
    const head = Buffer.alloc(8);
    head[0] = stream;
    head.writeUInt32BE(body.length, 4);
    return Buffer.concat([head, body]);
  };
  it('joins stdout and stderr frames', () => {
    expect(demux(Buffer.concat([frame(1, 'out '), frame(2, 'err')]))).toBe('out err');
  });
  it('passes a raw (tty) stream through', () => {
    expect(demux(Buffer.from('plain text'))).toBe('plain text');
  });
});

describe("the proxy's reach on Docker: loopback and the lab's own network", () => {
  const net = parseCidr('172.24.0.0/16')!;
  it.each([
    ['172.24.1.3', true],
    ['172.24.205.41', true],
    ['172.25.0.1', false],
    ['10.0.0.1', false],
    ['::ffff:172.24.0.3', true],
    ['not-an-ip', false],
  ])('%s in 172.24.0.0/16: %s', (addr, inside) => {
    expect(inCidr(addr, net)).toBe(inside);
  });
  it.each(['172.24.0.0/33', '172.24.0/16', 'x/8', '300.1.1.1/8'])('refuses %s as a network', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
  it('lets a gateway (no capture) reach a lab address, and nothing else off loopback', () => {
    const state = { allowExternal: false, labNetworks: [net] };
    expect(mayConnect(state, {}, { address: '172.24.0.3' }, undefined)).toBe(true);
    expect(mayConnect(state, {}, { address: '127.0.0.1' }, undefined)).toBe(true);
    expect(mayConnect(state, {}, { address: '93.184.216.34' }, undefined)).toBe(false);
    expect(mayConnect({ allowExternal: false }, {}, { address: '172.24.0.3' }, undefined)).toBe(false);
  });
});
