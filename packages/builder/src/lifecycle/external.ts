import { BuilderError } from '../errors.js';
import {
  executable,
  readBuildpackToml,
  type Buildpack,
  type BuildContext,
  type DetectContext,
} from './buildpack.js';
import { execStreaming } from './exec.js';

/**
 * A CNB buildpack folder run unchanged: `bin/detect` and `bin/build` with the Buildpack API's
 * variables (CNB_BUILDPACK_DIR, CNB_PLATFORM_DIR, CNB_BUILD_PLAN_PATH; CNB_LAYERS_DIR,
 * CNB_BP_PLAN_PATH), the app folder as working directory, no shell in between.
 */
export function externalBuildpack(dir: string): Buildpack {
  const info = readBuildpackToml(dir);
  const detectBin = executable(dir, 'detect');
  const buildBin = executable(dir, 'build');
  const prefix = `[${info.id}] `;
  const common = { CNB_BUILDPACK_DIR: dir, CNB_TARGET_OS: 'linux', CNB_TARGET_ARCH: targetArch() };
  return {
    info,
    async detect(ctx: DetectContext) {
      const res = await execStreaming(detectBin, [], {
        cwd: ctx.appDir,
        env: { ...ctx.env, ...common, CNB_PLATFORM_DIR: ctx.platformDir, CNB_BUILD_PLAN_PATH: ctx.planPath },
        logs: ctx.logs,
        prefix,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      if (res.code === 0) return true;
      if (res.code === 100) return false;
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_DETECT_ERROR',
        `${info.id}: bin/detect ${res.signal ? `was killed by ${res.signal}` : `exited with ${res.code}`} (0 passes, 100 fails, anything else is an error)${tailText(res.tail)}`,
        { field: 'buildpack' },
      );
    },
    async build(ctx: BuildContext) {
      const res = await execStreaming(buildBin, [], {
        cwd: ctx.appDir,
        env: {
          ...ctx.env,
          ...common,
          CNB_PLATFORM_DIR: ctx.platformDir,
          CNB_LAYERS_DIR: ctx.layersDir,
          CNB_BP_PLAN_PATH: ctx.planPath,
        },
        logs: ctx.logs,
        prefix,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      if (res.code !== 0) throw buildFailed(info.id, 'bin/build', res.code, res.signal, res.tail);
    },
  };
}

/** `SPROUT_ERR_BUILDER_BUILD_FAILED` with the exit status and the last lines the step printed. */
export function buildFailed(
  id: string,
  what: string,
  code: number,
  signal: NodeJS.Signals | null,
  tail: string[],
): BuilderError {
  return new BuilderError(
    'SPROUT_ERR_BUILDER_BUILD_FAILED',
    `${id}: ${what} ${signal ? `was killed by ${signal}` : `exited with ${code}`}; fix the app or the buildpack and build again${tailText(tail)}`,
    { field: 'buildpack' },
  );
}

function tailText(tail: string[]): string {
  return tail.length ? `. Last lines:\n  ${tail.join('\n  ')}` : '';
}

/** CNB_TARGET_ARCH as the spec names architectures (GOARCH names). */
function targetArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch;
}
