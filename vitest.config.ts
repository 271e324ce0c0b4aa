import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Longest first, so the last files to finish are short ones: by the durations of the last run
 * where Vitest's cache has them. A file it has not seen (all of them in a fresh clone) goes first,
 * integration tests (`test/`: brokers, builds, child processes) before unit tests (`src/`), larger
 * files first.
 */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cache = this.ctx.cache;
    const rank = new Map(
      files.map((f) => {
        const key = `${f.project.name}:${relative(this.ctx.config.root, f.moduleId)}`;
        const ms = cache.getFileTestResults(key)?.duration;
        const integration = /[\\/]test[\\/]/.test(key);
        const size = cache.getFileStats(key)?.size ?? 0;
        return [f, ms === undefined ? [1, integration ? 1 : 0, size] : [0, 0, ms]] as const;
      }),
    );
    return [...files].sort((a, b) => {
      const [x, y] = [rank.get(a)!, rank.get(b)!];
      return y[0] - x[0] || y[1] - x[1] || y[2] - x[2];
    });
  }
}

export default defineConfig({
  resolve: { conditions: ['@sprout/source'] },
  ssr: { resolve: { conditions: ['@sprout/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'scripts/**/*.test.mjs'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most test files wait on brokers, sockets and child processes, not on the CPU, and every file
    // uses names and ports of its own (CONTRIBUTING.md), so files run side by side: one worker more
    // than the cores (Vitest's default, one less, is a single worker on a 2-core machine). Not more:
    // the builds and the CLI's child processes need the CPU, and starved they pass their timeouts.
    maxWorkers: availableParallelism() + 1,
    // A worker runs file after file in one process: the modules a file imports (the packages, the
    // broker clients) are loaded once per worker instead of once per file. Tests hold no global
    // state; a file that changes process-wide settings restores them in its afterAll.
    isolate: false,
    sequence: { sequencer: LongestFirst },
    // The framework imports user functions with Node's own loader; keep its native-import shim
    // out of the test runner's module transform.
    server: { deps: { external: [/native-import\.cjs$/] } },
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
