/**
 * The forum process. Environment:
 *   HOST (default 0.0.0.0), PORT (default 8080)
 *   LOCAL_USERS=true          answer a fixed local user list (no outbound call)
 *   FORUM_USERS_URL           override the users URL (default http://jsonplaceholder.typicode.com/users)
 *   HTTP_PROXY / http_proxy   forward proxy for outbound calls (the lab's sidecar); NO_PROXY / no_proxy
 *   LAB_EXIT_ON_STDIN_CLOSE=1 exit when stdin ends
 */
import { envBool, envPort, envString } from '../../shared/src/env.js';
import { noProxyFromEnv, proxyFromEnv } from '../../shared/src/http-client.js';
import { runMain } from '../../shared/src/lifecycle.js';
import { startForum, USERS_URL } from './server.js';

const env = process.env;
await runMain('forum', () =>
  startForum({
    host: envString(env.HOST, '0.0.0.0'),
    port: envPort(env.PORT, 8080),
    localUsers: envBool(env.LOCAL_USERS),
    usersUrl: envString(env.FORUM_USERS_URL, USERS_URL),
    httpProxy: proxyFromEnv(env),
    noProxy: noProxyFromEnv(env),
  }),
);
