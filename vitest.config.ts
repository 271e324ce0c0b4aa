import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@sprout/source'] },
  ssr: { resolve: { conditions: ['@sprout/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
