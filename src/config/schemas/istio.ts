/**
 * Istio networking specs (Gateway, VirtualService, DestinationRule, ServiceEntry, Sidecar): every
 * field of Istio's CRD schemas (istio/api, identical in v1alpha3, v1beta1 and v1), with the CEL rules
 * and the checks of Istio's validating webhook (pilot/pkg/config/validation) that matter here.
 */
import {
  checkDuration,
  checkGatewayReference,
  checkIstioDuration,
  checkIstioProtocol,
  checkLabelValue,
  checkNamespacedHost,
  checkPercent,
  checkPort,
  checkQualifiedKey,
  checkRegex,
  checkVirtualServiceHost,
  checkWildcardDomain,
  isCidrOrIP,
  isDns1123Label,
  isIP,
  isIstioProtocol,
  DNS1123_LABEL_MESSAGE,
} from '../rules.js';
import {
  arr,
  bool,
  fieldPath,
  indexPath,
  int,
  int32,
  isPlainObject,
  map,
  num,
  obj,
  str,
  stringMap,
  strings,
  uint32,
  type ObjectSchema,
  type Reporter,
  type Schema,
} from '../schema.js';

const duration = () => str({ check: checkIstioDuration });
const plainDuration = () => str({ check: checkDuration });
const port = () => uint32({ check: checkPort });
const percent = () => obj({ value: num({ check: checkPercent }) });
const labelSelector = () => map(str({ check: checkLabelValue }), { keyCheck: checkQualifiedKey });
const namespaces = () => arr(str({ check: checkExportTo }));

function checkExportTo(v: string, path: string, r: Reporter): void {
  if (v === '.' || v === '*' || v === '~' || isDns1123Label(v)) return;
  r.error(path, `invalid exportTo value ${JSON.stringify(v)}: use ".", "*" or a namespace name`);
}

function checkSubsetName(v: string, path: string, r: Reporter): void {
  if (!isDns1123Label(v)) r.error(path, `subset name ${JSON.stringify(v)} is invalid: ${DNS1123_LABEL_MESSAGE}`);
}

// ---- StringMatch ----------------------------------------------------------------------------

/**
 * `{exact|prefix|regex}`. At most one (the CRD's oneOf). None is `{}`: for headers and query
 * parameters it means "present"; for uri/scheme/method/authority Istio accepts it and matches
 * everything, so it gets a warning.
 */
function stringMatch(where: 'presence' | 'value'): ObjectSchema {
  return obj(
    { exact: str(), prefix: str(), regex: str({ check: checkRegex }) },
    {
      exclusive: [['exact', 'prefix', 'regex']],
      check: (v, path, r) => {
        const n = ['exact', 'prefix', 'regex'].filter((k) => v[k] !== undefined && v[k] !== null).length;
        if (n === 0 && where === 'value') r.warn(path, 'empty string match (none of exact, prefix, regex) matches everything');
      },
    },
  );
}

// ---- Destinations ---------------------------------------------------------------------------

const portSelector = () => obj({ number: port() });

function destination(): ObjectSchema {
  return obj(
    {
      host: str({
        check: (h, path, r) => {
          if (h === '*') r.error(path, 'invalid destination host *');
          else checkWildcardDomain(h, path, r);
        },
      }),
      // Istio's webhook validates a destination's port selector as a port: a missing number is port 0.
      port: obj(
        { number: port() },
        {
          check: (p, path, r) => {
            if (p['number'] === undefined || p['number'] === null) r.error(fieldPath(path, 'number'), 'required field is missing (a destination port needs a number in 1..65535)');
          },
        },
      ),
      subset: str({ check: checkSubsetName }),
    },
    { required: ['host'] },
  );
}

const headerOperations = () => obj({ add: stringMap(), remove: strings(), set: stringMap() });
const headers = () => obj({ request: headerOperations(), response: headerOperations() });

/**
 * Weights (Istio >= 1.15, istio/istio#39544): each >= 0; relative, so with two or more
 * destinations only a total of 0 is invalid.
 */
