// The builder's examples as a user meets them: `sprout build` of examples/ticket-ts (a TypeScript
// function with twenty locked dependencies) and examples/node-app (a plain Node.js app), pushed to
// a docker-registry started here, read back with skopeo, unpacked with umoci and run.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getWhenUp, runBundleProcess, startRegistry } from '@sprout/builder/testing';
import { freePort } from '@sprout/http';
import { createManifestValidator } from '@sprout/kube';
import { runMain } from './main-io.js';

const run = promisify(execFile);
const examples = fileURLToPath(new URL('../../../examples', import.meta.url));
let work: string;
let registry: Awaited<ReturnType<typeof startRegistry>>;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sprout-build-examples-'));
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.close();
  await rm(work, { recursive: true, force: true });
});

/** Builds and pushes an example, checks the registry's digest with skopeo, unpacks it and GETs `path` from its process. */
async function buildPushRun(example: string, path: string): Promise<{ out: string; answer: string }> {
  const tag = `${registry.host}/examples/${example}:1`;
  const layout = join(work, `${example}-oci`);
  const r = await runMain(
    [
      'build',
      join(examples, example),
      '--tag',
      tag,
      '--push',
      '--plain-http',
      '--output',
      `oci-layout:${layout}`,
    ],
    {
      cwd: work,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SPROUT_DATA_DIR: join(work, 'data') },
    },
  );
  expect(r.code, r.err + r.out).toBe(0);
  const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${tag}`]);
  const { Digest } = JSON.parse(stdout) as { Digest: string };
  expect(r.out).toContain(`Successfully built ${tag} ${Digest}`);

  const bundle = join(work, `${example}-bundle`);
  await run('umoci', ['unpack', '--image', `${layout}:1`, bundle]);
  const port = await freePort();
  const child = await runBundleProcess(bundle, { PORT: String(port) });
  try {
    return { out: r.out, answer: await getWhenUp(`http://127.0.0.1:${port}${path}`, child) };
  } finally {
    child.kill('SIGKILL');
  }
}

describe('the builder examples', () => {
  it('examples/ticket-ts: twenty dependencies installed, compiled, dev dependencies pruned, served by the framework', async () => {
    const { out, answer } = await buildPushRun('ticket-ts', '/?name=Ada&event=Node%20Conf&date=2030-05-01');
    expect(out).toContain('===> EXPORTING');
    // The build script `tsc -p .` is one program of node_modules/.bin: run without npm.
    expect(out).toContain('[sprout/node] $ tsc -p .');
    createManifestValidator().assertValid(
      parse(await readFile(join(examples, 'ticket-ts', 'function.yaml'), 'utf8')),
    );
    const body = JSON.parse(answer.slice(0, answer.lastIndexOf('\n#'))) as {
      ticket: { holder: string; event: string; slug: string; date: string; perks: string[] };
    };
    expect(body.ticket).toMatchObject({
      holder: 'Ada',
      event: 'node-conf',
      slug: 'node-conf-ada',
      date: '2030-05-01',
      perks: ['entry', 'badge'],
    });
    // The dependencies are in the launched tree; typescript and @types/semver, dev dependencies, are not.
    const modules = join(
      work,
      'ticket-ts-bundle',
      'rootfs',
      'layers',
      'sprout_node',
      'launch-modules',
      'node_modules',
    );
    expect(existsSync(join(modules, 'zod', 'package.json'))).toBe(true);
    expect(existsSync(join(modules, 'typescript'))).toBe(false);
    expect(existsSync(join(modules, '@types', 'semver'))).toBe(false);
  }, 300_000);

  it('examples/node-app: the start script is the process', async () => {
    const { answer } = await buildPushRun('node-app', '/hi');
    expect(answer).toMatch(/^Hello from node-app at \/hi \(up \d+ms\)\n$/);
  }, 180_000);
});
