import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciLayout } from '@sprout/builder';
import { getWhenUp, runBundleProcess, startRegistry } from '@sprout/builder/testing';
import { freePort } from '@sprout/http';
import { runMain } from '../../test/main-io.js';

const run = promisify(execFile);
const hello = fileURLToPath(new URL('../../../../examples/hello', import.meta.url));
const nodeApp = fileURLToPath(new URL('../../../builder/test/fixtures/node-app', import.meta.url));
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sprout-cli-build-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe('sprout build', () => {
  it('--help names the options', async () => {
    const r = await runMain(['build', '--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--tag',
      '--push',
      '--run-image',
      '--cache-image',
      '--output',
      '--env',
      '--buildpack',
      '--creation-time',
    ])
      expect(r.out).toContain(flag);
  });

  it('refuses a bad --output, --env and --creation-time, and no tag', async () => {
    expect((await runMain(['build', hello, '--tag', 'a:1', '--output', 'tar:x'])).err).toContain(
      'oci-layout:DIR',
    );
    expect((await runMain(['build', hello, '--tag', 'a:1', '--env', '1X=2'])).err).toContain('NAME=VALUE');
    expect((await runMain(['build', hello, '--tag', 'a:1', '--creation-time', 'soon'])).err).toContain(
      '--creation-time',
    );
    const none = await runMain(['build', hello], { cwd: work });
    expect(none.code).toBe(2);
    expect(none.err).toContain('--tag is required');
  });

  it("builds a function from its function.yaml's spec.build.srcRepo (a local git repository); the image serves it", async () => {
    // A repository with the hello function under fn/ on branch main, given a dependency (and a dev
    // dependency, pruned) pinned by a lockfile: TypeScript that imports an installed package.
    const tree = join(work, 'tree');
    await cp(hello, join(tree, 'fn'), { recursive: true });
    await cp(join(nodeApp, 'package-lock.json'), join(tree, 'fn', 'package-lock.json'));
    await writeFile(
      join(tree, 'fn', 'package.json'),
      JSON.stringify({
        name: 'node-app',
        version: '1.0.0',
        private: true,
        type: 'module',
        main: 'index.ts',
        dependencies: { ms: '2.1.3' },
        devDependencies: { 'is-number': '7.0.0' },
      }),
    );
    const code = await readFile(join(hello, 'index.ts'), 'utf8');
    await writeFile(
      join(tree, 'fn', 'index.ts'),
      `import ms from 'ms';\n${code.replace('return `Hello, ${name}!\\n`;', "return `Hello, ${name}! (a day is ${ms('1d')} ms)\\n`;")}`,
    );
    const git = (args: string[], cwd: string) =>
      run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd });
    await git(['init', '-q', '-b', 'main'], tree);
    await git(['add', '.'], tree);
    await git(['commit', '-q', '-m', 'hello'], tree);
    const repo = join(work, 'hello.git');
    await git(['clone', '-q', '--bare', tree, repo], work);
    const fnDir = join(work, 'fn');
    await mkdir(fnDir, { recursive: true });
    await writeFile(
      join(fnDir, 'function.yaml'),
      [
        'apiVersion: core.openfunction.io/v1beta2',
        'kind: Function',
        'metadata:',
        '  name: hello',
        'spec:',
        '  version: v1',
        '  image: localhost/hello:1',
        '  build:',
        '    builder: openfunction/builder-node:v2-18.15.0',
        '    env:',
        '      BP_NODE_VERSION: ">=18"',
        '    srcRepo:',
        `      url: ${repo}`,
        '      revision: main',
        '      sourceSubPath: fn',
        '  serving:',
        '    params:',
        '      FUNCTION_TARGET: hello',
        '',
      ].join('\n'),
    );
    const out = join(work, 'layout');
    // --tag wins over spec.image; --push goes to a docker-registry started here.
    const registry = await startRegistry();
    const tag = `${registry.host}/team/hello:1`;
    const args = ['--tag', tag, '--push', '--plain-http', '--output', `oci-layout:${out}`];
    let r;
    try {
      r = await runMain(['build', fnDir, ...args, '--data-dir', join(work, 'data')], {
        cwd: work,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
      });
      expect(r.code, r.err + r.out).toBe(0);
      // The registry holds the image as built: skopeo reads the same manifest digest.
      const inspect = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${tag}`]);
      const { Digest } = JSON.parse(inspect.stdout) as { Digest: string };
      expect(r.out).toContain(`Successfully built ${tag} ${Digest}`);
    } finally {
      await registry.close();
    }
    for (const line of ['===> FETCHING', '===> DETECTING', '===> BUILDING', '===> EXPORTING', '===> PUSHING'])
      expect(r.out).toContain(line);
    expect(r.err).toContain('spec.build.srcRepo');
    // spec.build.env reaches the buildpacks as platform env.
    expect(r.out).toContain(
      '[sprout/node] Node.js ' + process.versions.node + ' (BP_NODE_VERSION asks for >=18)',
    );

    const image = await (await OciLayout.open(out)).image('1');
    const labels = image.config.config!.Labels!;
    const project = JSON.parse(labels['io.buildpacks.project.metadata']!) as {
      source: { type: string; metadata: Record<string, string> };
    };
    expect(project.source).toMatchObject({
      type: 'git',
      metadata: { repository: repo, revision: 'main', sourceSubPath: 'fn' },
    });
    expect(image.config.config!.Env).toContain('FUNCTION_TARGET=hello');

    const bundle = join(work, 'bundle');
    await run('umoci', ['unpack', '--image', `${out}:1`, bundle]);
    const port = await freePort();
    const child = await runBundleProcess(bundle, { PORT: String(port) });
    try {
      expect(await getWhenUp(`http://127.0.0.1:${port}/?name=image`, child)).toBe(
        'Hello, image! (a day is 86400000 ms)\n',
      );
    } finally {
      child.kill('SIGKILL');
    }
  }, 180_000);
});
