import { defineConfig } from 'vitest/config';

// Two layers: pure unit tests (no sockets beyond what a test opens itself) and integration tests
// that start real processes from `dist/` (so `npm test` builds first).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Labs are whole process trees; running several at once on a 2-core machine only adds noise.
          fileParallelism: false,
        },
      },
    ],
  },
});
