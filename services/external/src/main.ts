/**
 * The stand-in for jsonplaceholder.typicode.com (outside the mesh). Environment:
 *   HOST (default 0.0.0.0), PORT (default 8080)
 *   LAB_EXIT_ON_STDIN_CLOSE=1   exit when stdin ends
 */
import { envPort, envString } from '../../shared/src/env.js';
import { runMain } from '../../shared/src/lifecycle.js';
import { startExternal } from './server.js';

const env = process.env;
await runMain('external', () => startExternal({ host: envString(env.HOST, '0.0.0.0'), port: envPort(env.PORT, 8080) }));
