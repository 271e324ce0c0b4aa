import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleRunImage, buildImage, isBuilderError, OciLayout } from '@sprout/builder';
import { runBundleProcess, startRegistry } from '@sprout/builder/testing';

const run = promisify(execFile);
let work: string;

/** Writes a buildpack folder: buildpack.toml and bash bin/detect, bin/build. */
async function buildpack(dir: string, id: string, detect: string, build: string): Promise<string> {
  const at = join(work, 'buildpacks', dir);
  await mkdir(join(at, 'bin'), { recursive: true });
  await writeFile(
    join(at, 'buildpack.toml'),
    `api = "0.10"\n[buildpack]\nid = "${id}"\nversion = "1.2.3"\nname = "${dir}"\n`,
  );
  for (const [name, body] of [
    ['detect', detect],
    ['build', build],
  ] as const) {
    await writeFile(join(at, 'bin', name), `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`);
    await chmod(join(at, 'bin', name), 0o755);
  }
  return at;
}

// A "tools" buildpack: provides `greeter`; builds a layer (build + launch + cache) with a bin/,
// env files of every kind; keeps its layer when the restored metadata says version 1.
const TOOLS_DETECT = `cat > "$CNB_BUILD_PLAN_PATH" <<'TOML'
[[provides]]
name = "greeter"
TOML`;
const TOOLS_BUILD = `
layer="$CNB_LAYERS_DIR/tools"
greeting=$(grep -o 'greeting = "[a-z]*"' "$CNB_BP_PLAN_PATH" | cut -d'"' -f2)
echo "plan asks for: $greeting"
if [[ -f "$layer.toml" ]] && grep -q 'version = "1"' "$layer.toml" && [[ -x "$layer/bin/greet" ]]; then
  echo "reusing cached tools layer"
else
  echo "building tools layer"
  rm -rf "$layer"; mkdir -p "$layer/bin" "$layer/env" "$layer/env.build" "$layer/env.launch"
  printf '#!/bin/sh\\necho "%s from greet"\\n' "$greeting" > "$layer/bin/greet"; chmod +x "$layer/bin/greet"
  printf 'hello' > "$layer/env/GREETING"
  printf 'only-build' > "$layer/env.build/BUILD_ONLY.default"
  printf 'only-launch' > "$layer/env.launch/LAUNCH_ONLY.override"
  printf 'tools' > "$layer/env/LIST.append"; printf ',' > "$layer/env/LIST.delim"
fi
cat > "$layer.toml" <<'TOML'
[types]
launch = true
build = true
cache = true
[metadata]
version = "1"
TOML
echo "to stderr" >&2`;

// A "site" buildpack: requires `greeter` (with metadata); uses the tools layer at build time;
// writes a launch layer from the app's files and a launch.toml process.
const SITE_DETECT = `[[ -f index.html ]] || exit 100
cat > "$CNB_BUILD_PLAN_PATH" <<'TOML'
[[requires]]
name = "greeter"
[requires.metadata]
greeting = "howdy"
TOML`;
const SITE_BUILD = `
echo "greet says: $(greet)"
echo "GREETING=$GREETING BUILD_ONLY=\${BUILD_ONLY:-} LAUNCH_ONLY=\${LAUNCH_ONLY:-unset} LIST=\${LIST:-} PLATFORM=$(cat "$CNB_PLATFORM_DIR/env/SITE_TITLE")"
site="$CNB_LAYERS_DIR/site"
mkdir -p "$site/env.launch"
cp index.html "$site/index.html"
printf '%s' "$site" > "$site/env.launch/SITE_ROOT.override"
cat > "$CNB_LAYERS_DIR/site.toml" <<'TOML'
[types]
launch = true
TOML
cat > "$CNB_LAYERS_DIR/launch.toml" <<TOML
[[processes]]
type = "web"
command = ["greet"]
args = ["--site", "$site"]
default = true
[[processes]]
type = "shell"
command = ["sh"]
TOML`;

let tools: string;
let site: string;
let app: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sprout-builder-ext-'));
  tools = await buildpack('tools', 'test/tools', TOOLS_DETECT, TOOLS_BUILD);
  site = await buildpack('site', 'test/site', SITE_DETECT, SITE_BUILD);
  app = join(work, 'app');
  await mkdir(app, { recursive: true });
  await writeFile(join(app, 'index.html'), '<h1>v1</h1>\n');
});
afterAll(() => rm(work, { recursive: true, force: true }));

function collect() {
  const lines: string[] = [];
  return { lines, logs: { line: (t: string) => lines.push(t) } };
}

