import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['pinhole-source'] },
  ssr: { resolve: { conditions: ['pinhole-source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Real networks, browsers and namespaces on a shared 2-core machine: a test whose
    // connection times out under load gets one more try. Vitest marks such a pass as
    // retried (flaky) in its report, so flakiness stays visible rather than hidden.
    retry: 1,
  },
});
