/**
 * The webapp process. Environment:
 *   HOST (default 0.0.0.0), PORT (default 8080)
 *   CATALOG_SERVICE_HOST (default catalog.istioinaction), CATALOG_SERVICE_PORT (default 80)
 *   FORUM_SERVICE_HOST (default forum.istioinaction), FORUM_SERVICE_PORT (default 80)
 *   HTTP_PROXY / http_proxy   forward proxy for outbound calls (the lab's sidecar); NO_PROXY / no_proxy
 *   LAB_EXIT_ON_STDIN_CLOSE=1 exit when stdin ends
 */
import { envPort, envString } from '../../shared/src/env.js';
import { noProxyFromEnv, proxyFromEnv } from '../../shared/src/http-client.js';
import { runMain } from '../../shared/src/lifecycle.js';
import { startWebapp } from './server.js';

const env = process.env;
await runMain('webapp', () =>
  startWebapp({
    host: envString(env.HOST, '0.0.0.0'),
    port: envPort(env.PORT, 8080),
    catalogHost: envString(env.CATALOG_SERVICE_HOST, 'catalog.istioinaction'),
    catalogPort: envString(env.CATALOG_SERVICE_PORT, '80'),
    forumHost: envString(env.FORUM_SERVICE_HOST, 'forum.istioinaction'),
    forumPort: envString(env.FORUM_SERVICE_PORT, '80'),
    httpProxy: proxyFromEnv(env),
    noProxy: noProxyFromEnv(env),
  }),
);
