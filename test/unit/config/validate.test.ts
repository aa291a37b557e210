import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { loadManifestPaths, parseManifests } from '../../../src/config/manifest.js';
import { validateDocuments, validateObject } from '../../../src/config/validate.js';
import type { KubeObject } from '../../../src/model/objects.js';
import { BOOK, SEED_MISINDENTED_GATEWAY } from './book-manifests.js';
import { check, dedent, doc, vs } from './helpers.js';

describe('the book manifests', () => {
  test.each(Object.keys(BOOK))('%s is valid', (file) => {
    const r = check(BOOK[file]!, file);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.objects.length).toBeGreaterThan(0);
    for (const o of r.objects) expect(o.metadata.namespace).toBe('istioinaction');
  });

  test('the seed\'s mis-indented Gateway is rejected with every problem named', () => {
    expect(check(SEED_MISINDENTED_GATEWAY, 'ch5/catalog-gateway.yaml').errors).toEqual([
      'ch5/catalog-gateway.yaml: document 1 (Gateway catalog-gateway): spec.servers[0].number: unknown field "spec.servers[0].number"',
      'ch5/catalog-gateway.yaml: document 1 (Gateway catalog-gateway): spec.servers[0].protocol: unknown field "spec.servers[0].protocol"',
      'ch5/catalog-gateway.yaml: document 1 (Gateway catalog-gateway): spec.servers[0].port: required field is missing',
      'ch5/catalog-gateway.yaml: document 1 (Gateway catalog-gateway): spec.servers[0].hosts: required field is missing',
      'ch5/catalog-gateway.yaml: document 1 (Gateway catalog-gateway): spec.hosts: unknown field "spec.hosts"',
    ]);
  });
});

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const MANIFEST_DIRS = ['ch5', 'services/catalog/kubernetes', 'services/webapp/kubernetes', 'services/webapp/istio', 'services/forum/kubernetes'];

describe.skipIf(!existsSync(join(REPO, 'ch5')))('the repo\'s manifest files (ch5/, services/*/kubernetes, services/webapp/istio)', () => {
  test('all parse and validate without errors or warnings', () => {
    const parsed = loadManifestPaths(MANIFEST_DIRS.map((d) => join(REPO, d)).filter(existsSync));
    expect(parsed.errors.map(String)).toEqual([]);
    expect(parsed.documents.length).toBeGreaterThanOrEqual(20);
    // Each file is one apply (several files define the same object: the book's alternatives).
    for (const file of new Set(parsed.documents.map((d) => d.source.file))) {
      const r = validateDocuments(parsed.documents.filter((d) => d.source.file === file), { defaultNamespace: 'istioinaction' });
      expect(r.errors.map(String)).toEqual([]);
      expect(r.warnings.map(String)).toEqual([]);
    }
  });
});

