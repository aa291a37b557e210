/**
 * The catalog process. Environment:
 *   HOST (default 0.0.0.0), PORT (default 3000)
 *   SHOW_IMAGE=true      v2: every item gets "imageUrl"
 *   CATALOG_SEED         seed for the /blowup dice (reproducible failure injection)
 *   LAB_EXIT_ON_STDIN_CLOSE=1   exit when stdin ends
 */
import { envBool, envPort, envString } from '../../shared/src/env.js';
import { runMain } from '../../shared/src/lifecycle.js';
import { startCatalog } from './server.js';

const env = process.env;
await runMain('catalog', () =>
  startCatalog({
    host: envString(env.HOST, '0.0.0.0'),
    port: envPort(env.PORT, 3000),
    showImage: envBool(env.SHOW_IMAGE),
    seed: env.CATALOG_SEED && env.CATALOG_SEED.trim() !== '' ? env.CATALOG_SEED.trim() : undefined,
  }),
);
