/**
 * `lab analyze` on Istio's own examples: each case is the YAML from the istio.io page of the
 * message (https://istio.io/v1.16/docs/reference/config/analysis/istNNNN/), and the expected line is
 * the one that page shows, in istioctl's format and level. Where istioctl would report more than
 * the page shows (the examples reference Services they do not define), the extra lines are listed
 * and say why.
 */
import { describe, expect, test } from 'vitest';
import { analyzeObjects, formatMessage, highestLevel } from '../../../src/config/analysis.js';
import type { KubeObject } from '../../../src/model/objects.js';
import { check, dedent } from './helpers.js';

function analyzeText(text: string): string[] {
  const r = check(dedent(text), 'x.yaml', 'default');
  expect(r.errors).toEqual([]);
  return analyzeObjects(r.objects.map((object: KubeObject) => ({ object }))).map(formatMessage);
}

describe('Istio\'s documented examples get Istio\'s verdict', () => {
  test('IST0101 ReferencedResourceNotFound (ist0101: a VirtualService naming a gateway that does not exist)', () => {
    expect(
      analyzeText(`
        apiVersion: networking.istio.io/v1alpha3
        kind: Gateway
        metadata:
          name: httpbin-gateway
        spec:
          selector:
            istio: ingressgateway
          servers:
          - port:
              number: 80
              name: http2
              protocol: HTTP2
            hosts:
            - "*"
        ---
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: httpbin
        spec:
          hosts:
          - "*"
          gateways:
          - httpbin-gateway-bogus # Should have been "httpbin-gateway"
          http:
          - route:
            - destination:
                host: httpbin-gateway
      `),
    ).toEqual([
      'Error [IST0101] (VirtualService httpbin.default) Referenced gateway not found: "httpbin-gateway-bogus"',
      // Not on the page: the example's destination is no Service either.
      'Error [IST0101] (VirtualService httpbin.default) Referenced host not found: "httpbin-gateway"',
    ]);
  });

  test('IST0104 GatewayPortNotOnWorkload (ist0104: port 8004 is not a port of the default ingress gateway)', () => {
    expect(
      analyzeText(`
        # Gateway with bogus port
        apiVersion: networking.istio.io/v1alpha3
        kind: Gateway
        metadata:
          name: httpbin-gateway
        spec:
          selector:
            istio: ingressgateway
          servers:
          - port:
              number: 80
              name: http
              protocol: HTTP
            hosts:
            - "*"
          - port:
              number: 8004
              name: http2
              protocol: HTTP
            hosts:
            - "*"
      `),
    ).toEqual(['Warning [IST0104] (Gateway httpbin-gateway.default) The gateway refers to a port that is not exposed on the workload (pod selector istio=ingressgateway; port 8004)']);
  });

  test('IST0109 ConflictingMeshGatewayVirtualServiceHosts (ist0109: two mesh VirtualServices for one host)', () => {
    const message =
      'The VirtualServices team-1/productpage,team-2/custom associated with mesh gateway define the same host productpage.default.svc.cluster.local which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.';
    expect(
      analyzeText(`
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: productpage
          namespace: team-1
        spec:
          hosts:
          - productpage.default.svc.cluster.local
          http:
          - route:
            - destination:
                host: productpage
        ---
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: custom
          namespace: team-2
        spec:
          hosts:
          - productpage.default.svc.cluster.local
          http:
          - route:
            - destination:
                host: productpage.team-2.svc.cluster.local
      `),
    ).toEqual([
      // Not on the page: neither destination is a Service in this example.
      'Error [IST0101] (VirtualService productpage.team-1) Referenced host not found: "productpage"',
      'Error [IST0101] (VirtualService custom.team-2) Referenced host not found: "productpage.team-2.svc.cluster.local"',
      `Error [IST0109] (VirtualService productpage.team-1) ${message}`,
      `Error [IST0109] (VirtualService custom.team-2) ${message}`,
    ]);
  });

  test('IST0118 PortNameIsNotUnderNamingConvention (ist0118: port name foo-http)', () => {
    // The page's message says "port: 80" for a port declared as 8000; istioctl prints the Service
    // port it reads (pkg/config/analysis/analyzers/service/portname.go passes port.Port), so 8000.
    expect(
      analyzeText(`
        apiVersion: v1
        kind: Service
        metadata:
          name: httpbin
          labels:
            app: httpbin
        spec:
          ports:
          - name: foo-http
            port: 8000
            targetPort: 80
          selector:
            app: httpbin
      `),
    ).toEqual(["Info [IST0118] (Service httpbin.default) Port name foo-http (port: 8000, targetPort: 80) doesn't follow the naming convention of Istio port."]);
    // Named by protocol, with appProtocol, or in a system namespace: nothing to say.
    expect(
      analyzeText(`
        apiVersion: v1
        kind: Service
        metadata: {name: a}
        spec:
          selector: {app: a}
          ports: [{name: http-web, port: 80}, {name: grpc-web, port: 81}, {name: web, port: 82, appProtocol: http}, {name: tcp, port: 83}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: b, namespace: istio-system}
        spec:
          selector: {app: b}
          ports: [{name: status-port, port: 15021}]
      `),
    ).toEqual([]);
  });

  test('IST0130 VirtualServiceUnreachableRule (ist0130: a fault and a mirror written as two match-less rules)', () => {
    expect(
      analyzeText(`
        apiVersion: v1
        kind: Service
        metadata:
          name: sample
          namespace: foo
        spec:
          selector: {app: sample}
          ports: [{name: http, port: 80}]
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: sample
          namespace: bar
        spec:
          selector: {app: sample}
          ports: [{name: http, port: 80}]
        ---
        apiVersion: networking.istio.io/v1alpha3
        kind: DestinationRule
        metadata:
          name: sample
          namespace: bar
        spec:
          host: sample.bar.svc.cluster.local
          subsets: [{name: v1, labels: {version: v1}}]
        ---
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: sample-foo-cluster01
          namespace: foo
        spec:
          hosts:
          - sample.foo.svc.cluster.local
          http:
          - fault:
              delay:
                fixedDelay: 5s
                percentage:
                  value: 100
            route:
            - destination:
                host: sample.foo.svc.cluster.local
          - mirror:
              host: sample.bar.svc.cluster.local
            route:
            - destination:
                host: sample.bar.svc.cluster.local
                subset: v1
      `),
    ).toEqual(['Warning [IST0130] (VirtualService sample-foo-cluster01.foo) VirtualService rule #1 not used (only the last rule can have no matches).']);
  });

  test('IST0131 VirtualServiceIneffectiveMatch and IST0130 (a rule whose only match repeats an earlier one)', () => {
    // ist0131's example is a tls route; the same analyzer (MatchesAnalyzer) on an http route. When
    // every match of a rule is a duplicate, istioctl also reports the rule itself (IST0130).
    expect(
      analyzeText(`
        apiVersion: v1
        kind: Service
        metadata: {name: ratings}
        spec:
          selector: {app: ratings}
          ports: [{name: http, port: 80}]
        ---
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: ratings
        spec:
          hosts: [ratings]
          http:
          - match:
            - uri: {prefix: /api}
            route: [{destination: {host: ratings}}]
          - name: second
            match:
            - name: again
              uri: {prefix: /api}
            route: [{destination: {host: ratings}}]
      `),
    ).toEqual([
      'Warning [IST0130] (VirtualService ratings.default) VirtualService rule "second" not used (all matches used by prior rules).',
      'Info [IST0131] (VirtualService ratings.default) VirtualService rule "second" match "again" is not used (duplicates a match in rule #0).',
    ]);
  });

  test('IST0132 VirtualServiceHostNotFoundInGateway (ist0132: a host the bound Gateway does not serve)', () => {
    expect(
      analyzeText(`
        apiVersion: v1
        kind: Service
        metadata: {name: ratings}
        spec:
          selector: {app: ratings}
          ports: [{name: http, port: 80}]
        ---
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata:
          name: testing-service
          namespace: default
        spec:
          gateways:
          - istio-system/testing-gateway
          hosts:
          - wrong.com
          http:
          - match:
            - uri:
                prefix: /
            route:
            - destination:
                host: ratings
        ---
        apiVersion: networking.istio.io/v1alpha3
        kind: Gateway
        metadata:
          name: testing-gateway
          namespace: istio-system
        spec:
          selector:
            istio: ingressgateway
          servers:
          - hosts:
            - testing.com
            port:
              name: http
              number: 80
              protocol: HTTP
      `),
    ).toEqual(['Warning [IST0132] (VirtualService testing-service.default) one or more host [wrong.com] defined in VirtualService default/testing-service not found in Gateway istio-system/testing-gateway.']);
  });

  test('IST0101 for a Gateway selector no workload carries', () => {
    expect(
      analyzeText(`
        apiVersion: networking.istio.io/v1alpha3
        kind: Gateway
        metadata: {name: gw}
        spec:
          selector: {istio: egressgateway, app: x}
          servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
      `),
    ).toEqual(['Error [IST0101] (Gateway gw.default) Referenced selector not found: "app=x,istio=egressgateway"']);
  });
});