function checkWeights(routes: unknown[], path: string, r: Reporter): void {
  let total = 0;
  let allNumbers = true;
  routes.forEach((d, i) => {
    if (!isPlainObject(d)) return;
    const w = d['weight'];
    if (w === undefined || w === null) return;
    if (typeof w !== 'number' || !Number.isInteger(w)) {
      allNumbers = false;
      return;
    }
    if (w < 0) r.error(fieldPath(indexPath(path, i), 'weight'), `weight ${w} < 0`);
    total += w;
  });
  if (allNumbers && routes.length > 1 && total === 0) {
    r.error(path, 'total destination weight = 0 (weights are relative: with two or more destinations at least one must be positive)');
  }
}

const weight = () => int32();

// ---- VirtualService -------------------------------------------------------------------------

const httpMatch = () =>
  obj({
    authority: stringMatch('value'),
    gateways: arr(str({ check: checkGatewayReference })),
    headers: map(stringMatch('presence'), { keyCheck: checkHeaderName }),
    ignoreUriCase: bool(),
    method: stringMatch('value'),
    name: str(),
    port: port(),
    queryParams: map(stringMatch('presence')),
    scheme: stringMatch('value'),
    sourceLabels: labelSelector(),
    sourceNamespace: str(),
    statPrefix: str(),
    uri: stringMatch('value'),
    withoutHeaders: map(stringMatch('presence'), { keyCheck: checkHeaderName }),
  });

function checkHeaderName(name: string, path: string, r: Reporter): void {
  if (name === '') r.error(path, 'header name cannot be empty');
}

const corsPolicy = () =>
  obj({
    allowCredentials: bool(),
    allowHeaders: strings(),
    allowMethods: strings(),
    allowOrigin: strings(),
    allowOrigins: arr(stringMatch('value')),
    exposeHeaders: strings(),
    maxAge: duration(),
    unmatchedPreflights: str({ enum: ['UNSPECIFIED', 'FORWARD', 'IGNORE'] }),
  });

const fault = () =>
  obj({
    abort: obj(
      {
        grpcStatus: str(),
        http2Error: str(),
        httpStatus: int32({
          check: (n, path, r) => {
            if (n < 200 || n > 599) r.error(path, `invalid abort http status ${n} (must be in 200..599)`);
          },
        }),
        percentage: percent(),
      },
      { exclusive: [['httpStatus', 'grpcStatus', 'http2Error']] },
    ),
    delay: obj(
      {
        exponentialDelay: duration(),
        fixedDelay: duration(),
        percent: int32({ check: checkPercent }),
        percentage: percent(),
      },
      { exclusive: [['fixedDelay', 'exponentialDelay']] },
    ),
  });

const httpRouteDestination = () => obj({ destination: destination(), headers: headers(), weight: weight() }, { required: ['destination'] });

const httpRoute = () =>
  obj(
    {
      corsPolicy: corsPolicy(),
      delegate: obj({ name: str(), namespace: str() }),
      directResponse: obj(
        {
          body: obj({ bytes: str(), string: str() }, { exclusive: [['string', 'bytes']] }),
          status: uint32({
            check: (n, path, r) => {
              if (n < 200 || n > 599) r.error(path, `directResponse status ${n} must be in 200..599`);
            },
          }),
        },
        { required: ['status'] },
      ),
      fault: fault(),
      headers: headers(),
      match: arr(httpMatch()),
      mirror: destination(),
      mirror_percent: uint32({ check: checkPercent }),
      mirrorPercent: uint32({ check: checkPercent }),
      mirrorPercentage: percent(),
      mirrors: arr(obj({ destination: destination(), percentage: percent() }, { required: ['destination'] })),
      name: str(),
      redirect: obj(
        {
          authority: str(),
          derivePort: str({ enum: ['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'] }),
          port: port(),
          prefixRewrite: str(),
          redirectCode: uint32({
            check: (n, path, r) => {
              if (n !== 0 && (n < 300 || n > 399)) r.error(path, `${n} is not a valid redirect code, must be 3xx`);
            },
          }),
          scheme: str(),
          uri: str(),
        },
        { exclusive: [['port', 'derivePort']] },
      ),
      retries: obj({
        attempts: int32({ minimum: 0 }),
        backoff: duration(),
        perTryTimeout: duration(),
        retryIgnorePreviousHosts: bool(),
        retryOn: str(),
        retryRemoteLocalities: bool(),
      }),
      rewrite: obj(
        {
          authority: str(),
          uri: str(),
          uriRegexRewrite: obj({ match: str({ check: checkRegex }), rewrite: str() }),
        },
        { exclusive: [['uri', 'uriRegexRewrite']] },
      ),
      route: arr(httpRouteDestination(), { check: checkWeights }),
      timeout: duration(),
    },
    {
      exclusive: [['route', 'redirect', 'directResponse', 'delegate']],
      check: (v, path, r) => {
        const has = (k: string) => v[k] !== undefined && v[k] !== null;
        const routes = Array.isArray(v['route']) ? v['route'] : undefined;
        if (!has('redirect') && !has('directResponse') && !has('delegate') && (!routes || routes.length === 0)) {
          r.error(fieldPath(path, 'route'), 'route, redirect, directResponse or delegate is required');
        }
        for (const k of ['mirrorPercentage', 'mirrorPercent', 'mirror_percent']) {
          if (has(k) && !has('mirror')) r.warn(fieldPath(path, k), 'mirror percentage without a mirror has no effect');
          else if (has(k) && k !== 'mirrorPercentage') r.warn(fieldPath(path, k), `${k} is deprecated: use mirrorPercentage`);
        }
      },
    },
  );

