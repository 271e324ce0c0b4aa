// `@sprout/console/testing`: what the KubeKey installer's tests (here and in `sprout cluster`) share.
// A real OpenSSH server for the pre-flight: started on a free loopback port with its own host key,
// authorized_keys and config in a temp folder, stopped by close(). One dedicated local user with a
// password (created once, idempotently) covers password logins; keys log in as root. And the folder
// of the stand-in `kk` (test/fake-kk), to put on PATH.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@sprout/http/testing';

/** The folder holding the stand-in `kk` (see its header for the `FAKE_KK_DIR` controls). */
export const FAKE_KK_BIN = fileURLToPath(new URL('../test/fake-kk', import.meta.url));

export const SSHD = '/usr/sbin/sshd';
export const PASSWORD_USER = 'sprout-kk-test';
export const PASSWORD = 'kk-preflight-pw-1';

export interface TestSshd {
  port: number;
  /** The client's private key (OpenSSH PEM), authorized for root. */
  privateKey: string;
  close(): Promise<void>;
}

function ensurePasswordUser(): void {
  try {
    execFileSync('id', [PASSWORD_USER], { stdio: 'ignore' });
  } catch {
    try {
      execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', PASSWORD_USER], { stdio: 'ignore' });
    } catch {
      // Another test file may have created it a moment ago (test files run in parallel).
      execFileSync('id', [PASSWORD_USER], { stdio: 'ignore' });
    }
  }
  execFileSync('chpasswd', { input: `${PASSWORD_USER}:${PASSWORD}\n` });
}

export async function startSshd(): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'sprout-sshd-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')), { mode: 0o600 });
  ensurePasswordUser();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation folder
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'MaxStartups 50',
    'LogLevel ERROR',
  ].join('\n');
  writeFileSync(join(dir, 'sshd_config'), `${config}\n`);
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${stderr}`);
    if (await canConnect(port)) break;
    if (i > 100) throw new Error(`sshd did not listen on ${port}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    privateKey: readFileSync(join(dir, 'client_key'), 'utf8'),
    async close() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}
