import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeServer, freePort, listen } from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClusterApi,
  defaultCluster,
  type ClusterApi,
  type PreflightReport,
} from '../src/kubekey/index.js';
import { PASSWORD, PASSWORD_USER, SSHD, startSshd, type TestSshd } from '../src/testing.js';

// Under CI a missing sshd fails; elsewhere too: scripts/setup.sh installs openssh-server.
if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: run scripts/setup.sh (openssh-server)`);

const here = (cmd: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], {
      stdio: 'ignore',
      env: { ...process.env, PATH: `${process.env.PATH}:/usr/local/sbin:/usr/sbin:/sbin` },
    });
    return true;
  } catch {
    return false;
  }
};

describe('SSH pre-flight against a real sshd', () => {
  let sshd: TestSshd;
  let api: ClusterApi;
  let server: Server;
  let base: string;
  let dataDir: string;
  let etcdPeer: NetServer;
  let report: PreflightReport;

  beforeAll(async () => {
    sshd = await startSshd();
    dataDir = mkdtempSync(join(tmpdir(), 'sprout-kk-preflight-'));
    api = createClusterApi({ dataDir });
    server = createServer((req, res) => void api.handle(req, res, new URL(req.url!, 'http://x')));
    base = `http://127.0.0.1:${await listen(server)}`;
    // Something holds etcd's peer port on this machine (or already did): the check must see it.
    etcdPeer = createNetServer();
    await new Promise<void>((r) => etcdPeer.once('error', () => r()).listen(2380, '127.0.0.1', () => r()));
    const closed = await freePort();
    const hostArch = arch() === 'arm64' ? 'arm64' : 'amd64';
    const c = defaultCluster('preflight');
    c.spec.hosts = [
      {
        name: 'good',
        address: '127.0.0.1',
        port: sshd.port,
        user: 'root',
        privateKey: sshd.privateKey,
        arch: hostArch,
      },
      {
        name: 'byPassword',
        address: '127.0.0.1',
        port: sshd.port,
        user: PASSWORD_USER,
        password: PASSWORD,
        arch: hostArch,
      },
      {
        name: 'wrongpw',
        address: '127.0.0.1',
        port: sshd.port,
        user: PASSWORD_USER,
        password: 'not-the-password',
      },
      { name: 'gone', address: '127.0.0.1', port: closed, user: 'root', password: 'x' },
    ].map((h) => ({ ...h, name: h.name.toLowerCase() }));
    c.spec.roleGroups = {
      etcd: ['good'],
      'control-plane': ['good'],
      worker: ['good', 'bypassword', 'wrongpw', 'gone'],
    };
    const saved = await fetch(`${base}/v1/clusters`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ config: c }),
    });
    expect(saved.status).toBe(201);
    const res = await fetch(`${base}/v1/clusters/preflight/preflight`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    report = (await res.json()) as PreflightReport;
  }, 60_000);

  afterAll(async () => {
    await new Promise((r) => etcdPeer.close(r));
    await closeServer(server);
    await api.close();
    await sshd?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const host = (name: string) => report.hosts.find((h) => h.host === name)!;
  const check = (name: string, id: string) => host(name).checks.find((c) => c.id === id);

  it('logs in with a key (root) and a password, and reads the host', () => {
    expect(check('good', 'reachable')?.status).toBe('pass');
    expect(check('good', 'reachable')?.detail).toMatch(/host key SHA256:/);
    expect(check('good', 'auth')?.status).toBe('pass');
    expect(check('good', 'sudo')).toMatchObject({ status: 'pass', detail: 'logged in as root' });
    expect(check('good', 'os')?.status).toBe('pass');
    expect(check('good', 'arch')?.status).toBe('pass');
    expect(check('bypassword', 'auth')).toMatchObject({
      status: 'pass',
      detail: `logged in as ${PASSWORD_USER}`,
    });
  });

  it('reports each required command as this machine has it, with the install command when missing', () => {
    for (const cmd of ['socat', 'conntrack', 'ebtables', 'ipset', 'ipvsadm', 'curl']) {
      const c = check('good', `command:${cmd}`)!;
      expect(c.status, cmd).toBe(here(cmd) ? 'pass' : 'fail');
      if (c.status === 'fail') expect(c.fix).toContain(`apt-get install -y ${cmd}`);
    }
  });

  it('fails sudo for a user without passwordless sudo, with the sudoers line to add', () => {
    const sudo = check('bypassword', 'sudo')!;
    expect(sudo.status).toBe('fail');
    expect(sudo.fix).toContain(`${PASSWORD_USER} ALL=(ALL) NOPASSWD:ALL`);
  });

  it('sees a port already taken (etcd peers, 2380)', () => {
    expect(check('good', 'port:2380')).toMatchObject({ status: 'fail' });
    expect(check('good', 'port:2380')!.fix).toContain('ss -ltnp');
    // The worker-only host is not asked about control-plane and etcd ports.
    expect(check('bypassword', 'port:6443')).toBeUndefined();
  });

  it('fails a wrong password and an unreachable host, each with its fix', () => {
    expect(check('wrongpw', 'reachable')?.status).toBe('pass');
    expect(check('wrongpw', 'auth')).toMatchObject({ status: 'fail' });
    expect(check('wrongpw', 'auth')!.fix).toContain('PasswordAuthentication');
    expect(host('wrongpw').status).toBe('fail');
    expect(check('gone', 'reachable')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('ECONNREFUSED'),
    });
    expect(check('gone', 'reachable')!.fix).toContain('sshd runs on gone');
  });

  it('compares the hosts: same clock, and the two logins on one machine are caught as duplicates', () => {
    const c = (id: string) => report.cluster.find((x) => x.id === id)!;
    expect(c('time-skew').status).toBe('pass');
    expect(c('duplicate-machine')).toMatchObject({
      status: 'fail',
      detail: 'good, bypassword are the same machine',
    });
    expect(c('duplicate-hostname').status).toBe('fail');
    expect(report.status).toBe('fail');
  });
});
