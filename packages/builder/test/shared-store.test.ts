import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assembleRunImage,
  buildImage,
  OciLayout,
  SharedStore,
  writeImage,
  writeLayer,
} from '@sprout/builder';

const run = promisify(execFile);
let work: string;
let bp: string;
let big: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sprout-shared-'));
  // A buildpack whose launch layer is a copy (times kept) of a file outside the app, as the
  // framework layer is a copy of the installed framework: the same folder in every build.
  big = join(work, 'big.bin');
  await writeFile(big, randomBytes(3 * 1024 * 1024));
  await utimes(big, new Date('2024-01-01T00:00:00Z'), new Date('2024-01-01T00:00:00Z'));
  bp = join(work, 'bp');
  await mkdir(join(bp, 'bin'), { recursive: true });
  await writeFile(
    join(bp, 'buildpack.toml'),
    `api = "0.10"\n[buildpack]\nid = "test/big"\nversion = "1.0.0"\n`,
  );
  await writeFile(join(bp, 'bin', 'detect'), '#!/usr/bin/env bash\nexit 0\n');
  await writeFile(
    join(bp, 'bin', 'build'),
    `#!/usr/bin/env bash
set -euo pipefail
layer="$CNB_LAYERS_DIR/big"
mkdir -p "$layer/env.launch"
cp -p '${big}' "$layer/big.bin"
printf 'yes' > "$layer/env.launch/BIG.default"
printf '[types]\\nlaunch = true\\ncache = true\\n' > "$layer.toml"
printf '[[processes]]\\ntype = "web"\\ncommand = ["node", "-e", "0"]\\ndefault = true\\n' > "$CNB_LAYERS_DIR/launch.toml"
`,
  );
  for (const f of ['detect', 'build']) await chmod(join(bp, 'bin', f), 0o755);
  await mkdir(join(work, 'app'));
  await writeFile(join(work, 'app', 'index.js'), 'console.log(1)\n');
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const build = (tag: string, out: string, lines: string[], cache = true) =>
  buildImage({
    source: join(work, 'app'),
    tag,
    dataDir: join(work, 'data'),
    output: { type: 'oci-layout', dir: join(work, out) },
    buildpacks: [bp],
    cache,
    runImage: (layout) => assembleRunImage(layout),
    logs: { line: (t) => lines.push(t) },
  });

describe('the machine-level store (<dataDir>/builder/shared)', () => {
  it('makes the run image once and shares layer blobs between images, linked into each output layout', async () => {
    const first: string[] = [];
    const a = await build('localhost:5000/team/a:1', 'out-a', first);
    const bigLayer = a.layers.find((l) => l.name === 'big')!;
    expect(bigLayer.reused).toBe(false);
    const shared = join(work, 'data', 'builder', 'shared');
    const blob = (dir: string, digest: string) => join(dir, 'blobs', 'sha256', digest.slice(7));

    // Another image, its own (empty) layer cache: the layer is not compressed again, the run image
    // not assembled again; both are hard links to the store's blobs.
    const second: string[] = [];
    const b = await build('localhost:5000/team/b:1', 'out-b', second);
    const reused = b.layers.find((l) => l.name === 'big')!;
    expect(reused.reused).toBe(true);
    expect(reused.layer.digest).toBe(bigLayer.layer.digest);
    expect(second.join('\n')).toContain(`reusing layer test/big:big ${bigLayer.layer.digest}`);
    const runTop = b.image.manifest.layers[1]!.digest;
    for (const digest of [reused.layer.digest, runTop]) {
      const [inStore, inOut] = await Promise.all([
        stat(blob(shared, digest)),
        stat(blob(join(work, 'out-b'), digest)),
      ]);
      expect(inOut.ino).toBe(inStore.ino);
    }
    // The image is whole: skopeo reads it, umoci unpacks it with the layer's file.
    const { stdout } = await run('skopeo', ['inspect', `oci:${join(work, 'out-b')}:1`]);
    expect((JSON.parse(stdout) as { Layers: string[] }).Layers).toEqual(
      b.image.manifest.layers.map((l) => l.digest),
    );
    await run('umoci', ['unpack', '--rootless', '--image', `${join(work, 'out-b')}:1`, join(work, 'bundle')]);
    expect(await readFile(join(work, 'bundle', 'rootfs', 'layers', 'test_big', 'big', 'big.bin'))).toEqual(
      await readFile(big),
    );

    // Without the cache no layer blob is shared; written anew, the layer and the image are the same.
    const third: string[] = [];
    const c = await build('localhost:5000/team/c:1', 'out-c', third, false);
    const fresh = c.layers.find((l) => l.name === 'big')!;
    expect(fresh.reused).toBe(false);
    expect(fresh.layer.digest).toBe(bigLayer.layer.digest);
    expect(c.image.descriptor.digest).toBe(b.image.descriptor.digest);
  }, 180_000);

  it('keeps at most its limits of layer blobs, the oldest used dropped, orphans after an hour, never a run image blob', async () => {
    const dir = join(work, 'limited');
    const store = await SharedStore.open(dir, { entries: 2, bytes: 1024 * 1024 * 1024 });
    const src = await OciLayout.open(join(work, 'limited-src'));
    const layers = [];
    for (let i = 0; i < 3; i++) {
      const layer = await writeLayer(src, [{ to: `/f${i}`, content: `file ${i}` }]);
      await store.keep(src, `fp${i}`, layer);
      layers.push(layer);
      await new Promise((r) => setTimeout(r, 5));
    }
    // A named image (as the run image is): its blobs are never dropped.
    const base = await writeLayer(store.layout, [{ to: '/etc/os-release', content: 'ID=test\n' }]);
    const named = await writeImage(store.layout, {
      layers: [{ layer: base, createdBy: 'test' }],
      config: {},
    });
    await store.layout.tag(named, 'run');
    const run = { image: named };
    await store.keep(store.layout, 'run-top', base);
    // Blobs no entry names (a failed build's): one two hours old, one just written.
    const stale = await store.layout.putBytes(Buffer.from('stale'), 'application/octet-stream');
    const recent = await store.layout.putBytes(Buffer.from('recent'), 'application/octet-stream');
    const old = new Date(Date.now() - 2 * 3_600_000);
    await utimes(store.layout.blobPath(stale.digest), old, old);
    for (const d of [run.image.descriptor, run.image.manifest.config])
      await utimes(store.layout.blobPath(d.digest), old, old);
    await store.save();
    const reopened = await SharedStore.open(dir, { entries: 2, bytes: 1024 * 1024 * 1024 });
    expect(reopened.get('fp0')).toBeUndefined();
    expect(reopened.get('fp1')).toBeUndefined();
    expect(reopened.get('fp2')?.digest).toBe(layers[2]!.digest);
    expect(await reopened.layout.has(layers[0]!.digest)).toBe(false);
    expect(await reopened.layout.has(layers[2]!.digest)).toBe(true);
    // The run image's blobs stay whatever the index says and however old; of the others, the old one goes.
    for (const d of [run.image.descriptor, run.image.manifest.config, ...run.image.manifest.layers])
      expect(await reopened.layout.has(d.digest)).toBe(true);
    expect(await reopened.layout.has(stale.digest)).toBe(false);
    expect(await reopened.layout.has(recent.digest)).toBe(true);
    expect(await reopened.provide(src, layers[2]!)).toBe(true);
  }, 60_000);
});