describe('an external CNB buildpack runs unchanged (--buildpack)', () => {
  it('detect, build plan, layers, env files, launch.toml and the cache, checked in the image by umoci', async () => {
    const out = join(work, 'layout');
    const c1 = collect();
    const opts = {
      source: app,
      tag: 'localhost/site:1',
      dataDir: join(work, 'data'),
      buildpacks: [tools, site],
      env: { SITE_TITLE: 'Home' },
      output: { type: 'oci-layout' as const, dir: out },
    };
    const first = await buildImage({ ...opts, logs: c1.logs });
    const text = c1.lines.join('\n');
    for (const header of [
      '===> ANALYZING',
      '===> DETECTING',
      '===> RESTORING',
      '===> BUILDING',
      '===> EXPORTING',
    ])
      expect(text).toContain(header);
    expect(text).toContain('[test/tools] plan asks for: howdy');
    expect(text).toContain('[test/tools] building tools layer');
    expect(text).toContain('[test/tools] to stderr');
    expect(text).toContain('[test/site] greet says: howdy from greet');
    expect(text).toContain('GREETING=hello BUILD_ONLY=only-build LAUNCH_ONLY=unset LIST=tools PLATFORM=Home');

    const cfg = first.image.config.config!;
    expect(cfg.Entrypoint).toEqual(['greet', '--site', '/layers/test_site/site']);
    expect(cfg.User).toBe('1000:1000');
    expect(cfg.WorkingDir).toBe('/workspace');
    const env = Object.fromEntries(
      cfg.Env!.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(env.PATH!.startsWith('/layers/test_tools/tools/bin:')).toBe(true);
    expect(env.GREETING).toBe('hello');
    expect(env.LAUNCH_ONLY).toBe('only-launch');
    expect(env.BUILD_ONLY).toBeUndefined();
    expect(env.SITE_ROOT).toBe('/layers/test_site/site');
    const meta = JSON.parse(cfg.Labels!['io.buildpacks.build.metadata']!) as {
      processes: { type: string; default: boolean }[];
      buildpacks: { id: string }[];
    };
    expect(meta.processes.map((p) => [p.type, p.default])).toEqual([
      ['web', true],
      ['shell', false],
    ]);
    expect(meta.buildpacks.map((b) => b.id)).toEqual(['test/tools', 'test/site']);
    const lc = JSON.parse(cfg.Labels!['io.buildpacks.lifecycle.metadata']!) as {
      app: { sha: string }[];
      buildpacks: { key: string; layers: Record<string, { data: unknown; cache: boolean }> }[];
    };
    expect(lc.app[0]!.sha).toBe(first.app.digest);
    expect(lc.buildpacks[0]!.layers.tools).toMatchObject({ data: { version: '1' }, cache: true });
    expect(JSON.parse(cfg.Labels!['io.buildpacks.project.metadata']!)).toEqual({ source: { type: 'local' } });

    const bundle = join(work, 'bundle');
    await run('umoci', ['unpack', '--image', `${out}:1`, bundle]);
    const rootfs = join(bundle, 'rootfs');
    expect(await readFile(join(rootfs, 'workspace', 'index.html'), 'utf8')).toBe('<h1>v1</h1>\n');
    expect(await readFile(join(rootfs, 'layers/test_site/site/index.html'), 'utf8')).toBe('<h1>v1</h1>\n');
    const greet = await run(join(rootfs, 'layers/test_tools/tools/bin/greet'), []);
    expect(greet.stdout).toBe('howdy from greet\n');
    expect(await readFile(join(rootfs, 'cnb/config/metadata.toml'), 'utf8')).toContain('type = "web"');

    // Same source: same digest. The cache hands the tools layer back with its metadata.
    const c2 = collect();
    const second = await buildImage({ ...opts, logs: c2.logs });
    expect(c2.lines.join('\n')).toContain('[test/tools] reusing cached tools layer');
    expect(second.restored).toEqual(['test/tools/tools']);
    expect(second.image.descriptor.digest).toBe(first.image.descriptor.digest);

    // An app-only change: only the app layer (and config) differ.
    await writeFile(join(app, 'index.html'), '<h1>v2</h1>\n');
    const third = await buildImage({ ...opts, logs: collect().logs });
    expect(third.image.descriptor.digest).not.toBe(first.image.descriptor.digest);
    expect(third.layers.map((l) => l.layer.digest)[0]).toBe(first.layers[0]!.layer.digest);
    expect(third.app.digest).not.toBe(first.app.digest);
    await writeFile(join(app, 'index.html'), '<h1>v1</h1>\n');

    // --creation-time now: a real time in the config.
    const now = await buildImage({
      ...opts,
      tag: 'localhost/site:now',
      created: new Date('2026-01-02T03:04:05Z'),
      logs: collect().logs,
    });
    expect(now.image.config.created).toBe('2026-01-02T03:04:05.000Z');
    expect((await (await OciLayout.open(out)).image('now')).descriptor.digest).toBe(
      now.image.descriptor.digest,
    );

    // --output docker-archive: the tar skopeo (and docker load) read, with the same labels.
    const archive = join(work, 'site.tar');
    await buildImage({ ...opts, output: { type: 'docker-archive', file: archive }, logs: collect().logs });
    const inspected = JSON.parse((await run('skopeo', ['inspect', `docker-archive:${archive}`])).stdout) as {
      Labels: Record<string, string>;
    };
    expect(inspected.Labels['io.buildpacks.build.metadata']).toBe(
      cfg.Labels!['io.buildpacks.build.metadata'],
    );
  });

  it('--cache-image: a fresh machine (empty data dir) starts from the cache pushed to the registry', async () => {
    const registry = await startRegistry();
    try {
      const opts = {
        source: app,
        tag: 'localhost/site:cached',
        buildpacks: [tools, site],
        env: { SITE_TITLE: 'Home' },
        cacheImage: { ref: `${registry.host}/site/cache:1`, transfer: { plainHttp: true } },
      };
      const c1 = collect();
      const first = await buildImage({ ...opts, dataDir: join(work, 'machine-a'), logs: c1.logs });
      expect(c1.lines.join('\n')).toContain('[test/tools] building tools layer');
      expect(c1.lines).toContain(`cache image ${registry.host}/site/cache:1: pushed 1 layers`);
      const c2 = collect();
      const second = await buildImage({ ...opts, dataDir: join(work, 'machine-b'), logs: c2.logs });
      expect(c2.lines).toContain(`cache image ${registry.host}/site/cache:1: 1 layers`);
      expect(c2.lines.join('\n')).toContain('[test/tools] reusing cached tools layer');
      expect(second.image.descriptor.digest).toBe(first.image.descriptor.digest);
    } finally {
      await registry.close();
    }
  });

  it('no group passes: the error names what each buildpack did', async () => {
    const empty = join(work, 'empty');
    await mkdir(empty, { recursive: true });
    const err = await buildImage({
      source: empty,
      tag: 'localhost/e:1',
      dataDir: join(work, 'data'),
      buildpacks: [tools, site],
      logs: collect().logs,
    }).catch((e: unknown) => e);
    expect(isBuilderError(err, 'SPROUT_ERR_BUILDER_DETECT_FAILED')).toBe(true);
    expect((err as Error).message).toContain('test/site failed');
  });

  it('a provide nobody requires fails the group; detect exit 3 is an error; a failing build shows its exit code and last lines', async () => {
    const alone = await buildImage({
      source: app,
      tag: 'localhost/a:1',
      dataDir: join(work, 'data'),
      buildpacks: [tools],
      logs: collect().logs,
    }).catch((e: unknown) => e);
    expect(isBuilderError(alone, 'SPROUT_ERR_BUILDER_DETECT_FAILED')).toBe(true);
    expect((alone as Error).message).toContain('test/tools passed but its build plan was not met');

    const broken = await buildpack('broken', 'test/broken', 'exit 3', 'true');
    const detectErr = await buildImage({
      source: app,
      tag: 'localhost/b:1',
      dataDir: join(work, 'data'),
      buildpacks: [broken],
      logs: collect().logs,
    }).catch((e: unknown) => e);
    expect(isBuilderError(detectErr, 'SPROUT_ERR_BUILDER_DETECT_ERROR')).toBe(true);
    expect((detectErr as Error).message).toContain('exited with 3');

    const failing = await buildpack(
      'failing',
      'test/failing',
      'true',
      'echo "compiling"; echo "boom: missing thing" >&2; exit 7',
    );
    const buildErr = await buildImage({
      source: app,
      tag: 'localhost/f:1',
      dataDir: join(work, 'data'),
      buildpacks: [failing],
      logs: collect().logs,
    }).catch((e: unknown) => e);
    expect(isBuilderError(buildErr, 'SPROUT_ERR_BUILDER_BUILD_FAILED')).toBe(true);
    expect((buildErr as Error).message).toMatch(/exited with 7[\s\S]*boom: missing thing/);

    const noToml = join(work, 'buildpacks', 'none');
    await mkdir(noToml, { recursive: true });
    const invalid = await buildImage({
      source: app,
      tag: 'localhost/n:1',
      dataDir: join(work, 'data'),
      buildpacks: [noToml],
      logs: collect().logs,
    }).catch((e: unknown) => e);
    expect(isBuilderError(invalid, 'SPROUT_ERR_BUILDER_BUILDPACK_INVALID')).toBe(true);
  });
});

// Several launch.toml processes: the default one is the Entrypoint; any one runs by type through
// /cnb/process/<type> or /cnb/lifecycle/launcher with CNB_PROCESS_TYPE, with its own env.launch/<type>/
// values, working dir and args (replaced by arguments given), in the rootfs umoci unpacked.
const SHOW = `console.log([process.env.ROLE, process.env.SHARED, process.cwd(), ...process.argv.slice(1)].join(' '))`;
const SLEEPER = `process.on('SIGTERM', () => { console.log('got TERM'); process.exit(3); }); console.log('ready'); setInterval(() => {}, 1000);`;
const PROCS_BUILD = `
layer="$CNB_LAYERS_DIR/procs"
mkdir -p "$layer/env.launch/worker" "$layer/env.launch/web"
printf 'any' > "$layer/env.launch/ROLE.default"
printf 'web-role' > "$layer/env.launch/web/ROLE.override"
printf 'worker-role' > "$layer/env.launch/worker/ROLE.override"
printf 'shared' > "$layer/env.launch/SHARED.default"
printf '[types]\\nlaunch = true\\n' > "$layer.toml"
cat > "$CNB_LAYERS_DIR/launch.toml" <<'TOML'
[[processes]]
type = "web"
command = ["node", "-e", "${SHOW}"]
args = ["a1"]
default = true
[[processes]]
type = "worker"
command = ["node", "-e", "${SHOW}"]
args = ["w1", "w2"]
working-dir = "/layers/test_procs/procs"
[[processes]]
type = "fails"
command = ["node", "-e", "process.exit(7)"]
[[processes]]
type = "sleeper"
command = ["node", "-e", "${SLEEPER}"]
TOML`;

describe('process types (the launcher)', () => {
  it('runs the default process as the Entrypoint and any process by type, each with its env, dir and args', async () => {
    const procs = await buildpack('procs', 'test/procs', 'true', PROCS_BUILD);
    const out = join(work, 'procs-layout');
    const opts = {
      source: app,
      tag: 'localhost/procs:1',
      dataDir: join(work, 'procs-data'),
      buildpacks: [procs],
      runImage: (layout: OciLayout) => assembleRunImage(layout),
      output: { type: 'oci-layout' as const, dir: out },
      logs: collect().logs,
    };
    const first = await buildImage(opts);
    expect((await buildImage(opts)).image.descriptor.digest).toBe(first.image.descriptor.digest);
    expect(first.image.config.config!.Entrypoint).toEqual(['node', '-e', SHOW, 'a1']);
    const bundle = join(work, 'procs-bundle');
    await run('umoci', ['unpack', '--image', `${out}:1`, bundle]);

    /** Runs `args` (or the Entrypoint) in the rootfs; its stdout, stderr and exit code. */
    const exec = async (args?: string[], env: Record<string, string> = {}) => {
      const child = await runBundleProcess(bundle, env, args ? { args } : {});
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      return { stdout: stdout.trim(), stderr, code };
    };
    expect(await exec()).toMatchObject({ stdout: 'web-role shared /workspace a1', code: 0 });
    expect(await exec(['/cnb/process/web'])).toMatchObject({ stdout: 'web-role shared /workspace a1' });
    expect(await exec(['/cnb/process/worker'])).toMatchObject({
      stdout: 'worker-role shared /layers/test_procs/procs w1 w2',
      code: 0,
    });
    expect((await exec(['/cnb/process/worker', 'x', 'y'])).stdout).toBe(
      'worker-role shared /layers/test_procs/procs x y',
    );
    expect((await exec(['/cnb/lifecycle/launcher'], { CNB_PROCESS_TYPE: 'worker' })).stdout).toBe(
      'worker-role shared /layers/test_procs/procs w1 w2',
    );
    expect((await exec(['/cnb/lifecycle/launcher'])).stdout).toBe('web-role shared /workspace a1');
    // A setting given to the container wins where the process has no value of its own.
    expect((await exec(['/cnb/process/worker'], { SHARED: 'mine' })).stdout).toBe(
      'worker-role mine /layers/test_procs/procs w1 w2',
    );
    expect((await exec(['/cnb/process/fails'])).code).toBe(7);
    const unknown = await exec(['/cnb/lifecycle/launcher'], { CNB_PROCESS_TYPE: 'nope' });
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain('no process type "nope"; this image has: web, worker, fails, sleeper');
    // SIGTERM to the launcher reaches the process; its exit code comes back.
    const sleeper = await runBundleProcess(bundle, {}, { args: ['/cnb/process/sleeper'] });
    let said = '';
    sleeper.stdout?.on('data', (d: Buffer) => {
      said += d.toString();
      if (said.includes('ready')) sleeper.kill('SIGTERM');
    });
    const [code] = (await once(sleeper, 'close')) as [number | null];
    expect(said).toContain('got TERM');
    expect(code).toBe(3);
  }, 180_000);
});
