import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { afterAll, describe, expect, it } from 'vitest';
import type { Buildpack, BuildContext } from './buildpack.js';
import { build } from './build.js';
import type { PhaseInputs } from './detect.js';

const root = mkdtempSync(join(tmpdir(), 'sprout-build-phase-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An in-process buildpack recording the plan and environment it was given. */
function recorder(
  id: string,
  seen: Record<string, { plan: unknown; env: Record<string, string> }>,
  onBuild?: (ctx: BuildContext) => void,
  clearEnv = false,
): Buildpack {
  return {
    info: { id, version: '1', api: '0.10', ...(clearEnv ? { clearEnv } : {}) },
    detect: () => Promise.resolve(true),
    build(ctx) {
      seen[id] = { plan: parse(readFileSync(ctx.planPath, 'utf8')).entries ?? [], env: ctx.env };
      onBuild?.(ctx);
      return Promise.resolve();
    },
  };
}

function inputs(name: string): PhaseInputs {
  const dir = join(root, name);
  mkdirSync(join(dir, 'app'), { recursive: true });
  return {
    appDir: join(dir, 'app'),
    platformDir: join(dir, 'platform'),
    workDir: dir,
    baseEnv: { PATH: '/usr/bin', HOME: '/root', FROM_PLATFORM: 'yes' },
    platformEnv: { FROM_PLATFORM: 'yes' },
    logs: { line: () => undefined },
  };
}

const entry = { name: 'x', metadata: { v: 1 } };

describe('the build phase', () => {
  it('an entry a provider leaves [[unmet]] goes to the next provider; one it met does not', async () => {
    for (const unmet of [true, false]) {
      const seen: Record<string, { plan: unknown; env: Record<string, string> }> = {};
      const a = recorder('a', seen, (ctx) => {
        if (unmet) writeFileSync(join(ctx.layersDir, 'build.toml'), '[[unmet]]\nname = "x"\n');
      });
      const b = recorder('b', seen);
      const c = recorder('c', seen);
      const ins = inputs(`unmet-${unmet}`);
      await build({ buildpacks: [a, b, c], plans: [[entry], [entry], []] }, join(ins.workDir, 'layers'), ins);
      expect(seen.a!.plan).toEqual([entry]);
      expect(seen.b!.plan).toEqual(unmet ? [entry] : []);
    }
  });

  it("a build layer's bin/ and env files reach later buildpacks, not launch-only ones; clear-env gets only the platform's", async () => {
    const seen: Record<string, { plan: unknown; env: Record<string, string> }> = {};
    const a = recorder('a', seen, (ctx) => {
      const layer = join(ctx.layersDir, 'tools');
      mkdirSync(join(layer, 'bin'), { recursive: true });
      mkdirSync(join(layer, 'env.build'), { recursive: true });
      writeFileSync(join(layer, 'env.build', 'TOOL_HOME'), layer);
      writeFileSync(join(ctx.layersDir, 'tools.toml'), '[types]\nbuild = true\n');
      const run = join(ctx.layersDir, 'run');
      mkdirSync(join(run, 'env'), { recursive: true });
      writeFileSync(join(run, 'env', 'RUN_ONLY'), 'x');
      writeFileSync(join(ctx.layersDir, 'run.toml'), '[types]\nlaunch = true\n');
    });
    const b = recorder('b', seen);
    const clear = recorder('clear', seen, undefined, true);
    const ins = inputs('env');
    await build({ buildpacks: [a, b, clear], plans: [[], [], []] }, join(ins.workDir, 'layers'), ins);
    const tools = join(ins.workDir, 'layers', 'a', 'tools');
    expect(seen.b!.env).toMatchObject({
      PATH: `${tools}/bin:/usr/bin`,
      TOOL_HOME: tools,
      FROM_PLATFORM: 'yes',
      HOME: '/root',
    });
    expect(seen.b!.env.RUN_ONLY).toBeUndefined();
    expect(seen.clear!.env.HOME).toBeUndefined();
    expect(seen.clear!.env.FROM_PLATFORM).toBe('yes');
  });
});
