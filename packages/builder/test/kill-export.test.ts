import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, cacheDirOf, OciLayout } from '@sprout/builder';

const runner = fileURLToPath(new URL('./fixtures/run-build.ts', import.meta.url));
let work: string;

// A buildpack with a 40 MiB launch + cache layer of incompressible but fixed bytes (AES-CTR of
// zeros), reused when its restored metadata matches: exporting it takes long enough to be killed.
const DETECT = 'true';
const BUILD = `layer="$CNB_LAYERS_DIR/big"
if ! { [[ -f "$layer.toml" ]] && grep -q 'v = "1"' "$layer.toml" && [[ -f "$layer/blob" ]]; }; then
  rm -rf "$layer"; mkdir -p "$layer"
  head -c 41943040 /dev/zero | openssl enc -aes-128-ctr -nosalt -K 00000000000000000000000000000000 -iv 00000000000000000000000000000000 > "$layer/blob"
  echo "made the big layer"
fi
printf '[types]\\nlaunch = true\\ncache = true\\n[metadata]\\nv = "1"\\n' > "$layer.toml"`;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sprout-builder-kill-'));
  const bp = join(work, 'bp');
  await mkdir(join(bp, 'bin'), { recursive: true });
  await writeFile(join(bp, 'buildpack.toml'), 'api = "0.10"\n[buildpack]\nid = "test/big"\nversion = "1"\n');
  for (const [name, body] of [
    ['detect', DETECT],
    ['build', BUILD],
  ] as const) {
    await writeFile(join(bp, 'bin', name), `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`);
    await chmod(join(bp, 'bin', name), 0o755);
  }
  await mkdir(join(work, 'app'));
  await writeFile(join(work, 'app', 'index.html'), 'hi\n');
});
afterAll(() => rm(work, { recursive: true, force: true }));

async function sha256Of(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

describe('a build killed with SIGKILL during export', () => {
  it('leaves no half blob, a readable layout and no half cache; the next build succeeds with the same digest', async () => {
    const options = {
      source: join(work, 'app'),
      tag: 'localhost/big:1',
      dataDir: join(work, 'data'),
      buildpacks: [join(work, 'bp')],
      output: { type: 'oci-layout' as const, dir: join(work, 'layout') },
    };
    const first = await buildImage({ ...options, logs: { line: () => undefined } });

    // Another creation time, so the export writes every layer anew (the 40 MiB one too); kill the
    // build as it starts exporting.
    const child = spawn(
      process.execPath,
      [
        '--conditions=@sprout/source',
        '--import',
        'tsx',
        runner,
        JSON.stringify({ ...options, created: '2020-01-01T00:00:00Z' }),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    const killed = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('===> EXPORTING')) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    expect(await killed, out).toBe('SIGKILL');
    expect(out).not.toContain('done sha256:');

    // Every blob in the layout is whole: its bytes hash to its name; the index still reads.
    const layout = await OciLayout.open(options.output.dir);
    const blobs = join(options.output.dir, 'blobs', 'sha256');
    for (const name of readdirSync(blobs)) expect(await sha256Of(join(blobs, name)), name).toBe(name);
    expect((await layout.image('1')).descriptor.digest).toBe(first.image.descriptor.digest);
    // The cache is either whole or gone: never a half-moved set of layers under its name.
    const cache = cacheDirOf(options.dataDir, options.tag);
    expect(
      readdirSync(cache).filter((f) => !['current', 'blobs.json'].includes(f) && !f.startsWith('taken-')),
    ).toEqual([]);
    if (existsSync(join(cache, 'current')))
      expect(existsSync(join(cache, 'current', 'index.json'))).toBe(true);

    // The next build takes over the dead build's lock, rebuilds what is missing and succeeds;
    // the image is the first one again.
    const lines: string[] = [];
    const again = await buildImage({ ...options, logs: { line: (t) => lines.push(t) } });
    expect(again.image.descriptor.digest).toBe(first.image.descriptor.digest);
  }, 120_000);
});
