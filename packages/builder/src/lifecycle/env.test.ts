import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyEnv, layerEnv } from './env.js';

const dir = mkdtempSync(join(tmpdir(), 'sprout-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function layer(name: string, files: Record<string, string>): string {
  const at = join(dir, name);
  for (const [f, v] of Object.entries(files)) {
    mkdirSync(join(at, f, '..'), { recursive: true });
    writeFileSync(join(at, f), v);
  }
  return at;
}

describe('layer env files (Buildpack API 0.5+ meanings)', () => {
  it('override, default, append and prepend with .delim; no suffix overrides', () => {
    const l = layer('a', {
      'env/A': 'plain',
      'env/B.override': 'over',
      'env/C.default': 'dflt',
      'env/D.default': 'unused',
      'env/E.append': 'tail',
      'env/E.delim': ':',
      'env/F.prepend': 'head',
      'env/G.append': 'x',
      'env.build/H': 'build-only',
      'env.launch/I': 'launch-only',
      'env.launch/web/J': 'web-only',
      'env/bad-name': 'ignored',
      'bin/tool': '',
    });
    const env = { A: 'old', B: 'old', D: 'kept', E: 'start', F: 'rest', G: 'g' };
    applyEnv(env, layerEnv(l, 'build'));
    expect(env).toEqual({
      A: 'plain',
      B: 'over',
      C: 'dflt',
      D: 'kept',
      E: 'start:tail',
      F: 'headrest',
      G: 'gx',
      H: 'build-only',
      PATH: `${l}/bin`,
    });
    const launch = applyEnv({ PATH: '/usr/bin' }, layerEnv(l, 'launch', '/layers/x/a', 'web'));
    expect(launch).toMatchObject({ PATH: '/layers/x/a/bin:/usr/bin', I: 'launch-only', J: 'web-only' });
    expect(launch.H).toBeUndefined();
  });
});