describe('the lab\'s own checks', () => {
  test('LAB0001: a rule after a catch-all, and a rule a broader prefix takes first', () => {
    const out = analyzeText(`
      apiVersion: v1
      kind: Service
      metadata: {name: catalog}
      spec:
        selector: {app: catalog}
        ports: [{name: http, port: 80}]
      ---
      apiVersion: networking.istio.io/v1alpha3
      kind: VirtualService
      metadata: {name: catalog}
      spec:
        hosts: [catalog]
        http:
        - match: [{uri: {prefix: /items}}]
          route: [{destination: {host: catalog}}]
        - match: [{uri: {prefix: /items/1}, headers: {x: {exact: "1"}}}]
          route: [{destination: {host: catalog}}]
        - match: [{uri: {prefix: /other}}]
          route: [{destination: {host: catalog}}]
        - route: [{destination: {host: catalog}}]
        - match: [{uri: {exact: /late}}]
          route: [{destination: {host: catalog}}]
    `);
    expect(out).toEqual([
      'Warning [LAB0001] (VirtualService catalog.default) VirtualService rule #1 is never used: every request it matches is matched first by rule #0',
      'Warning [LAB0001] (VirtualService catalog.default) VirtualService rule #4 is never used: rule #3 before it matches every request',
    ]);
  });

  test('LAB0001 stays quiet where a later rule can still match', () => {
    const out = analyzeText(`
      apiVersion: v1
      kind: Service
      metadata: {name: catalog}
      spec:
        selector: {app: catalog}
        ports: [{name: http, port: 80}]
      ---
      apiVersion: networking.istio.io/v1alpha3
      kind: VirtualService
      metadata: {name: catalog}
      spec:
        hosts: [catalog]
        http:
        - match: [{uri: {prefix: /items}, headers: {x: {exact: "1"}}}]
          route: [{destination: {host: catalog}}]
        - match: [{uri: {prefix: /items}}]
          route: [{destination: {host: catalog}}]
        - match: [{uri: {prefix: /it}, ignoreUriCase: true}]
          route: [{destination: {host: catalog}}]
        - match: [{uri: {regex: "/a.*"}}]
          route: [{destination: {host: catalog}}]
        - match: [{uri: {prefix: /a}}]
          route: [{destination: {host: catalog}}]
        - route: [{destination: {host: catalog}}]
    `);
    expect(out).toEqual([]);
  });

  test('levels order the output; the highest decides the exit code', () => {
    const r = check(dedent(`
      apiVersion: networking.istio.io/v1alpha3
      kind: VirtualService
      metadata: {name: v}
      spec:
        hosts: [catalog]
        http:
        - route: [{destination: {host: nowhere}, weight: 30}, {destination: {host: nowhere}, weight: 30}]
    `), 'x.yaml', 'default');
    const messages = analyzeObjects(r.objects.map((object) => ({ object })));
    expect(messages.map((m) => `${m.level} ${m.code}`)).toEqual(['Error IST0101', 'Error IST0101', 'Info LAB0002']);
    expect(highestLevel(messages)).toBe('Error');
    expect(highestLevel(messages.filter((m) => m.level === 'Info'))).toBe('Info');
    expect(highestLevel([])).toBeUndefined();
  });
});
