import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRng } from '@sprout/http/testing';
import { isBuilderError } from '../errors.js';
import { readLaunchToml, readLayers, readUnmet } from './layers.js';

const root = mkdtempSync(join(tmpdir(), 'sprout-layers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function layersDir(files: Record<string, string>): string {
  const dir = join(root, String(n++));
  mkdirSync(dir, { recursive: true });
  for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, f), v);
  return dir;
}

describe("a buildpack's output files", () => {
  it('layers with [types] and [metadata]; launch.toml processes (array and string commands); build.toml unmet', () => {
    const dir = layersDir({
      'deps.toml': '[types]\nlaunch = true\ncache = true\n[metadata]\nkey = "abc"\n',
      'tmp.toml': '[metadata]\nx = 1\n',
      'deps.sbom.cdx.json': '{}',
      'launch.toml':
        '[[processes]]\ntype = "web"\ncommand = ["node", "server.js"]\nargs = ["--port", "8080"]\ndefault = true\nworking-dir = "/workspace/api"\n[[processes]]\ntype = "worker"\ncommand = "node"\n',
      'build.toml': '[[unmet]]\nname = "node"\n',
    });
    expect(readLayers('t', dir).map((l) => [l.name, l.launch, l.build, l.cache, l.metadata])).toEqual([
      ['deps', true, false, true, { key: 'abc' }],
      ['tmp', false, false, false, { x: 1 }],
    ]);
    expect(readLaunchToml('t', dir)).toEqual([
      {
        type: 'web',
        command: ['node', 'server.js'],
        args: ['--port', '8080'],
        default: true,
        workingDir: '/workspace/api',
        buildpackId: 't',
      },
      { type: 'worker', command: ['node'], args: [], default: false, buildpackId: 't' },
    ]);
    expect(readUnmet('t', dir)).toEqual(['node']);
  });

  for (const [file, text] of [
    ['launch.toml', '[[processes]]\ntype = "a b"\ncommand = ["x"]\n'],
    ['launch.toml', '[[processes]]\ntype = "web"\n'],
    ['launch.toml', '[[processes]]\ntype = "web"\ncommand = [1]\n'],
    ['launch.toml', 'processes = 3'],
    ['bad name!.toml', '[types]\nlaunch = true\n'],
    ['x.toml', '[types\n'],
    ['build.toml', 'unmet = 1'],
  ] as const)
    it(`refuses ${file}: ${JSON.stringify(text)}`, () => {
      const dir = layersDir({ [file]: text });
      const read = () => (readLaunchToml('t', dir), readLayers('t', dir), readUnmet('t', dir));
      expect(read).toThrow(expect.objectContaining({ code: 'SPROUT_ERR_BUILDER_BUILDPACK_OUTPUT_INVALID' }));
    });

  it('fuzzed launch.toml and layer .toml give processes/layers or a coded error', () => {
    const rng = seededRng();
    const valid =
      '[[processes]]\ntype = "web"\ncommand = ["node", "a.js"]\nargs = ["x"]\ndefault = true\n[types]\nlaunch = true\n[metadata]\nk = "v"\n';
    const deadline = Date.now() + 300;
    while (Date.now() < deadline) {
      const text =
        rng.next() < 0.4
          ? rng.bytes(rng.int(0, 120)).toString('latin1')
          : valid.slice(0, rng.int(0, valid.length)) +
            rng.bytes(rng.int(0, 6)).toString('latin1') +
            valid.slice(rng.int(0, valid.length));
      const dir = layersDir({ 'launch.toml': text, 'l.toml': text });
      try {
        for (const p of readLaunchToml('t', dir))
          expect(p.command.length, `seed ${rng.seed}`).toBeGreaterThan(0);
        readLayers('t', dir);
      } catch (err) {
        expect(
          isBuilderError(err, 'SPROUT_ERR_BUILDER_BUILDPACK_OUTPUT_INVALID'),
          `seed ${rng.seed}: ${String(err)}`,
        ).toBe(true);
      }
    }
  });
});
