// Debian's docker-registry (distribution 2.8) for tests (`@sprout/builder/testing`): its own
// config, storage and port on loopback; optionally htpasswd auth, TLS with a CA made by openssl,
// or token auth.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { closeServer, freePort, listen } from '@sprout/http/testing';

const run = promisify(execFile);

export interface Pki {
  dir: string;
  caPem: string;
  /** A folder holding ca.crt, as skopeo's --cert-dir wants. */
  certDir: string;
}

/** A CA and a server certificate for 127.0.0.1/localhost, plus a token-signing certificate, made by openssl. */
export async function makePki(dir: string): Promise<Pki> {
  const ossl = (...args: string[]) => run('openssl', args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await ossl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=sprout test CA',
  );
  await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const name of ['server', 'token']) {
    await ossl(
      'req',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name === 'server' ? '127.0.0.1' : 'sprout test token issuer'}`,
    );
    await ossl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      'san.ext',
    );
  }
  const certDir = join(dir, 'certs');
  await run('mkdir', ['-p', certDir]);
  await run('cp', [join(dir, 'ca.crt'), join(certDir, 'ca.crt')]);
  return { dir, caPem: await readFile(join(dir, 'ca.crt'), 'utf8'), certDir };
}

export interface Registry {
  /** host:port */
  host: string;
  close(): Promise<void>;
}

export interface RegistryOptions {
  pki?: Pki;
  /** htpasswd users (bcrypt, made with `htpasswd -Bbn`). */
  users?: Record<string, string>;
  /** Token auth: the realm URL of a token server (see `startTokenServer`), signed by pki's token cert. */
  tokenRealm?: string;
}

export async function startRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const dir = await mkdtemp(join(tmpdir(), 'sprout-builder-registry-'));
  const port = await freePort();
  let auth = '';
  if (options.users) {
    const lines: string[] = [];
    for (const [user, pass] of Object.entries(options.users))
      lines.push((await run('htpasswd', ['-Bbn', user, pass])).stdout.trim());
    await writeFile(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
    auth = `auth:\n  htpasswd:\n    realm: sprout-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (options.tokenRealm && options.pki) {
    auth = `auth:\n  token:\n    realm: ${options.tokenRealm}\n    service: sprout-test-registry\n    issuer: sprout-test-issuer\n    rootcertbundle: ${join(options.pki.dir, 'ca.crt')}\n`;
  }
  const tls = options.pki
    ? `  tls:\n    certificate: ${join(options.pki.dir, 'server.crt')}\n    key: ${join(options.pki.dir, 'server.key')}\n`
    : '';
  await writeFile(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: sprout-test-secret\n${tls}${auth}`,
  );
  const proc: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<never>((_, reject) => {
    proc.once('error', (e) =>
      reject(new Error(`cannot run docker-registry (scripts/setup.sh installs it): ${e.message}`)),
    );
    proc.once('exit', (code) => reject(new Error(`docker-registry exited ${code}: ${stderr}`)));
  });
  const host = `127.0.0.1:${port}`;
  const ready = (async () => {
    for (let i = 0; i < 200; i++) {
      try {
        await new Promise<void>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => {
            socket.destroy();
            resolve();
          });
          socket.once('error', reject);
        });
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new Error(`docker-registry did not listen on ${host}: ${stderr}`);
  })();
  await Promise.race([ready, exited]);
  exited.catch(() => undefined);
  return {
    host,
    async close() {
      proc.removeAllListeners('exit');
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * A token endpoint of the distribution token-auth spec: checks Basic credentials and issues an
 * ES256 JWT the registry verifies against the test CA. It exists because nothing on this machine
 * issues registry tokens; the registry that checks them is the real one.
 */
export async function startTokenServer(
  pki: Pki,
  users: Record<string, string>,
): Promise<{ realm: string; issued: () => number; close(): Promise<void> }> {
  const key = createPrivateKey(await readFile(join(pki.dir, 'token.key')));
  const certDer = Buffer.from(
    (await readFile(join(pki.dir, 'token.crt'), 'utf8')).replace(/-----[^-]+-----|\s/g, ''),
    'base64',
  );
  let issued = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const [user, pass] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':');
    if (!user || users[user] !== pass) {
      res.writeHead(401).end();
      return;
    }
    const access = url.searchParams.getAll('scope').flatMap((s) => {
      const [type, name, actions] = s.split(':');
      return type && name && actions ? [{ type, name, actions: actions.split(',') }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c: [certDer.toString('base64')] };
    const claims = {
      iss: 'sprout-test-issuer',
      sub: user,
      aud: url.searchParams.get('service'),
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: String(++issued),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token: `${input}.${b64url(signature)}`, expires_in: 300 }));
  });
  const port = await listen(server);
  return { realm: `http://127.0.0.1:${port}/token`, issued: () => issued, close: () => closeServer(server) };
}
