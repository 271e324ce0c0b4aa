import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { assertNoDuplicateKeys } from '@sprout/observe/testing';
import { runMain } from './main-io.js';
import { bin, fixtures, killAll, root, runSprout as run, serveSprout as serve } from './sprout.js';

afterEach(killAll);

describe('sprout CLI', () => {
  it('prints help for the top level and for every command', () => {
    const top = run(['--help']);
    expect(top.status).toBe(0);
    const commands = [...top.stdout.matchAll(/^ {2}(\w+) {2,}/gm)].map((m) => m[1]!);
    expect(commands).toEqual(expect.arrayContaining(['run', 'dev', 'deploy']));
    for (const c of commands) {
      const r = run([c, '--help']);
      expect(r.status, c).toBe(0);
      expect(r.stdout, c).toMatch(/Usage: sprout/);
    }
    expect(run(['run', '--help']).stdout).toMatch(/--signature-type TYPE .*FUNCTION_SIGNATURE_TYPE/);
  }, 120_000); // a process per command (12 and growing), each loading its package

  it('says what to do on an unknown command or flag', () => {
    const r = run(['launch']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'launch'/);
    const f = run(['run', '--prot', '1']);
    expect(f.status).toBe(2);
    expect(f.stderr).toMatch(/--prot.*\n.*sprout run --help/s);
  });

  it('exits 1 with the field named for an invalid FUNC_CONTEXT or signature type', () => {
    const ctx = run(['run', `${fixtures}of-esm`, '--target', 'tryKnative'], { FUNC_CONTEXT: '{"name": 3}' });
    expect(ctx.status).toBe(1);
    expect(ctx.stderr).toMatch(/SPROUT_ERR_FRAMEWORK_INVALID_CONTEXT.*"name"/);
    const sig = run(['run', `${fixtures}of-esm`, '--signature-type', 'background']);
    expect(sig.status).toBe(1);
    expect(sig.stderr).toMatch(
      /SPROUT_ERR_FRAMEWORK_UNKNOWN_SIGNATURE.*use one of: http, event, cloudevent, openfunction, typed/,
    );
    const imp = run(['run', `${fixtures}throws-on-import`]);
    expect(imp.status).toBe(1);
    expect(imp.stderr).toMatch(/SPROUT_ERR_FRAMEWORK_MODULE_LOAD_FAILED.*broken at import/);
  });

  it('reads the anchors environment variables and finishes in-flight requests on SIGTERM, exiting 0', async () => {
    const { child, url } = await serve(['run'], {
      FUNCTION_SOURCE: `${fixtures}ts-http`,
      FUNCTION_TARGET: 'slow',
    });
    const inflight = fetch(`${url}/?ms=600`).then(async (r) => ({ status: r.status, body: await r.text() }));
    await new Promise((r) => setTimeout(r, 150));
    child.kill('SIGTERM');
    expect(await inflight).toEqual({ status: 200, body: 'slept 600' });
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('keeps serving when whoever reads its output goes away, and still exits 0 on SIGTERM', async () => {
    const { child, url } = await serve(['run', `${root}examples/hello`]);
    child.stdout!.destroy();
    child.stderr!.destroy();
    expect(await (await fetch(`${url}/?name=pipe`)).text()).toBe('Hello, pipe!\n');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('writes console lines as JSON with the execution id under --log-execution-id', async () => {
    const { child, url } = await serve([
      'run',
      `${fixtures}google-esm`,
      '--target',
      'helloCloudEvent',
      '--log-execution-id',
    ]);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c));
    const r = await fetch(url, {
      method: 'POST',
      headers: {
        'ce-specversion': '1.0',
        'ce-id': 'abc',
        'ce-source': '/s',
        'ce-type': 't',
        'function-execution-id': 'exec-42',
        'content-type': 'application/json',
      },
      body: '{}',
    });
    expect(r.status).toBe(204);
    await new Promise((r) => setTimeout(r, 100));
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({
      message: 'type=t id=abc',
      severity: 'INFO',
      'logging.googleapis.com/labels': { execution_id: 'exec-42' },
    });
  });

  it('serves several folders in one process under `sprout run`, each at /<folder>', async () => {
    const { url } = await serve([
      'run',
      '--watch',
      `${root}examples/hello`,
      `${fixtures}cjs-exports`,
      `${fixtures}ts-registered`,
    ]);
    expect(await (await fetch(`${url}/cjs-exports`)).text()).toBe('module.exports is the function');
    expect(await (await fetch(`${url}/hello?name=dev`)).text()).toBe('Hello, dev!\n');
    // Under --watch a folder whose function cannot be chosen answers 503 with the reason; the
    // others keep serving.
    const r = await fetch(`${url}/ts-registered`);
    expect(r.status).toBe(503);
    expect((await r.json()).error.message).toMatch(/no single obvious function.*double, plain/);
  });

  it('renders the OpenFunction Function for a folder, valid against the upstream CRDs', async () => {
    const { parseAllDocuments } = await import('yaml');
    const { createManifestValidator, vendoredCrdsDir } = await import('@sprout/kube');
    const validator = createManifestValidator(vendoredCrdsDir());
    const r = run([
      'deploy',
      '--render',
      'examples/hello',
      '--image',
      'registry.local/hello:1',
      '-n',
      'demo',
      '--target',
      'hello',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const [fn] = parseAllDocuments(r.stdout).map((d) => d.toJS());
    expect(fn).toMatchObject({
      kind: 'Function',
      metadata: { name: 'hello', namespace: 'demo' },
      spec: { image: 'registry.local/hello:1' },
    });
    expect(validator.validate(fn).issues).toEqual([]);
    const refused = run(['deploy', 'examples/hello']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/--render/);
  });
});

describe('sprout dev', () => {
  it('serves a function on its EIP address and feeds its output lines to the --collector pipeline', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { spawn } = await import('node:child_process');
    const dataDir = mkdtempSync(join(tmpdir(), 'sprout-cli-dev-'));
    const child = spawn(
      process.execPath,
      [
        bin,
        'dev',
        'examples/hello',
        '--eip',
        'examples/eip-local/pools.yaml',
        '--collector',
        'examples/collector-dev/collector.yaml',
        '--data-dir',
        dataDir,
        '--port',
        '0',
        '--api-port',
        '0',
        '--host',
        '0.0.0.0',
        '--no-watch',
      ],
      { cwd: root, env: { ...process.env, SPROUT_LOG_FORMAT: 'json', NODE_OPTIONS: '' } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const own = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString();
        const m = /"url":"(http:\/\/127\.0\.20\.\d+:\d+\/)"[^\n]*serving on its own address/.exec(err);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`sprout dev exited with ${code}: ${err}`)));
    });
    expect(own).toMatch(/^http:\/\/127\.0\.20\.1:/);
    expect(await (await fetch(`${own}?name=eip`)).text()).toBe('Hello, eip!\n');
    // sprout logs reads the instance's lines from the API (the framework logs on stderr) and writes
    // them to its stdout, labelled with the stream.
    const api = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*"msg":"platform API"/.exec(err)![1]!;
    const logs = await runMain(['logs', 'hello', '--timestamps', '--api-url', api, '--data-dir', dataDir]);
    expect(logs.code).toBe(0);
    expect(logs.out).toMatch(/^\d{4}-\d\d-\d\dT[^ ]+ hello-1 stderr \{.*"msg":"serving"/m);
    expect(logs.err).toBe('');
    const following = runMain([
      'logs',
      'hello',
      '-f',
      '--tail',
      '1',
      '--api-url',
      api,
      '--data-dir',
      dataDir,
    ]);
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    // The follower printed the held line and ended with the API.
    const followed = await following;
    expect(followed.code).toBe(0);
    expect(followed.out + followed.err).not.toBe('');
    // The instance's own "serving" line came through the example's parser, grep and modify filters.
    const collected = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => assertNoDuplicateKeys(l) as Record<string, unknown>)
      .filter((r) => r.env === 'local-dev');
    expect(collected).toEqual(
      expect.arrayContaining([expect.objectContaining({ level: 'info', msg: 'serving', stream: 'stderr' })]),
    );
    expect(collected.some((r) => r.level === 'debug')).toBe(false);
    // Every line sprout dev logged itself is JSON with each key once.
    for (const l of err.split('\n').filter((l) => l.startsWith('{'))) assertNoDuplicateKeys(l);
  });

  it('refuses contradicting collector and eip flags with usage errors', () => {
    const both = run(['dev', '--collector', 'x.yaml', '--no-collector']);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/--collector and --no-collector/);
    const missing = run(['dev', '--eip', 'no-such-pools.yaml', '--port', '0', '--api-port', '0']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--eip no-such-pools\.yaml: .*ENOENT/);
    expect(run(['dev', '--help']).stdout).toMatch(/--collector FILE[\s\S]*--eip FILE/);
    const nothing = run(['logs', 'hello', '--api-url', 'http://127.0.0.1:9']);
    expect(nothing.status).toBe(1);
    expect(nothing.stderr).toMatch(/cannot reach the platform API at http:\/\/127\.0\.0\.1:9.*sprout dev/);
    expect(run(['logs']).status).toBe(2);
    // The example pipeline's own config tests pass.
    const t = run(['collector', 'test', '-c', 'examples/collector-dev/collector.yaml']);
    expect(t.stdout).toMatch(/1 passed, 0 failed/);
    expect(t.status).toBe(0);
  });
});