const routeDestination = () => obj({ destination: destination(), weight: weight() }, { required: ['destination'] });

const l4Match = (tls: boolean) => {
  const props: Record<string, Schema> = {
    destinationSubnets: arr(
      str({
        check: (s, path, r) => {
          if (!isCidrOrIP(s)) r.error(path, `invalid subnet ${JSON.stringify(s)}`);
        },
      }),
    ),
    gateways: arr(str({ check: checkGatewayReference })),
    port: port(),
    sourceLabels: labelSelector(),
    sourceNamespace: str(),
  };
  if (tls) props['sniHosts'] = arr(str({ check: checkWildcardDomain }), { minItems: 1 });
  else props['sourceSubnet'] = str();
  return obj(props, tls ? { required: ['sniHosts'] } : {});
};

const routes = () => arr(routeDestination(), { minItems: 1, check: checkWeights });

export const virtualServiceSpec: ObjectSchema = obj(
  {
    exportTo: namespaces(),
    gateways: arr(str({ check: checkGatewayReference })),
    hosts: arr(str({ check: checkVirtualServiceHost })),
    http: arr(httpRoute()),
    tcp: arr(obj({ match: arr(l4Match(false)), route: routes() }, { required: ['route'] })),
    tls: arr(obj({ match: arr(l4Match(true), { minItems: 1 }), route: routes() }, { required: ['match', 'route'] })),
  },
  {
    check: (v, path, r) => {
      const len = (k: string) => (Array.isArray(v[k]) ? (v[k] as unknown[]).length : 0);
      if (len('http') + len('tcp') + len('tls') === 0) {
        r.error(path, 'http, tcp or tls must be provided in virtual service');
      }
      const hosts = Array.isArray(v['hosts']) ? (v['hosts'] as unknown[]) : [];
      const gateways = Array.isArray(v['gateways']) ? (v['gateways'] as unknown[]) : [];
      if (hosts.length === 0) {
        // Istio takes a VirtualService without hosts as a delegate (only reachable through another
        // VirtualService's `delegate`), and then it may not name gateways.
        if (gateways.length > 0) r.error(fieldPath(path, 'hosts'), 'required field is missing (a delegate VirtualService without hosts may not name gateways)');
        else r.warn(fieldPath(path, 'hosts'), 'no hosts: this is a delegate VirtualService, used only through another VirtualService\'s delegate');
      }
      const boundToMesh = gateways.length === 0 || gateways.includes('mesh');
      hosts.forEach((h, i) => {
        if (h === '*' && boundToMesh) {
          r.error(indexPath(fieldPath(path, 'hosts'), i), 'wildcard host * is not allowed for virtual services bound to the mesh gateway');
        }
      });
    },
  },
);

// ---- Gateway --------------------------------------------------------------------------------

