import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createClusterValidator, parseConfigFile } from '@sprout/console/kubekey';
import { FAKE_KK_BIN, PASSWORD_USER, SSHD, startSshd } from '@sprout/console/testing';
import { freePort } from '@sprout/http/testing';
import { vendoredCrdsDir } from '@sprout/kube';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain } from '../../test/main-io.js';

// Under CI a missing sshd fails; elsewhere too: scripts/setup.sh installs openssh-server.
if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: run scripts/setup.sh (openssh-server)`);

const dirs: string[] = [];
const temp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const dataDir = temp('sprout-cluster-cli-');
const control = temp('sprout-fake-kk-');
const SECRET = 'cli-host-pw-1';
const withKk = { SPROUT_DATA_DIR: dataDir, PATH: `${FAKE_KK_BIN}${delimiter}${process.env.PATH}` };
const sprout = (argv: string[], env: NodeJS.ProcessEnv = { SPROUT_DATA_DIR: dataDir }) =>
  runMain(['cluster', ...argv], { env, cwd: dataDir });

/** A config file as a user has it; `hosts` are YAML flow lines. */
function configFile(name: string, hosts: string[], roles: string): string {
  const text = [
    'apiVersion: kubekey.kubesphere.io/v1alpha2',
    'kind: Cluster',
    `metadata: {name: ${name}}`,
    'spec:',
    '  hosts:',
    ...hosts.map((h) => `  - ${h}`),
    `  roleGroups: ${roles}`,
    '  kubernetes: {version: v1.28.15, containerManager: containerd}',
    '  network: {plugin: calico, kubePodsCIDR: 10.233.64.0/18, kubeServiceCIDR: 10.233.0.0/18}',
    '',
  ].join('\n');
  const file = join(temp('sprout-cluster-file-'), `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

