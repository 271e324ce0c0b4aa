import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@sprout/source'] },
  ssr: { resolve: { conditions: ['@sprout/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'scripts/**/*.test.mjs'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The framework imports user functions with Node's own loader; keep its native-import shim
    // out of the test runner's module transform.
    server: { deps: { external: [/native-import\.cjs$/] } },
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