const serverTlsProps = (): Record<string, Schema> => ({
  caCertCredentialName: str(),
  caCertificates: str(),
  caCrl: str(),
  cipherSuites: strings(),
  credentialName: str(),
  credentialNames: arr(str(), { minItems: 1, maxItems: 2 }),
  httpsRedirect: bool(),
  insecureSkipVerify: bool(),
  maxProtocolVersion: str({ enum: ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'] }),
  minProtocolVersion: str({ enum: ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'] }),
  mode: str({ enum: ['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'] }),
  privateKey: str(),
  serverCertificate: str(),
  subjectAltNames: strings(),
  tlsCertificates: arr(obj({ caCertificates: str(), privateKey: str(), serverCertificate: str() }), { minItems: 1, maxItems: 2 }),
  verifyCertificateHash: strings(),
  verifyCertificateSpki: strings(),
});
const serverTls = () =>
  obj(serverTlsProps(), {
    exclusive: [
      ['credentialName', 'credentialNames'],
      ['credentialNames', 'tlsCertificates'],
      ['credentialName', 'tlsCertificates'],
    ],
  });

const serverPort = (required: readonly string[]) =>
  obj(
    {
      name: str(),
      number: port(),
      protocol: str({ check: checkIstioProtocol }),
      targetPort: port(),
    },
    { required },
  );

export const gatewaySpec: ObjectSchema = obj(
  {
    selector: stringMap(),
    servers: arr(
      obj(
        {
          bind: str(),
          defaultEndpoint: str(),
          hosts: arr(str({ check: (h, p, r) => checkNamespacedHost(h, p, r, false) }), { minItems: 1 }),
          name: str(),
          port: serverPort(['number', 'protocol', 'name']),
          tls: serverTls(),
        },
        {
          required: ['port', 'hosts'],
          check: (s, path, r) => {
            const p = s['port'];
            if (!isPlainObject(p) || typeof p['protocol'] !== 'string' || !isIstioProtocol(p['protocol'])) return;
            const proto = p['protocol'].toUpperCase();
            if ((proto === 'HTTPS' || proto === 'TLS') && !isPlainObject(s['tls'])) {
              r.error(fieldPath(path, 'tls'), `server must have TLS settings for ${proto} servers`);
            }
          },
        },
      ),
      { minItems: 1 },
    ),
  },
  {
    check: (v, path, r) => {
      if (!Array.isArray(v['servers'])) r.error(fieldPath(path, 'servers'), 'required field is missing (a gateway must have at least one server)');
    },
  },
);

// ---- DestinationRule ------------------------------------------------------------------------

const connectionPool = () =>
  obj({
    http: obj({
      h2UpgradePolicy: str({ enum: ['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'] }),
      http1MaxPendingRequests: int32({ minimum: 0 }),
      http2KeepAlive: obj({ interval: duration(), timeout: duration() }),
      http2MaxRequests: int32({ minimum: 0 }),
      idleTimeout: duration(),
      maxConcurrentStreams: int32({ minimum: 0 }),
      maxRequestsPerConnection: int32({ minimum: 0 }),
      maxRetries: int32({ minimum: 0 }),
      useClientProtocol: bool(),
    }),
    tcp: obj({
      connectTimeout: duration(),
      idleTimeout: plainDuration(),
      maxConnectionDuration: duration(),
      maxConnections: int32({ minimum: 0 }),
      tcpKeepalive: obj({ interval: duration(), probes: uint32(), time: duration() }),
    }),
  });

const failover = () => arr(obj({ from: str(), to: str() }));

const loadBalancer = () =>
  obj(
    {
      consistentHash: obj(
        {
          httpCookie: obj(
            { attributes: arr(obj({ name: str(), value: str() }, { required: ['name'] })), name: str(), path: str(), ttl: plainDuration() },
            { required: ['name'] },
          ),
          httpHeaderName: str(),
          httpQueryParameterName: str(),
          maglev: obj({ tableSize: int({ minimum: 0 }) }),
          minimumRingSize: int({ minimum: 0 }),
          ringHash: obj({ minimumRingSize: int({ minimum: 0 }) }),
          useSourceIp: bool(),
        },
        {
          exclusive: [
            ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'],
            ['ringHash', 'maglev'],
          ],
        },
      ),
      localityLbSetting: obj({
        distribute: arr(obj({ from: str(), to: map(uint32()) })),
        enabled: bool(),
        failover: failover(),
        failoverPriority: strings(),
      }),
      simple: str({ enum: ['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'] }),
      warmup: obj(
        { aggression: num({ minimum: 0 }), duration: duration(), minimumPercent: num({ minimum: 0, maximum: 100 }) },
        { required: ['duration'] },
      ),
      warmupDurationSecs: duration(),
      zoneAwareLbSetting: obj({ enabled: bool(), failover: failover(), failoverPriority: strings(), minClusterSize: int({ minimum: 1 }) }),
    },
    { exclusive: [['simple', 'consistentHash']] },
  );

const outlierDetection = () =>
  obj({
    baseEjectionTime: duration(),
    consecutive5xxErrors: uint32(),
    consecutiveErrors: int32({ minimum: 0 }),
    consecutiveGatewayErrors: uint32(),
    consecutiveLocalOriginFailures: uint32(),
    interval: duration(),
    maxEjectionPercent: int32({ check: checkPercent }),
    minHealthPercent: int32({ check: checkPercent }),
    outlierDetectionHttpErrorCodes: arr(int({ minimum: 100, maximum: 599 })),
    splitExternalLocalOriginErrors: bool(),
  });

const clientTls = () =>
  obj({
    caCertificates: str(),
    caCrl: str(),
    clientCertificate: str(),
    credentialName: str(),
    insecureSkipVerify: bool(),
    mode: str({ enum: ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] }),
    privateKey: str(),
    sni: str(),
    subjectAltNames: strings(),
  });

const trafficPolicy = () =>
  obj({
    connectionPool: connectionPool(),
    loadBalancer: loadBalancer(),
    outlierDetection: outlierDetection(),
    portLevelSettings: arr(
      obj(
        { connectionPool: connectionPool(), loadBalancer: loadBalancer(), outlierDetection: outlierDetection(), port: portSelector(), tls: clientTls() },
        {
          check: (v, path, r) => {
            if (!isPlainObject(v['port']) || v['port']['number'] === undefined) r.error(fieldPath(path, 'port'), 'required field is missing (port-level settings need a port)');
          },
        },
      ),
      { maxItems: 4096 },
    ),
    proxyProtocol: obj({ version: str({ enum: ['V1', 'V2'] }) }),
    retryBudget: obj({ budgetInterval: duration(), minRetryConcurrency: uint32(), percent: num({ minimum: 0, maximum: 100 }) }),
    tls: clientTls(),
    tunnel: obj(
      {
        protocol: str({
          check: (p, path, r) => {
            if (p !== 'CONNECT' && p !== 'POST') r.error(path, `tunnel protocol must be "CONNECT" or "POST", got ${JSON.stringify(p)}`);
          },
        }),
        targetHost: str(),
        targetPort: port(),
      },
      { required: ['targetHost', 'targetPort'] },
    ),
  });

export const destinationRuleSpec: ObjectSchema = obj(
  {
    exportTo: namespaces(),
    host: str({
      check: (h, path, r) => {
        checkWildcardDomain(h, path, r);
      },
    }),
    subsets: arr(
      obj(
        { labels: labelSelector(), name: str({ check: checkSubsetName }), trafficPolicy: trafficPolicy() },
        {
          required: ['name'],
          check: (s, path, r) => {
            if (!isPlainObject(s['labels']) || Object.keys(s['labels']).length === 0) {
              r.warn(fieldPath(path, 'labels'), 'subset has no labels: it selects every endpoint of the host');
            }
          },
        },
      ),
      {
        check: (subsets, path, r) => {
          const seen = new Set<string>();
          subsets.forEach((s, i) => {
            if (!isPlainObject(s) || typeof s['name'] !== 'string') return;
            if (seen.has(s['name'])) r.error(fieldPath(indexPath(path, i), 'name'), `duplicate subset name ${JSON.stringify(s['name'])}`);
            seen.add(s['name']);
          });
        },
      },
    ),
    trafficPolicy: trafficPolicy(),
    workloadSelector: obj({
      matchLabels: map(str({ maxLength: 63 }), {
        keyCheck: (k, path, r) => {
          if (k === '') r.error(path, 'key must not be empty');
          else if (k.includes('*')) r.error(path, 'wildcard not allowed in label key match');
        },
        check: (m, path, r) => {
          for (const [k, v] of Object.entries(m)) if (typeof v === 'string' && v.includes('*')) r.error(`${path}[${k}]`, 'wildcard not allowed in label value match');
        },
      }),
    }),
  },
  { required: ['host'] },
);

// ---- ServiceEntry ---------------------------------------------------------------------------

const workloadSelectorLabels = () =>
  obj({
    labels: map(
      str({
        maxLength: 63,
        check: (v, path, r) => {
          if (v.includes('*')) r.error(path, 'wildcard is not supported in selector');
        },
      }),
    ),
  });

export const serviceEntrySpec: ObjectSchema = obj(
  {
    addresses: arr(
      str({
        maxLength: 64,
        check: (a, path, r) => {
          if (!isCidrOrIP(a)) r.error(path, `invalid address ${JSON.stringify(a)}: must be an IP address or CIDR block`);
        },
      }),
      { maxItems: 256 },
    ),
    endpoints: arr(
      obj(
        {
          address: str({ maxLength: 256 }),
          labels: labelSelector(),
          locality: str({ maxLength: 2048 }),
          network: str({ maxLength: 2048 }),
          ports: map(uint32({ check: checkPort }), {
            keyCheck: (k, path, r) => {
              if (!(k.length < 63 && /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/.test(k))) r.error(path, 'port name must be valid');
            },
          }),
          serviceAccount: str({ maxLength: 253 }),
          weight: uint32(),
        },
        {
          check: (e, path, r) => {
            if (e['address'] === undefined && e['network'] === undefined) r.error(fieldPath(path, 'address'), 'required field is missing (Address is required)');
            const a = e['address'];
            if (typeof a === 'string' && a.startsWith('unix://')) {
              if (e['ports'] !== undefined) r.error(fieldPath(path, 'ports'), 'UDS may not include ports');
              if (!(a[7] === '/' || a[7] === '@')) r.error(fieldPath(path, 'address'), 'UDS must be an absolute path or abstract socket');
              if (a.endsWith('/')) r.error(fieldPath(path, 'address'), 'UDS may not be a dir');
            }
          },
        },
      ),
      { maxItems: 4096 },
    ),
    exportTo: namespaces(),
    hosts: arr(
      str({
        check: (h, path, r) => {
          if (h === '*') r.error(path, 'hostname cannot be wildcard');
          else checkWildcardDomain(h, path, r);
        },
      }),
      { minItems: 1, maxItems: 256 },
    ),
    location: str({ enum: ['MESH_EXTERNAL', 'MESH_INTERNAL'] }),
    ports: arr(
      obj(
        {
          name: str({
            maxLength: 256,
            check: (n, path, r) => {
              if (!isDns1123Label(n)) r.error(path, `invalid port name ${JSON.stringify(n)}: ${DNS1123_LABEL_MESSAGE}`);
            },
          }),
          number: uint32({ check: checkPort }),
          protocol: str({ maxLength: 256, check: checkIstioProtocol }),
          targetPort: uint32({ check: checkPort }),
        },
        { required: ['number', 'name'] },
      ),
      {
        maxItems: 256,
        check: (ports, path, r) => {
          const numbers = new Set<number>();
          const names = new Set<string>();
          ports.forEach((p, i) => {
            if (!isPlainObject(p)) return;
            if (typeof p['number'] === 'number') {
              if (numbers.has(p['number'])) r.error(fieldPath(indexPath(path, i), 'number'), 'port number cannot be duplicated');
              numbers.add(p['number']);
            }
            if (typeof p['name'] === 'string') {
              if (names.has(p['name'])) r.error(fieldPath(indexPath(path, i), 'name'), `duplicate port name ${JSON.stringify(p['name'])}`);
              names.add(p['name']);
            }
          });
        },
      },
    ),
    resolution: str({ enum: ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS'] }),
    subjectAltNames: strings(),
    workloadSelector: workloadSelectorLabels(),
  },
  {
    required: ['hosts'],
    exclusive: [['workloadSelector', 'endpoints']],
    check: (v, path, r) => {
      const resolution = typeof v['resolution'] === 'string' ? v['resolution'] : 'NONE';
      const endpoints = Array.isArray(v['endpoints']) ? v['endpoints'] : undefined;
      const addresses = Array.isArray(v['addresses']) ? v['addresses'] : [];
      if (resolution === 'NONE' && endpoints !== undefined) r.error(fieldPath(path, 'endpoints'), 'NONE mode cannot set endpoints');
      if (resolution === 'DNS_ROUND_ROBIN' && endpoints && endpoints.length > 1) {
        r.error(fieldPath(path, 'endpoints'), 'DNS_ROUND_ROBIN mode cannot have multiple endpoints');
      }
      if (addresses.some((a) => typeof a === 'string' && a.includes('/')) && !['STATIC', 'NONE'].includes(resolution)) {
        r.error(fieldPath(path, 'addresses'), 'CIDR addresses are allowed only for NONE/STATIC resolution types');
      }
      // Endpoint ports name the ServiceEntry's ports (Istio's webhook, STATIC and DNS resolution).
      if (endpoints && ['STATIC', 'DNS', 'DNS_ROUND_ROBIN'].includes(resolution)) {
        const ports = Array.isArray(v['ports']) ? v['ports'] : [];
        const defined = ports.flatMap((p) => (isPlainObject(p) && typeof p['name'] === 'string' ? [p['name']] : []));
        endpoints.forEach((e, i) => {
          if (!isPlainObject(e) || !isPlainObject(e['ports'])) return;
          for (const name of Object.keys(e['ports'])) {
            if (defined.includes(name)) continue;
            r.error(
              `${fieldPath(indexPath(fieldPath(path, 'endpoints'), i), 'ports')}[${name}]`,
              `endpoint port ${JSON.stringify(name)} is not defined by the service entry (its ports: ${defined.map((d) => JSON.stringify(d)).join(', ') || 'none'})`,
            );
          }
        });
      }
      if (resolution === 'STATIC' && endpoints) {
        endpoints.forEach((e, i) => {
          if (isPlainObject(e) && typeof e['address'] === 'string' && !e['address'].startsWith('unix://') && !isIP(e['address'])) {
            r.error(fieldPath(indexPath(fieldPath(path, 'endpoints'), i), 'address'), `endpoint address ${JSON.stringify(e['address'])} is not a valid IP address (resolution STATIC)`);
          }
        });
      }
      if (resolution === 'STATIC' && !endpoints && v['workloadSelector'] === undefined) {
        r.warn(fieldPath(path, 'endpoints'), 'resolution STATIC without endpoints or workloadSelector: the hosts have no endpoints');
      }
      if ((resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') && !endpoints && Array.isArray(v['hosts'])) {
        v['hosts'].forEach((h, i) => {
          if (typeof h === 'string' && h.startsWith('*')) {
            r.error(indexPath(fieldPath(path, 'hosts'), i), `wildcard host ${JSON.stringify(h)} cannot be resolved by DNS: give endpoints or use resolution NONE`);
          }
        });
      }
    },
  },
);

// ---- Sidecar --------------------------------------------------------------------------------

const sidecarPort = () => obj({ name: str(), number: port(), protocol: str({ check: checkIstioProtocol }), targetPort: port() });

export const sidecarSpec: ObjectSchema = obj(
  {
    egress: arr(
      obj(
        {
          bind: str(),
          captureMode: str({ enum: ['DEFAULT', 'IPTABLES', 'NONE'] }),
          hosts: arr(str({ check: (h, p, r) => checkNamespacedHost(h, p, r, true) }), { minItems: 1 }),
          port: sidecarPort(),
        },
        { required: ['hosts'] },
      ),
    ),
    inboundConnectionPool: connectionPool(),
    ingress: arr(
      obj(
        {
          bind: str(),
          captureMode: str({ enum: ['DEFAULT', 'IPTABLES', 'NONE'] }),
          connectionPool: connectionPool(),
          defaultEndpoint: str(),
          port: sidecarPort(),
          tls: serverTls(),
        },
        { required: ['port'] },
      ),
    ),
    outboundTrafficPolicy: obj({
      egressProxy: destination(),
      mode: str({ enum: ['REGISTRY_ONLY', 'ALLOW_ANY'] }),
    }),
    workloadSelector: workloadSelectorLabels(),
  },
  {
    check: (v, path, r) => {
      if (['egress', 'ingress', 'outboundTrafficPolicy', 'inboundConnectionPool'].every((k) => v[k] === undefined)) {
        r.error(path, 'sidecar: empty configuration provided');
      }
    },
  },
);

export const ISTIO_SPECS: Record<string, ObjectSchema> = {
  Gateway: gatewaySpec,
  VirtualService: virtualServiceSpec,
  DestinationRule: destinationRuleSpec,
  ServiceEntry: serviceEntrySpec,
  Sidecar: sidecarSpec,
};
