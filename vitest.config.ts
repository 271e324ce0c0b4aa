import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The longest timeout a test file declares (`}, 120_000)`, `timeout: 120_000`): its slow ones say so. */
function declaredTimeout(file: string): number {
  let ms = 0;
  for (const m of readFileSync(file, 'utf8').matchAll(/(?:\},\s*|timeout:\s*)(\d[\d_]{3,})\b/g))
    ms = Math.max(ms, Number(m[1]!.replaceAll('_', '')));
  return ms;
}

/**
 * Longest first, so the last files to finish are short ones: by the durations of the last run
 * where Vitest's cache has them. Files it has not seen (all of them in a fresh clone) go first, by
 * the longest timeout they declare, then integration tests (`test/`) before unit tests, larger first.
 */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cache = this.ctx.cache;
    const rank = new Map<TestSpecification, number[]>(
      files.map((f) => {
        const key = `${f.project.name}:${relative(this.ctx.config.root, f.moduleId)}`;
        const ms = cache.getFileTestResults(key)?.duration;
        if (ms !== undefined) return [f, [0, ms, 0, 0]];
        const integration = /[\\/]test[\\/]/.test(key) ? 1 : 0;
        return [f, [1, declaredTimeout(f.moduleId), integration, cache.getFileStats(key)?.size ?? 0]];
      }),
    );
    return [...files].sort((a, b) => {
      const [x, y] = [rank.get(a)!, rank.get(b)!];
      return y.reduce((d, v, i) => d || v - x[i]!, 0);
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
    maxWorkers: availableParallelism(),
    // Each file in a fresh process (Vitest's default): with files sharing a worker, the collector's
    // OTLP h2c refusal test (opentelemetry-options) failed in two runs of three.
    isolate: true,
    sequence: { sequencer: LongestFirst },
    // The framework imports user functions with Node's own loader; keep its native-import shim
    // out of the test runner's module transform.
    server: { deps: { external: [/native-import\.cjs$/] } },
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