describe('sprout cluster', () => {
  it('lists its commands in --help', async () => {
    const help = await runMain(['cluster', '--help']);
    for (const c of [
      'import',
      'ls',
      'render',
      'preflight',
      'create',
      'add-nodes',
      'delete-node',
      'upgrade',
      'delete',
    ])
      expect(help.out).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
    expect((await runMain(['cluster', 'upgrade', '--help'])).out).toMatch(/--with-kubernetes VERSION/);
  });

  it("imports KubeKey's full example, lists it and renders it with secrets as references", async () => {
    const md = readFileSync(join(vendoredCrdsDir(), 'kubekey/samples/config-example.md'), 'utf8');
    const example = join(temp('sprout-cluster-file-'), 'config-example.yaml');
    writeFileSync(example, /```yaml\n([\s\S]*?)```/.exec(md)![1]!);
    const imported = await sprout(['import', '-f', example]);
    // Upstream's example names node[2:10] in its role groups but defines node1..node3: kept, to fix.
    expect(imported).toMatchObject({
      code: 0,
      out: 'cluster/sample imported (3 node(s)), 2 error(s) to fix before runs\n',
    });
    expect(imported.err).toMatch(/^error: \/spec\/roleGroups\/master node4, .* are not hosts/m);
    expect((await sprout(['import', '-f', example])).err).toMatch(/SPROUT_ERR_CONSOLE_CLUSTER_EXISTS/);

    const ls = await sprout(['ls']);
    expect(ls.out).toBe(
      'NAME    NODES  KUBERNETES  NETWORK  CONTAINER\nsample  3      v1.21.5     calico   docker\n',
    );
    expect(JSON.parse((await sprout(['ls', '-o', 'json'])).out)).toEqual([
      expect.objectContaining({ name: 'sample', nodes: 3 }),
    ]);

    const render = await sprout(['render', 'sample']);
    expect(render.code).toBe(1); // the two role-group errors, on stderr
    expect(render.out).not.toContain('Qcloud@123');
    expect(render.out).toMatch(/password: sprout-secret:/);
    // Against the CRD (and KubeKey's own rules): only upstream's role-group errors, not the references.
    const issues = createClusterValidator().validate(parseConfigFile(render.out).cluster);
    expect(issues.filter((i) => i.severity === 'error').map((i) => i.path)).toEqual([
      '/spec/roleGroups/master',
      '/spec/roleGroups/worker',
    ]);
    expect((await sprout(['create', 'sample'], withKk)).err).toMatch(
      /SPROUT_ERR_CONSOLE_CLUSTER_INVALID: fix the config/,
    );
  });

  it('prints the pre-flight table against a real sshd and exits 1 on a fail', async () => {
    const sshd = await startSshd();
    try {
      const file = configFile(
        'pf',
        [
          `{name: good, address: 127.0.0.1, port: ${sshd.port}, user: root, privateKey: ${JSON.stringify(sshd.privateKey)}}`,
          `{name: wrongpw, address: 127.0.0.1, port: ${sshd.port}, user: ${PASSWORD_USER}, password: not-the-password}`,
          `{name: gone, address: 127.0.0.1, port: ${await freePort()}, user: root, password: x}`,
        ],
        '{etcd: [good], control-plane: [good], worker: [good, wrongpw, gone]}',
      );
      expect((await sprout(['import', '-f', file])).code).toBe(0);
      const r = await sprout(['preflight', 'pf']);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/^HOST +CHECK +RESULT +DETAIL\n/);
      expect(r.out).toMatch(/^good \(127\.0\.0\.1\) +SSH login +pass +logged in as root$/m);
      expect(r.out).toMatch(/^wrongpw \(127\.0\.0\.1\) +SSH login +fail .*\n +fix: \S/m);
      expect(r.out).toMatch(/^gone \(127\.0\.0\.1\) +SSH reachable +fail .*ECONNREFUSED.*\n +fix: \S/m);
      expect(r.out).toMatch(/^\(all hosts\) +Time skew between hosts/m);
      expect(r.out).toMatch(/\npre-flight fail: \d+ pass, \d+ warn, [1-9]\d* fail in [\d.]+ s\n$/);
      const only = JSON.parse((await sprout(['preflight', 'pf', '--node', 'good', '-o', 'json'])).out) as {
        hosts: { host: string }[];
      };
      expect(only.hosts.map((h) => h.host)).toEqual(['good']);
    } finally {
      await sshd.close();
    }
  });

  it("runs kk with the saved config, streams its lines and exits with kk's status; kk missing is a usage error", async () => {
    const file = configFile(
      'lab',
      [
        `{name: node1, address: 192.168.0.11, internalAddress: 192.168.0.11, user: root, password: ${SECRET}}`,
        `{name: node2, address: 192.168.0.12, internalAddress: 192.168.0.12, user: root, password: ${SECRET}}`,
      ],
      '{etcd: [node1], control-plane: [node1], worker: [node1, node2]}',
    );
    expect((await sprout(['import', '-f', file])).code).toBe(0);
    const env = { ...withKk, FAKE_KK_DIR: control, FAKE_KK_SECRET: SECRET };
    writeFileSync(join(control, 'lines'), '3');
    const ok = await sprout(['create', 'lab'], env);
    expect(ok.code).toBe(0);
    const out = ok.out.split('\n');
    expect(out[0]).toMatch(/^kk create cluster -f \S+\/lab\.yaml --yes$/);
    expect(out[1]).toMatch(/ mode 600$/);
    expect(out).toContain('config holds the password');
    expect(out.filter((l) => / \[Module\d\] step \d of 3$/.test(l))).toHaveLength(3);
    expect(ok.err).toMatch(
      /^run \S+: kk create cluster -f lab\.yaml --yes\nwarning: a kk warning on stderr\nrun \S+ succeeded in [\d.]+ s\n$/,
    );
    // The clear config is gone; the run is kept like the console's.
    expect(readdirSync(join(dataDir, 'kubekey', 'run-tmp'))).toEqual([]);
    expect(readdirSync(join(dataDir, 'kubekey', 'clusters', 'lab', 'runs'))).toHaveLength(2);

    writeFileSync(join(control, 'exit'), '3');
    const failed = await sprout(['delete-node', 'lab', 'node2'], env);
    expect(failed.code).toBe(3);
    expect(failed.out).toMatch(/^kk delete node node2 -f \S+ *\n[\s\S]*^stdin: yes$/m);
    expect(failed.err).toMatch(/run \S+ failed in/);
    writeFileSync(join(control, 'exit'), '0');
    expect((await sprout(['upgrade', 'lab', '--with-kubernetes', 'v1.29.15'], env)).code).toBe(0);
    expect((await sprout(['ls'])).out).toMatch(/^lab +2 +v1\.29\.15 /m);
    expect((await sprout(['upgrade', 'lab'], env)).err).toMatch(/SPROUT_ERR_CONSOLE_CLUSTER_REQUEST_INVALID/);

    const missing = await sprout(['create', 'lab'], { SPROUT_DATA_DIR: dataDir, PATH: '/nonexistent' });
    expect(missing).toMatchObject({ code: 2, out: '' });
    expect(missing.err).toBe(
      'error: kk is not on PATH: install KubeKey v3 (https://github.com/kubesphere/kubekey/releases), put kk on PATH and run this again. It runs: kk create cluster -f lab.yaml --yes\n',
    );
  });
});
