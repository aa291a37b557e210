/**
 * Good and bad Istio networking manifests for conformance tests: [case, manifest, valid?, beyond?].
 * `beyond` marks a rule the CRD's structural schema cannot express: one of its CEL rules (`cel`)
 * or a check of Istio's validating webhook (`webhook`).
 */
import { BOOK, SEED_MISINDENTED_GATEWAY } from './book-manifests.js';
import { doc, vs } from './helpers.js';

export type Beyond = 'cel' | 'webhook';
/** [case, manifest, valid?, beyond the structural schema?] */
export type Entry = [string, string, boolean, Beyond?];

const G = (spec: string) => doc('Gateway', 'networking.istio.io/v1alpha3', 'gw', spec);
const DR = (spec: string, v = 'v1alpha3') => doc('DestinationRule', `networking.istio.io/${v}`, 'dr', spec);
const SE = (spec: string, v = 'v1beta1') => doc('ServiceEntry', `networking.istio.io/${v}`, 'se', spec);
const SC = (spec: string) => doc('Sidecar', 'networking.istio.io/v1', 'default', spec);
const ROUTE = 'http: [{route: [{destination: {host: catalog}}]}]\n';

export const CORPUS: Entry[] = [
  // ---- the book
  ...Object.entries(BOOK)
    .filter(([, text]) => text.includes('networking.istio.io'))
    .map(([file, text]): Entry => [`book ${file}`, text, true]),
  ['seed: mis-indented Gateway', SEED_MISINDENTED_GATEWAY, false],

  // ---- VirtualService
  ['VS v1 with matches, weights, retries, fault, mirror', vs(`
    hosts: [catalog]
    http:
    - match: [{uri: {prefix: /items}, headers: {x-istio-cohort: {exact: internal}, x-any: {}}, queryParams: {a: {regex: "b+"}}}]
      route:
      - {destination: {host: catalog, subset: version-v2}, weight: 10}
      - {destination: {host: catalog, subset: version-v1, port: {number: 80}}, weight: 90}
      retries: {attempts: 2, perTryTimeout: 100ms}
      fault: {abort: {httpStatus: 500, percentage: {value: 50}}}
      mirror: {host: catalog, subset: version-v2}
      mirrorPercentage: {value: 25.5}
      timeout: 2s
    `, 'catalog', 'networking.istio.io/v1'), true],
  ['VS v1beta1 tcp + tls', vs(`
    hosts: [db]
    tcp: [{match: [{port: 5432}], route: [{destination: {host: db}}]}]
    tls: [{match: [{sniHosts: [db.example.com]}], route: [{destination: {host: db}}]}]
    `, 'db', 'networking.istio.io/v1beta1'), true],
  ['VS redirect and directResponse', vs(`
    hosts: [catalog]
    http:
    - {match: [{uri: {exact: /a}}], redirect: {uri: /b, redirectCode: 302}}
    - {directResponse: {status: 503, body: {string: down}}}
    `), true],
  ['VS misspelt hots', vs(`hots: [catalog]\n${ROUTE}`), false],
  ['VS unknown nested field', vs('hosts: [catalog]\nhttp: [{route: [{destination: {hots: catalog}}]}]\n'), false],
  ['VS missing destination host', vs('hosts: [catalog]\nhttp: [{route: [{destination: {subset: v1}}]}]\n'), false],
  ['VS route entry without destination', vs('hosts: [catalog]\nhttp: [{route: [{weight: 100}]}]\n'), false],
  ['VS hosts as a string', vs(`hosts: catalog\n${ROUTE}`), false],
  ['VS weight as a string', vs('hosts: [catalog]\nhttp: [{route: [{destination: {host: catalog}, weight: "100"}]}]\n'), false],
  ['VS fractional weight', vs('hosts: [catalog]\nhttp: [{route: [{destination: {host: catalog}, weight: 0.5}]}]\n'), false],
  ['VS exact and prefix at once', vs('hosts: [catalog]\nhttp: [{match: [{uri: {exact: /a, prefix: /}}], route: [{destination: {host: catalog}}]}]\n'), false],
  ['VS header match as a plain string', vs('hosts: [catalog]\nhttp: [{match: [{headers: {x-istio-cohort: internal}}], route: [{destination: {host: catalog}}]}]\n'), false],
  ['VS mirror without host', vs('hosts: [catalog]\nhttp: [{route: [{destination: {host: catalog}}], mirror: {subset: v2}}]\n'), false],
  ['VS tls match without sniHosts', vs('hosts: [db]\ntls: [{match: [{port: 443}], route: [{destination: {host: db}}]}]\n'), false],
  ['VS redirect with port and derivePort', vs('hosts: [catalog]\nhttp: [{redirect: {port: 8080, derivePort: FROM_REQUEST_PORT}}]\n'), false],
  ['VS bad unmatchedPreflights', vs('hosts: [catalog]\nhttp: [{route: [{destination: {host: catalog}}], corsPolicy: {unmatchedPreflights: DROP}}]\n'), false],
  ['VS abort with two statuses', vs('hosts: [catalog]\nhttp: [{route: [{destination: {host: catalog}}], fault: {abort: {httpStatus: 500, grpcStatus: UNAVAILABLE}}}]\n'), false],
  ['VS directResponse without status', vs('hosts: [catalog]\nhttp: [{directResponse: {body: {string: x}}}]\n'), false],
  ['VS timeout as a number', vs('hosts: [catalog]\nhttp: [{route: [{destination: {host: catalog}}], timeout: 0.5}]\n'), false],
  ['VS retries attempts as a string', vs('hosts: [catalog]\nhttp: [{route: [{destination: {host: catalog}}], retries: {attempts: "3"}}]\n'), false],
  ['VS negative destination port', vs('hosts: [catalog]\nhttp: [{route: [{destination: {host: catalog, port: {number: -1}}}]}]\n'), false],
  ['VS timeout not a duration', vs('hosts: [catalog]\nhttp: [{route: [{destination: {host: catalog}}], timeout: 2 seconds}]\n'), false, 'cel'],
  ['VS timeout below 1ms', vs('hosts: [catalog]\nhttp: [{route: [{destination: {host: catalog}}], timeout: 0s}]\n'), false, 'cel'],
  ['VS negative weight', vs('hosts: [catalog]\nhttp: [{route: [{destination: {host: catalog}, weight: -1}, {destination: {host: catalog}, weight: 101}]}]\n'), false, 'webhook'],
  ['VS weights summing to 0', vs('hosts: [catalog]\nhttp: [{route: [{destination: {host: catalog, subset: a}}, {destination: {host: catalog, subset: b}}]}]\n'), false, 'webhook'],
  ['VS regex with lookahead', vs('hosts: [catalog]\nhttp: [{match: [{uri: {regex: "/(?=a)"}}], route: [{destination: {host: catalog}}]}]\n'), false, 'webhook'],
  ['VS without routes', vs('hosts: [catalog]\n'), false, 'webhook'],
  ['VS http route with nothing to do', vs('hosts: [catalog]\nhttp: [{match: [{uri: {prefix: /}}]}]\n'), false, 'webhook'],
  ['VS mirrorPercentage above 100', vs('hosts: [catalog]\nhttp: [{route: [{destination: {host: catalog}}], mirror: {host: catalog}, mirrorPercentage: {value: 101}}]\n'), false, 'webhook'],
  ['VS wildcard host on mesh', vs(`hosts: ["*"]\n${ROUTE}`), false, 'webhook'],
  ['VS invalid subset name', vs('hosts: [catalog]\nhttp: [{route: [{destination: {host: catalog, subset: V_1}}]}]\n'), false, 'webhook'],
  ['VS invalid gateway reference', vs(`hosts: [catalog]\ngateways: [a/b/c]\n${ROUTE}`), false, 'webhook'],
  ['VS destination port 70000', vs('hosts: [catalog]\nhttp: [{route: [{destination: {host: catalog, port: {number: 70000}}}]}]\n'), false, 'webhook'],

  // ---- Gateway
  ['GW HTTPS with credential', G('servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"], tls: {mode: SIMPLE, credentialName: cert}}]\n'), true],
  ['GW server without port', G('servers: [{hosts: ["*"]}]\n'), false],
  ['GW server without hosts', G('servers: [{port: {number: 80, name: http, protocol: HTTP}}]\n'), false],
  ['GW port without protocol', G('servers: [{port: {number: 80, name: http}, hosts: ["*"]}]\n'), false],
  ['GW bad tls mode', G('servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"], tls: {mode: STRICT}}]\n'), false],
  ['GW three credentialNames', G('servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"], tls: {mode: SIMPLE, credentialNames: [a, b, c]}}]\n'), false],
  ['GW port number as a string', G('servers: [{port: {number: "80", name: http, protocol: HTTP}, hosts: ["*"]}]\n'), false],
  ['GW credentialName and credentialNames', G('servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"], tls: {mode: SIMPLE, credentialName: a, credentialNames: [b]}}]\n'), false, 'cel'],
  ['GW unknown protocol', G('servers: [{port: {number: 80, name: http, protocol: HTTPX}, hosts: ["*"]}]\n'), false, 'webhook'],
  ['GW port 0', G('servers: [{port: {number: 0, name: http, protocol: HTTP}, hosts: ["*"]}]\n'), false, 'webhook'],
  ['GW no servers', G('selector: {istio: ingressgateway}\n'), false, 'webhook'],
  ['GW HTTPS without tls', G('servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"]}]\n'), false, 'webhook'],
  ['GW invalid host', G('servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["bad_host!"]}]\n'), false, 'webhook'],

  // ---- DestinationRule
  ['DR with policies', DR(`
    host: catalog
    trafficPolicy:
      loadBalancer: {consistentHash: {httpCookie: {name: user, ttl: 0s}, maglev: {tableSize: 65537}}}
      outlierDetection: {consecutive5xxErrors: 5, interval: 10s}
      tunnel: {targetHost: proxy, targetPort: 3128}
    subsets: [{name: v1, labels: {version: v1}, trafficPolicy: {tls: {mode: DISABLE}}}]
    `, 'v1'), true],
  ['DR without host', DR('subsets: [{name: v1, labels: {version: v1}}]\n'), false],
  ['DR subset without name', DR('host: catalog\nsubsets: [{labels: {version: v1}}]\n'), false],
  ['DR bad load balancer', DR('host: catalog\ntrafficPolicy: {loadBalancer: {simple: FASTEST}}\n'), false],
  ['DR simple and consistentHash', DR('host: catalog\ntrafficPolicy: {loadBalancer: {simple: RANDOM, consistentHash: {useSourceIp: true}}}\n'), false],
  ['DR two hash keys', DR('host: catalog\ntrafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x, useSourceIp: true}}}\n'), false],
  ['DR misspelt loadbalancer', DR('host: catalog\ntrafficPolicy: {loadbalancer: {simple: RANDOM}}\n'), false],
  ['DR interval as a number', DR('host: catalog\ntrafficPolicy: {outlierDetection: {interval: 10}}\n'), false],
  ['DR bad tls mode', DR('host: catalog\ntrafficPolicy: {tls: {mode: STRICT}}\n'), false],
  ['DR tunnel without targetPort', DR('host: catalog\ntrafficPolicy: {tunnel: {targetHost: proxy}}\n'), false],
  ['DR cookie without name', DR('host: catalog\ntrafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {ttl: 10s}}}}\n'), false],
  ['DR error code out of range', DR('host: catalog\ntrafficPolicy: {outlierDetection: {outlierDetectionHttpErrorCodes: [600]}}\n'), false],
  ['DR bad baseEjectionTime', DR('host: catalog\ntrafficPolicy: {outlierDetection: {baseEjectionTime: 1 minute}}\n'), false, 'cel'],
  ['DR duplicate subsets', DR('host: catalog\nsubsets: [{name: v1, labels: {version: v1}}, {name: v1, labels: {version: v2}}]\n'), false, 'webhook'],
  ['DR invalid subset name', DR('host: catalog\nsubsets: [{name: Version_1, labels: {version: v1}}]\n'), false, 'webhook'],
  ['DR negative connection limit', DR('host: catalog\ntrafficPolicy: {connectionPool: {tcp: {maxConnections: -1}}}\n'), false, 'webhook'],

  // ---- ServiceEntry
  ['SE STATIC', SE('hosts: [api.example.com]\nports: [{number: 80, name: http, protocol: HTTP}]\nresolution: STATIC\nendpoints: [{address: 10.0.0.1}]\nlocation: MESH_EXTERNAL\n', 'v1'), true],
  ['SE without hosts', SE('ports: [{number: 80, name: http}]\nresolution: DNS\n'), false],
  ['SE empty hosts', SE('hosts: []\nresolution: DNS\n'), false],
  ['SE without spec', 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: se\n', false],
  ['SE bad resolution', SE('hosts: [a.com]\nresolution: dns\n'), false],
  ['SE bad location', SE('hosts: [a.com]\nlocation: EXTERNAL\n'), false],
  ['SE port without name', SE('hosts: [a.com]\nports: [{number: 80, protocol: HTTP}]\n'), false],
  ['SE duplicate port names', SE('hosts: [a.com]\nports: [{number: 80, name: http}, {number: 81, name: http}]\n'), false],
  ['SE hostname *', SE('hosts: ["*"]\n'), false, 'cel'],
  ['SE duplicate port numbers', SE('hosts: [a.com]\nports: [{number: 80, name: a}, {number: 80, name: b}]\n'), false, 'cel'],
  ['SE NONE with endpoints', SE('hosts: [a.com]\nresolution: NONE\nendpoints: [{address: 10.0.0.1}]\n'), false, 'cel'],
  ['SE port 0', SE('hosts: [a.com]\nports: [{number: 0, name: a}]\n'), false, 'cel'],
  ['SE endpoints and workloadSelector', SE('hosts: [a.com]\nresolution: STATIC\nendpoints: [{address: 10.0.0.1}]\nworkloadSelector: {labels: {app: a}}\n'), false, 'cel'],
  ['SE unknown protocol', SE('hosts: [a.com]\nports: [{number: 80, name: http, protocol: HTTPX}]\n'), false, 'webhook'],
  ['SE STATIC endpoint not an IP', SE('hosts: [a.com]\nresolution: STATIC\nendpoints: [{address: a.com}]\n'), false, 'webhook'],
  ['SE DNS wildcard without endpoints', SE('hosts: ["*.a.com"]\nresolution: DNS\n'), false, 'webhook'],

  // ---- Sidecar
  ['Sidecar REGISTRY_ONLY', SC('outboundTrafficPolicy: {mode: REGISTRY_ONLY}\negress: [{hosts: ["./*"]}]\n'), true],
  ['Sidecar egress without hosts', SC('egress: [{port: {number: 80}}]\n'), false],
  ['Sidecar bad mode', SC('outboundTrafficPolicy: {mode: BLOCK_ALL}\n'), false],
  ['Sidecar egress host without namespace', SC('egress: [{hosts: ["*.a.com"]}]\n'), false, 'webhook'],
];
