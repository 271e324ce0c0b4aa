import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runMain } from '../../test/main-io.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'sprout-cli-collector-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const runCli = (args: string[]) => runMain(args, { cwd: repoRoot });

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

describe('sprout collector', () => {
  it('has --help for the command and its test subcommand', async () => {
    const r = await runCli(['collector', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('--dry-run');
    expect(r.out).toContain('-c, --config FILE');
    expect((await runCli(['collector', 'test', '--help'])).out).toContain('sprout collector test -c FILE');
  });

  it('--dry-run validates the example config', async () => {
    const r = await runCli(['collector', '-c', 'examples/collector-basic/collector.yaml', '--dry-run']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('config ok: 2 inputs (http.0, syslog.0), 3 filters, 1 outputs (stdout.0)');
  });

  it('--dry-run names the bad key with a code', async () => {
    const r = await runCli([
      'collector',
      '-c',
      file('bad.yaml', 'pipeline:\n  inputs:\n    - name: http\n      prot: 1\n'),
      '--dry-run',
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      "error: SPROUT_ERR_COLLECTOR_CONFIG_INVALID: pipeline.inputs[0].prot: unknown key 'prot'\n",
    );
  });

  it('without -c it is a usage error', async () => {
    const r = await runCli(['collector']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('-c FILE is required');
  });

  it('test runs the config tests: the example passes, a wrong expectation fails with a diff', async () => {
    const ok = await runCli(['collector', 'test', '-c', 'examples/collector-basic/collector.yaml']);
    expect(ok.out).toContain('2 passed, 0 failed');
    expect(ok.code).toBe(0);
    const bad = file(
      'tests.yaml',
      `pipeline:\n  filters:\n    - { name: modify, match: '*', set: [a 1] }\n  outputs:\n    - { name: stdout, match: '*' }\ntests:\n  - name: sets a\n    input: { tag: t, records: [{ b: 2 }] }\n    expect:\n      stdout.0: [{ b: 2, a: '2' }]\n`,
    );
    const r = await runCli(['collector', 'test', '-c', bad]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL sets a');
    expect(r.out).toContain(`stdout.0[0]: expected {"b":2,"a":"2"}, got {"b":2,"a":"1"}`);
    expect(r.err).toContain('SPROUT_ERR_COLLECTOR_TEST_FAILED');
  });

  it('render prints the pipeline (inputs, outputs, config, Collector), naming what cannot be carried', async () => {
    const r = await runCli([
      'collector',
      'render',
      '-c',
      'examples/collector-buffered/collector.yaml',
      '--name',
      'edge',
      '--namespace',
      'logging',
    ]);
    expect(r.code).toBe(0);
    const docs = parseAllDocuments(r.out).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string } },
    );
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'ClusterInput/edge-tcp.0',
      'ClusterInput/edge-http.0',
      'ClusterOutput/edge-http.1',
      'ClusterFluentBitConfig/edge',
      'Collector/edge',
    ]);
    expect(r.err).toContain('warning: tcp.0: not expressible in a ClusterInput: tag, storage.type');
    expect(r.err).toContain('warning: http.0: not expressible in a ClusterInput: ack');
    // The example listens on 127.0.0.1; in the cluster the inputs listen on 0.0.0.0, and say so.
    expect(r.err).toContain(
      'note: tcp.0: listens on 0.0.0.0, not 127.0.0.1: a loopback address is unreachable from other pods\n',
    );
    expect(r.err).toContain(
      'note: http.1: sends to 127.0.0.1, which in Kubernetes is the Collector pod itself',
    );
  });

  it('render names what fluent-bit cannot run, with a code', async () => {
    const script = file('f.cjs', 'exports.f = (tag, t, body) => body;\n');
    const cfg = file(
      'js.yaml',
      `pipeline:\n  filters:\n    - { name: javascript, match: '*', script: ${script}, call: f }\n  outputs:\n    - { name: stdout, match: '*' }\n`,
    );
    const r = await runCli(['collector', 'render', '-c', cfg]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(
      /^error: SPROUT_ERR_COLLECTOR_NOT_RENDERABLE: javascript.0: javascript is Sprout's own filter: Fluent Operator has no equivalent/,
    );
  });

  it('render checks the manifests against the vendored CRDs unless --validate-against is empty', async () => {
    expect((await runCli(['collector', 'render', '--help'])).out).toContain('--validate-against DIR');
    // Port 0 passes the config schema, but a ClusterOutput's port must be at least 1.
    const cfg = file(
      'port0.yaml',
      `pipeline:\n  outputs:\n    - { name: http, match: '*', host: sink, port: 0 }\n`,
    );
    const checked = await runCli(['collector', 'render', '-c', cfg]);
    expect(checked.code).toBe(1);
    expect(checked.out).toBe('');
    expect(checked.err).toMatch(
      /^error: SPROUT_ERR_KUBE_INVALID_MANIFEST: .*ClusterOutput.*\/spec\/http\/port/,
    );
    const unchecked = await runCli(['collector', 'render', '-c', cfg, '--validate-against', '']);
    expect(unchecked.code).toBe(0);
    expect(unchecked.out).toContain('port: 0');
  });

  it('runs in the foreground; SIGTERM flushes and exits 0', async () => {
    const out = join(tmp, 'out');
    const cfg = file(
      'run.yaml',
      `service: { flush: 30, grace: 5 }\npipeline:\n  inputs:\n    - { name: http, listen: 127.0.0.1, port: 0 }\n  outputs:\n    - { name: file, match: '*', path: ${tmp}, file: out, format: plain }\n`,
    );
    const child = spawn(
      process.execPath,
      [
        '--conditions=@sprout/source',
        '--import',
        'tsx',
        '-e',
        `import('./packages/cli/src/main.ts').then(async (m) => { process.exitCode = await m.main(process.argv.slice(1), { stdout: process.stdout, stderr: process.stderr, env: { ...process.env, SPROUT_LOG_FORMAT: 'json' }, cwd: process.cwd() }); })`,
        'collector',
        '-c',
        cfg,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /"input":"http.0".*?"port":(\d+)/.exec(err);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (c) => reject(new Error(`exited ${c}: ${err}`)));
    });
    const res = await fetch(`http://127.0.0.1:${port}/t`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"kept":true}',
    });
    expect(res.status).toBe(201);
    expect(err).not.toContain('"exposed":true');
    // flush is 30 s: only the shutdown flush can have written the record.
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(out, 'utf8')).toBe('{"kept":true}\n');
  });
});