describe('other valid manifests, one of every kind and version', () => {
  const good: Array<[string, string]> = [
    ['Namespace', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: istioinaction\n  labels:\n    istio-injection: enabled\n'],
    ['ConfigMap', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a.txt: hello\n  KEY: value\n'],
    ['ServiceAccount', 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\nautomountServiceAccountToken: false\n'],
    [
      'VirtualService v1 with every HTTP feature the lab routes on',
      vs(
        `
        hosts: [catalog, "catalog.istioinaction.io"]
        gateways: [mesh, istioinaction/catalog-gateway]
        http:
        - name: internal
          match:
          - uri: {prefix: /items}
            method: {exact: GET}
            headers:
              x-istio-cohort: {exact: internal}
              x-present: {}
            queryParams:
              q: {regex: "[a-z]+"}
            withoutHeaders:
              x-skip: {prefix: "y"}
            ignoreUriCase: true
            sourceLabels: {app: webapp}
            port: 80
          route:
          - destination: {host: catalog, subset: version-v2, port: {number: 80}}
            weight: 1
            headers:
              request: {set: {x-a: b}, remove: [x-c]}
          - destination: {host: catalog, subset: version-v1}
            weight: 3
          timeout: 1.5s
          retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "5xx,connect-failure"}
          mirror: {host: catalog, subset: version-v2}
          mirrorPercentage: {value: 12.5}
          fault:
            delay: {fixedDelay: 2s, percentage: {value: 10}}
            abort: {httpStatus: 503, percentage: {value: 1.5}}
        - route:
          - destination: {host: catalog}
            weight: 0
        `,
        'catalog',
        'networking.istio.io/v1',
      ),
    ],
    ['VirtualService v1beta1 with tcp and tls routes', vs(`
      hosts: [db]
      tcp:
      - match: [{port: 5432, destinationSubnets: [10.0.0.0/8]}]
        route: [{destination: {host: db}}]
      tls:
      - match: [{sniHosts: [db.example.com], port: 443}]
        route: [{destination: {host: db, port: {number: 443}}}]
      `, 'db', 'networking.istio.io/v1beta1')],
    ['VirtualService with a redirect, a direct response and a rewrite', vs(`
      hosts: [catalog]
      http:
      - match: [{uri: {exact: /old}}]
        redirect: {uri: /new, redirectCode: 301}
      - match: [{uri: {exact: /gone}}]
        directResponse: {status: 410, body: {string: gone}}
      - rewrite: {uriRegexRewrite: {match: "^/v1/(.*)$", rewrite: /\\1}}
        route: [{destination: {host: catalog}}]
      `)],
    [
      'DestinationRule with traffic policies',
      doc('DestinationRule', 'networking.istio.io/v1', 'catalog', `
        host: catalog
        trafficPolicy:
          loadBalancer: {simple: ROUND_ROBIN}
          connectionPool: {tcp: {maxConnections: 10, connectTimeout: 30ms}, http: {http1MaxPendingRequests: 1}}
          outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 3m, maxEjectionPercent: 100}
          tls: {mode: ISTIO_MUTUAL}
          portLevelSettings:
          - port: {number: 80}
            loadBalancer: {consistentHash: {httpHeaderName: x-user, ringHash: {minimumRingSize: 1024}}}
        subsets:
        - name: version-v1
          labels: {version: v1}
          trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
        `),
    ],
    ['Gateway HTTPS with TLS settings', doc('Gateway', 'networking.istio.io/v1beta1', 'gw', `
      selector: {istio: ingressgateway}
      servers:
      - port: {number: 443, name: https, protocol: HTTPS}
        hosts: ["istioinaction/*.istioinaction.io", "*"]
        tls: {mode: SIMPLE, credentialName: webapp-credential}
      - port: {number: 80, name: http, protocol: http}
        hosts: ["*"]
        tls: {httpsRedirect: true}
      `)],
    ['ServiceEntry STATIC with endpoints', doc('ServiceEntry', 'networking.istio.io/v1', 'static', `
      hosts: [api.example.com]
      addresses: [192.168.1.0/24]
      location: MESH_EXTERNAL
      ports: [{number: 8080, name: http, protocol: HTTP, targetPort: 80}]
      resolution: STATIC
      endpoints: [{address: 192.168.1.10, ports: {http: 80}}, {address: "2001:db8::1"}]
      `)],
    ['Sidecar with REGISTRY_ONLY', doc('Sidecar', 'networking.istio.io/v1alpha3', 'default', `
      outboundTrafficPolicy: {mode: REGISTRY_ONLY}
      egress: [{hosts: ["./*", "istio-system/*"]}]
      `)],
    ['MetricTemplate', doc('MetricTemplate', 'flagger.app/v1beta1', 'not-found-percentage', `
      provider: {type: prometheus, address: "http://prometheus.istio-system:9090"}
      query: sum(rate(istio_requests_total{response_code="404"}[{{ interval }}]))
      `)],
    ['Canary with stepWeights', doc('Canary', 'flagger.app/v1beta1', 'c', `
      targetRef: {apiVersion: apps/v1, kind: Deployment, name: catalog}
      service: {port: 80, targetPort: http}
      analysis:
        interval: 1m30s
        threshold: 2
        stepWeights: [1, 5, 25, 50]
        metrics:
        - name: custom
          templateRef: {name: not-found-percentage}
          thresholdRange: {max: 5}
      `)],
  ];
  test.each(good)('%s', (_name, text) => {
    const r = check(text, 'good.yaml');
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
  });
});

/** [case, manifest, exact error lines] */
const BAD: Array<[string, string, string[]]> = [
  [
    'misspelt field (hots)',
    vs('hots: [catalog]\nhttp: [{route: [{destination: {host: catalog}}]}]\n'),
    [
      'bad.yaml: document 1 (VirtualService catalog-vs): spec.hots: unknown field "spec.hots" (did you mean "hosts"?)',
    ],
  ],
  [
    'missing destination host',
    vs('hosts: [catalog]\nhttp:\n- route:\n  - destination:\n      subset: v1\n'),
    ['bad.yaml: document 1 (VirtualService catalog-vs): spec.http[0].route[0].destination.host: required field is missing'],
  ],
  [
    'negative weight',
    vs('hosts: [catalog]\nhttp:\n- route:\n  - destination: {host: catalog}\n    weight: -10\n  - destination: {host: catalog}\n    weight: 110\n'),
    ['bad.yaml: document 1 (VirtualService catalog-vs): spec.http[0].route[0].weight: weight -10 < 0'],
  ],
  [
    'weight as a string',
    vs('hosts: [catalog]\nhttp:\n- route:\n  - destination: {host: catalog}\n    weight: "90"\n'),
    ['bad.yaml: document 1 (VirtualService catalog-vs): spec.http[0].route[0].weight: expected integer, got string "90"'],
  ],
  [
    'fractional weight',
    vs('hosts: [catalog]\nhttp:\n- route:\n  - destination: {host: catalog}\n    weight: 12.5\n'),
    ['bad.yaml: document 1 (VirtualService catalog-vs): spec.http[0].route[0].weight: expected integer, got number 12.5'],
  ],
  [
    'weights summing to 0 with two destinations',
    vs('hosts: [catalog]\nhttp:\n- route:\n  - destination: {host: catalog, subset: a}\n    weight: 0\n  - destination: {host: catalog, subset: b}\n'),
    [
      'bad.yaml: document 1 (VirtualService catalog-vs): spec.http[0].route: total destination weight = 0 (weights are relative: with two or more destinations at least one must be positive)',
    ],
  ],
  [
    'regex with a lookahead',
    vs('hosts: [catalog]\nhttp:\n- match: [{uri: {regex: "/items(?!/secret)"}}]\n  route: [{destination: {host: catalog}}]\n'),
    [
      'bad.yaml: document 1 (VirtualService catalog-vs): spec.http[0].match[0].uri.regex: invalid regex "/items(?!/secret)": error parsing regexp: invalid or unsupported Perl syntax: `(?!`',
    ],
  ],
  [
    'regex with a backreference in a header match',
    vs('hosts: [catalog]\nhttp:\n- match: [{headers: {x-a: {regex: "(a)\\\\1"}}}]\n  route: [{destination: {host: catalog}}]\n'),
    ['bad.yaml: document 1 (VirtualService catalog-vs): spec.http[0].match[0].headers[x-a].regex: invalid regex "(a)\\\\1": error parsing regexp: invalid escape sequence: `\\1`'],
  ],
  [
    'two kinds of string match at once',
    vs('hosts: [catalog]\nhttp:\n- match: [{uri: {exact: /a, prefix: /b}}]\n  route: [{destination: {host: catalog}}]\n'),
    ['bad.yaml: document 1 (VirtualService catalog-vs): spec.http[0].match[0].uri: only one of exact, prefix, regex may be set (got exact and prefix)'],
  ],
  [
    'hosts is not a list',
    vs('hosts: catalog\nhttp: [{route: [{destination: {host: catalog}}]}]\n'),
    [
      'bad.yaml: document 1 (VirtualService catalog-vs): spec.hosts: expected array, got string "catalog"',
    ],
  ],
  [
    'mirrorPercentage above 100',
    vs('hosts: [catalog]\nhttp:\n- route: [{destination: {host: catalog}}]\n  mirror: {host: catalog, subset: v2}\n  mirrorPercentage: {value: 150}\n'),
    ['bad.yaml: document 1 (VirtualService catalog-vs): spec.http[0].mirrorPercentage.value: percentage 150 is not in range 0..100'],
  ],
  [
    'an HTTP route with nothing to do',
    vs('hosts: [catalog]\nhttp:\n- match: [{uri: {prefix: /}}]\n'),
    ['bad.yaml: document 1 (VirtualService catalog-vs): spec.http[0].route: route, redirect, directResponse or delegate is required'],
  ],
  [
    'a VirtualService with no routes',
    vs('hosts: [catalog]\n'),
    ['bad.yaml: document 1 (VirtualService catalog-vs): spec: http, tcp or tls must be provided in virtual service'],
  ],
  [
    'a bad timeout',
    vs('hosts: [catalog]\nhttp:\n- route: [{destination: {host: catalog}}]\n  timeout: 10\n- route: [{destination: {host: catalog}}]\n  timeout: 2 seconds\n'),
    [
      'bad.yaml: document 1 (VirtualService catalog-vs): spec.http[0].timeout: expected string, got integer 10',
      'bad.yaml: document 1 (VirtualService catalog-vs): spec.http[1].timeout: invalid duration "2 seconds" (use Go syntax: 300ms, 1.5s, 2m)',
    ],
  ],
  [
    'wildcard host on the mesh gateway',
    vs('hosts: ["*"]\nhttp: [{route: [{destination: {host: catalog}}]}]\n'),
    ['bad.yaml: document 1 (VirtualService catalog-vs): spec.hosts[0]: wildcard host * is not allowed for virtual services bound to the mesh gateway'],
  ],
  [
    'invalid subset name',
    vs('hosts: [catalog]\nhttp: [{route: [{destination: {host: catalog, subset: Version_1}}]}]\n'),
    [
      "bad.yaml: document 1 (VirtualService catalog-vs): spec.http[0].route[0].destination.subset: subset name \"Version_1\" is invalid: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (at most 63 characters)",
    ],
  ],
  [
    'Gateway with an unknown protocol and a port out of range',
    doc('Gateway', 'networking.istio.io/v1alpha3', 'gw', 'servers:\n- port: {number: 70000, name: http, protocol: HTTPX}\n  hosts: ["*"]\n'),
    [
      'bad.yaml: document 1 (Gateway gw): spec.servers[0].port.number: port number 70000 must be in the range 1..65535',
      'bad.yaml: document 1 (Gateway gw): spec.servers[0].port.protocol: unsupported protocol "HTTPX" (supported: HTTP, HTTPS, GRPC, GRPC-Web, HTTP2, HTTP_PROXY, TCP, TLS, UDP, Mongo, Redis, MySQL; case-insensitive)',
    ],
  ],
  [
    'Gateway server without a port name, HTTPS without tls',
    doc('Gateway', 'networking.istio.io/v1', 'gw', 'servers:\n- port: {number: 443, protocol: HTTPS}\n  hosts: [a.example.com]\n'),
    [
      'bad.yaml: document 1 (Gateway gw): spec.servers[0].port.name: required field is missing',
      'bad.yaml: document 1 (Gateway gw): spec.servers[0].tls: server must have TLS settings for HTTPS servers',
    ],
  ],
  [
    'Gateway without servers',
    doc('Gateway', 'networking.istio.io/v1', 'gw', 'selector: {istio: ingressgateway}\n'),
    ['bad.yaml: document 1 (Gateway gw): spec.servers: required field is missing (a gateway must have at least one server)'],
  ],
  [
    'DestinationRule without host, with duplicate subsets and a bad load balancer',
    doc('DestinationRule', 'networking.istio.io/v1alpha3', 'dr', `
      trafficPolicy: {loadBalancer: {simple: FASTEST}}
      subsets:
      - name: v1
        labels: {version: v1}
      - name: v1
        labels: {version: v2}
      - labels: {version: v3}
      `),
    [
      'bad.yaml: document 1 (DestinationRule dr): spec.trafficPolicy.loadBalancer.simple: unsupported value "FASTEST" (supported values: "UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST")',
      'bad.yaml: document 1 (DestinationRule dr): spec.subsets[2].name: required field is missing',
      'bad.yaml: document 1 (DestinationRule dr): spec.subsets[1].name: duplicate subset name "v1"',
      'bad.yaml: document 1 (DestinationRule dr): spec.host: required field is missing',
    ],
  ],
  [
    'ServiceEntry without hosts, with a bad resolution and location',
    doc('ServiceEntry', 'networking.istio.io/v1alpha3', 'se', 'ports: [{number: 80, name: http, protocol: HTTP}]\nresolution: dns\nlocation: EXTERNAL\n'),
    [
      'bad.yaml: document 1 (ServiceEntry se): spec.resolution: unsupported value "dns" (supported values: "NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS")',
      'bad.yaml: document 1 (ServiceEntry se): spec.location: unsupported value "EXTERNAL" (supported values: "MESH_EXTERNAL", "MESH_INTERNAL")',
      'bad.yaml: document 1 (ServiceEntry se): spec.hosts: required field is missing',
    ],
  ],
  [
    'ServiceEntry: duplicate port numbers, a wildcard with DNS and no endpoints',
    doc('ServiceEntry', 'networking.istio.io/v1', 'se', 'hosts: ["*.example.com"]\nports: [{number: 80, name: http}, {number: 80, name: http2}]\nresolution: DNS\n'),
    [
      'bad.yaml: document 1 (ServiceEntry se): spec.ports[1].number: port number cannot be duplicated',
      'bad.yaml: document 1 (ServiceEntry se): spec.hosts[0]: wildcard host "*.example.com" cannot be resolved by DNS: give endpoints or use resolution NONE',
    ],
  ],
  [
    'Deployment whose selector does not match its template',
    `apiVersion: apps/v1
kind: Deployment
metadata:
  name: catalog
spec:
  replicas: -1
  selector:
    matchLabels: {app: catalog, version: v1}
  template:
    metadata:
      labels: {app: catalog, version: v2}
    spec:
      containers:
      - name: catalog
        ports: [{containerPort: 3000, name: http}]
        env:
        - name: SHOW_IMAGE
          value: true
`,
    [
      'bad.yaml: document 1 (Deployment catalog): spec.replicas: must be greater than or equal to 0, got -1',
      'bad.yaml: document 1 (Deployment catalog): spec.template.spec.containers[0].env[0].value: expected string, got boolean true',
      'bad.yaml: document 1 (Deployment catalog): spec.template.spec.containers[0].image: required field is missing',
      'bad.yaml: document 1 (Deployment catalog): spec.template.metadata.labels: `selector` does not match template `labels`',
    ],
  ],
  [
    'Deployment without a selector, with an unknown container field',
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: istioinaction/webapp:latest\n        port: 8080\n',
    [
      'bad.yaml: document 1 (Deployment web): spec.template.spec.containers[0].port: unknown field "spec.template.spec.containers[0].port" (did you mean "ports"?)',
      'bad.yaml: document 1 (Deployment web): spec.selector: required field is missing',
    ],
  ],
  [
    'Service without port, with a numeric string targetPort',
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: catalog\nspec:\n  selector: {app: catalog}\n  ports:\n  - name: http\n    targetPort: "3000"\n',
    [
      "bad.yaml: document 1 (Service catalog): spec.ports[0].targetPort: invalid port name \"3000\": must be no more than 15 lower-case alphanumeric characters or '-', contain at least one letter, and not start or end with '-'",
      'bad.yaml: document 1 (Service catalog): spec.ports[0].port: required field is missing',
    ],
  ],
  [
    'Service named with a leading digit',
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: 1catalog\nspec:\n  selector: {app: catalog}\n  ports: [{port: 80}]\n',
    [
      "bad.yaml: document 1 (Service 1catalog): metadata.name: invalid value \"1catalog\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (at most 63 characters)",
    ],
  ],
  [
    'Canary with a bad interval, no step and a metric without template',
    doc('Canary', 'flagger.app/v1beta1', 'catalog-release', `
      targetRef: {apiVersion: apps/v1, kind: Deployment, name: catalog}
      service: {port: 80}
      analysis:
        interval: 45 seconds
        threshold: 5
        metrics:
        - name: error-rate
          thresholdRange: {max: 1}
      `),
    [
      'bad.yaml: document 1 (Canary catalog-release): spec.analysis.interval: invalid duration "45 seconds" (use seconds or minutes: 45s, 1m, 1m30s)',
      'bad.yaml: document 1 (Canary catalog-release): spec.analysis.metrics[0].templateRef: required field is missing (metric "error-rate" is not builtin: give a templateRef; builtin metrics are request-success-rate, request-duration)',
      'bad.yaml: document 1 (Canary catalog-release): spec.analysis: one of iterations, stepWeight, stepWeights is required',
    ],
  ],
  [
    'Canary with both stepWeight and stepWeights, a DaemonSet target and a missing service port',
    doc('Canary', 'flagger.app/v1beta1', 'c', `
      targetRef: {apiVersion: apps/v1, kind: DaemonSet, name: catalog}
      service: {targetPort: 3000}
      analysis: {interval: 1m, threshold: 1, stepWeight: 10, stepWeights: [10, 5], maxWeight: 50}
      `),
    [
      'bad.yaml: document 1 (Canary c): spec.targetRef.kind: targetRef kind "DaemonSet" is not supported by the lab\'s canary controller (only "Deployment")',
      'bad.yaml: document 1 (Canary c): spec.service.port: required field is missing',
      'bad.yaml: document 1 (Canary c): spec.analysis.stepWeights[1]: step weights must increase: 5 after 10',
      'bad.yaml: document 1 (Canary c): spec.analysis: only one of iterations, stepWeight, stepWeights may be set (got stepWeight and stepWeights)',
    ],
  ],
  [
    'Pod (the lab makes pods)',
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: dummy\nspec:\n  containers: [{name: curl, image: curlimages/curl}]\n',
    ['bad.yaml: document 1 (Pod dummy): kind: Pods are created by the lab from Deployments; applying a Pod is not supported (apply a Deployment instead)'],
  ],
  [
    'unknown kind',
    'apiVersion: networking.istio.io/v1alpha3\nkind: VirtualServce\nmetadata:\n  name: x\nspec: {}\n',
    [
      'bad.yaml: document 1 (VirtualServce x): kind: no matches for kind "VirtualServce" in version "networking.istio.io/v1alpha3" (did you mean "VirtualService"?); supported kinds: Namespace (v1), ServiceAccount (v1), Service (v1), Pod (v1), ConfigMap (v1), Deployment (apps/v1), Gateway (networking.istio.io/v1, networking.istio.io/v1beta1, networking.istio.io/v1alpha3), VirtualService (networking.istio.io/v1, networking.istio.io/v1beta1, networking.istio.io/v1alpha3), DestinationRule (networking.istio.io/v1, networking.istio.io/v1beta1, networking.istio.io/v1alpha3), ServiceEntry (networking.istio.io/v1, networking.istio.io/v1beta1, networking.istio.io/v1alpha3), Sidecar (networking.istio.io/v1, networking.istio.io/v1beta1, networking.istio.io/v1alpha3), Canary (flagger.app/v1beta1), MetricTemplate (flagger.app/v1beta1)',
    ],
  ],
  [
    'unknown apiVersion',
    'apiVersion: networking.istio.io/v2\nkind: VirtualService\nmetadata:\n  name: x\nspec: {}\n',
    [
      'bad.yaml: document 1 (VirtualService x): apiVersion: no matches for kind "VirtualService" in version "networking.istio.io/v2": VirtualService is served as networking.istio.io/v1, networking.istio.io/v1beta1, networking.istio.io/v1alpha3',
    ],
  ],
  [
    'missing apiVersion and kind',
    'metadata:\n  name: x\n',
    ['bad.yaml: document 1 (x): apiVersion: required field is missing', 'bad.yaml: document 1 (x): kind: required field is missing'],
  ],
  [
    'missing name, unknown top-level field',
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\ndata: {k: v}\nspec: {}\n',
    [
      'bad.yaml: document 1 (ConfigMap): spec: unknown field "spec"',
      'bad.yaml: document 1 (ConfigMap): metadata.name: required field is missing',
    ],
  ],
  [
    'bad label value and key',
    'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n  labels:\n    "-bad": ok\n    version: "v 1"\n',
    [
      "bad.yaml: document 1 (ServiceAccount sa): metadata.labels[-bad]: invalid key \"-bad\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63 characters)",
      "bad.yaml: document 1 (ServiceAccount sa): metadata.labels[version]: invalid label value \"v 1\": must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63 characters)",
    ],
  ],
  [
    'Sidecar egress host without a namespace',
    doc('Sidecar', 'networking.istio.io/v1', 'default', 'egress: [{hosts: ["*.example.com"]}]\noutboundTrafficPolicy: {mode: BLOCK}\n'),
    [
      'bad.yaml: document 1 (Sidecar default): spec.egress[0].hosts[0]: host "*.example.com" must be of the form namespace/dnsName',
      'bad.yaml: document 1 (Sidecar default): spec.outboundTrafficPolicy.mode: unsupported value "BLOCK" (supported values: "REGISTRY_ONLY", "ALLOW_ANY")',
    ],
  ],
];

describe('invalid manifests give exact errors', () => {
  test.each(BAD)('%s', (_name, text, expected) => {
    const r = check(text);
    expect(r.errors).toEqual(expected);
  });
});

describe('warnings (accepted by Istio, probably a mistake)', () => {
  test.each([
    [
      'a subset without labels',
      doc('DestinationRule', 'networking.istio.io/v1', 'dr', 'host: catalog\nsubsets: [{name: all}]\n'),
      ['bad.yaml: document 1 (DestinationRule dr): Warning spec.subsets[0].labels: subset has no labels: it selects every endpoint of the host'],
    ],
    [
      'an empty uri match',
      vs('hosts: [catalog]\nhttp: [{match: [{uri: {}}], route: [{destination: {host: catalog}}]}]\n'),
      ['bad.yaml: document 1 (VirtualService catalog-vs): Warning spec.http[0].match[0].uri: empty string match (none of exact, prefix, regex) matches everything'],
    ],
    [
      'a Canary interval below 10s',
      doc('Canary', 'flagger.app/v1beta1', 'c', `
        targetRef: {apiVersion: apps/v1, kind: Deployment, name: catalog}
        service: {port: 80}
        analysis: {interval: 5s, threshold: 1, iterations: 3}
        `),
      ["bad.yaml: document 1 (Canary c): Warning spec.analysis.interval: interval 5s is below Flagger's minimum: 10s is used"],
    ],
    [
      'a Service without selector',
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: ext\nspec:\n  ports: [{port: 80}]\n',
      ['bad.yaml: document 1 (Service ext): Warning spec.selector: no selector: the Service gets no endpoints from pods'],
    ],
  ])('%s', (_name, text, expected) => {
    const r = check(text);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual(expected);
  });
});

describe('normalization', () => {
  test('fills the namespace, prunes nulls, drops status; Namespace objects lose theirs', () => {
    const text = dedent(`
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata:
        name: catalog
        creationTimestamp: null
      spec:
        host: catalog
        exportTo:
        trafficPolicy:
      status:
        conditions: []
      ---
      apiVersion: v1
      kind: Namespace
      metadata:
        name: istioinaction
        namespace: ignored
      `);
    const r = check(text, 'n.yaml', 'default');
    expect(r.errors).toEqual([]);
    expect(r.objects).toEqual([
      { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'catalog', namespace: 'default' }, spec: { host: 'catalog' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istioinaction' } },
    ]);
  });

  test('keeps an explicit namespace; with enforceNamespace a different one is an error', () => {
    const parsed = parseManifests(BOOK['ch5/flagger/catalog-release.yaml']!.replace('namespace: istioinaction', 'namespace: other'), 'c.yaml');
    const d = parsed.documents[0]!;
    expect(validateObject(d.object, d.source, { defaultNamespace: 'istioinaction' }).object.metadata.namespace).toBe('other');
    expect(validateObject(d.object, d.source, { defaultNamespace: 'istioinaction', enforceNamespace: true }).errors.map(String)).toEqual([
      'c.yaml: document 1 (Canary catalog-release): metadata.namespace: the namespace from the provided object "other" does not match the namespace "istioinaction". You must pass \'--namespace=other\' to perform this operation.',
    ]);
  });

  test('does not modify its input', () => {
    const input = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa' }, secrets: null } as unknown as KubeObject;
    const before = JSON.stringify(input);
    const r = validateObject(input, { file: 'x', index: 0 }, { defaultNamespace: 'ns' });
    expect(JSON.stringify(input)).toBe(before);
    expect(r.object).toEqual({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa', namespace: 'ns' } });
  });
});

describe('error objects', () => {
  test('carry file, document, kind/name, path, line and column', () => {
    const text = `${BOOK['ch5/catalog-dest-rule.yaml']}---\n${vs('hosts: [catalog]\nhttp:\n- route:\n  - destination:\n      subset: v1\n')}`;
    const parsed = parseManifests(text, 'ch5/bad.yaml');
    const d = parsed.documents[1]!;
    const [e] = validateObject(d.object, d.source, { defaultNamespace: 'istioinaction' }).errors;
    expect(e).toMatchObject({
      file: 'ch5/bad.yaml',
      index: 1,
      kind: 'VirtualService',
      name: 'catalog-vs',
      path: 'spec.http[0].route[0].destination.host',
      message: 'required field is missing',
      code: 'LAB_ERR_INVALID_MANIFEST',
      line: 23,
      column: 7,
    });
    expect(String(e)).toBe('ch5/bad.yaml: document 2 (VirtualService catalog-vs): spec.http[0].route[0].destination.host: required field is missing');
  });

  test('an unknown field is located at its key', () => {
    const parsed = parseManifests(vs('hosts: [a]\nhttp:\n- route: [{destination: {host: a}}]\n  timout: 1s\n'), 'x.yaml');
    const d = parsed.documents[0]!;
    const [e] = validateObject(d.object, d.source, { defaultNamespace: 'ns' }).errors;
    expect(e).toMatchObject({ path: 'spec.http[0].timout', line: 9, column: 5 });
  });

  test('objects from a List name their item', () => {
    const text = dedent(`
      apiVersion: v1
      kind: List
      items:
      - apiVersion: v1
        kind: ServiceAccount
        metadata: {name: ok}
      - apiVersion: v1
        kind: ServiceAccount
        metadata: {name: bad, labels: {a: "b c"}}
      `);
    const r = check(text, 'list.yaml');
    expect(r.errors).toEqual([
      "list.yaml: document 1, item 2 (ServiceAccount bad): metadata.labels[a]: invalid label value \"b c\": must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63 characters)",
    ]);
  });

  test('validateDocuments keeps the valid objects and collects every problem', () => {
    const parsed = parseManifests(`${BOOK['ch5/catalog-gateway.yaml']}---\n${vs('hots: [a]\nhttp: [{route: [{destination: {host: a}}]}]\n')}`, 'two.yaml');
    const r = validateDocuments(parsed.documents, { defaultNamespace: 'istioinaction' });
    expect(r.objects.map((o) => o.object.metadata.name)).toEqual(['catalog-gateway']);
    expect(r.errors.map(String)).toEqual(['two.yaml: document 2 (VirtualService catalog-vs): spec.hots: unknown field "spec.hots" (did you mean "hosts"?)']);
  });
});
