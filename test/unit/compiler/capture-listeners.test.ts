/**
 * Sidecars whose traffic is captured by iptables (Docker pods) get listeners marked `capture`;
 * the local runtime's sidecars do not, and their tables (and content hashes) stay as they were.
 */
import { describe, expect, it } from 'vitest';
import { INBOUND_CAPTURE_BASE, OUTBOUND_CAPTURE_PORT } from '../../../src/capture/original-port.js';
import { buildSidecarListeners } from '../../../src/compiler/sidecar.js';
import type { ProxyNode } from '../../../src/compiler/snapshot.js';
import { compile, objects, pod, sidecarNode } from '../../helpers/sim.js';

const local = sidecarNode('webapp', { app: 'webapp' }, '127.1.1.50', 'istioinaction', [8080, 9090]);

function captured(node: ProxyNode): ProxyNode {
  return {
    ...node,
    ip: '172.18.0.7',
    inbound: node.inbound.map((inb, i) => ({ ...inb, bindAddress: '0.0.0.0', bindPort: INBOUND_CAPTURE_BASE + i, appAddress: '172.18.0.7', appPort: inb.port, capture: true as const })),
    outbound: { bindAddress: '0.0.0.0', bindPort: OUTBOUND_CAPTURE_PORT, capture: true },
  };
}

const objs = [
  ...objects(`
apiVersion: v1
kind: Service
metadata: { name: catalog }
spec: { selector: { app: catalog }, ports: [{ name: http, port: 80, targetPort: 3000 }] }
`),
  pod('catalog-1', { app: 'catalog' }, '127.1.1.10'),
];

describe('sidecar listeners', () => {
  it.each([
    [
      'local runtime: no capture field',
      local,
      [
        { name: 'virtualInbound:8080', direction: 'inbound', bindAddress: '127.1.1.50', bindPort: 8080, port: 8080, routeConfig: 'inbound|8080' },
        { name: 'virtualInbound:9090', direction: 'inbound', bindAddress: '127.1.1.50', bindPort: 9090, port: 9090, routeConfig: 'inbound|9090' },
        { name: 'virtualOutbound', direction: 'outbound', bindAddress: '127.1.1.50', bindPort: 15001, port: 15001, routeConfig: '*' },
      ],
    ],
    [
      'Docker pod: every listener captured, inbound on 15100+i',
      captured(local),
      [
        { name: 'virtualInbound:8080', direction: 'inbound', bindAddress: '0.0.0.0', bindPort: 15100, port: 8080, routeConfig: 'inbound|8080', capture: 'iptables' },
        { name: 'virtualInbound:9090', direction: 'inbound', bindAddress: '0.0.0.0', bindPort: 15101, port: 9090, routeConfig: 'inbound|9090', capture: 'iptables' },
        { name: 'virtualOutbound', direction: 'outbound', bindAddress: '0.0.0.0', bindPort: 15001, port: 15001, routeConfig: '*', capture: 'iptables' },
      ],
    ],
    [
      'outbound captured only',
      { ...local, inbound: [local.inbound[0]!], outbound: { bindAddress: '0.0.0.0', bindPort: 15001, capture: true } } satisfies ProxyNode,
      [
        { name: 'virtualInbound:8080', direction: 'inbound', bindAddress: '127.1.1.50', bindPort: 8080, port: 8080, routeConfig: 'inbound|8080' },
        { name: 'virtualOutbound', direction: 'outbound', bindAddress: '0.0.0.0', bindPort: 15001, port: 15001, routeConfig: '*', capture: 'iptables' },
      ],
    ],
  ] as const)('%s', (_name, node, want) => {
    // toStrictEqual: an absent field must be absent, not `capture: undefined`.
    expect(buildSidecarListeners(node)).toStrictEqual(want);
  });

  it('an uncaptured table has no capture or vip key anywhere in its JSON', () => {
    const json = JSON.stringify(compile(objs, local));
    expect(json).not.toContain('"capture"');
    expect(json).not.toContain('"vip"');
  });

  it('`capture` unset and `capture` absent compile to the same version; capture changes only the listeners', () => {
    const explicitUndefined: ProxyNode = { ...local, outbound: { ...local.outbound!, capture: undefined }, inbound: local.inbound.map((i) => ({ ...i, capture: undefined })) };
    const a = compile(objs, local);
    expect(compile(objs, explicitUndefined).version).toBe(a.version);
    const withCapture: ProxyNode = { ...local, outbound: { ...local.outbound!, capture: true }, inbound: local.inbound.map((i) => ({ ...i, capture: true as const })) };
    const b = compile(objs, withCapture);
    expect(b.version).not.toBe(a.version);
    expect({ ...b, version: '', listeners: [] }).toEqual({ ...a, version: '', listeners: [] });
  });

  it('the table stays plain JSON', () => {
    const t = compile(objs, captured(local));
    expect(JSON.parse(JSON.stringify(t))).toEqual(t);
  });
});
