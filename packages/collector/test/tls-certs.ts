import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './helpers.js';

/** PEM files of a throw-away CA, a server certificate for 127.0.0.1 and a client certificate. */
export interface TestCerts {
  dir: string;
  ca: string;
  serverCrt: string;
  serverKey: string;
  /** The server key encrypted with the passphrase `secret`. */
  serverKeyEncrypted: string;
  clientCrt: string;
  clientKey: string;
  /** A certificate signed by nobody the server trusts. */
  otherCrt: string;
  otherKey: string;
}

const openssl = (dir: string, args: string[]) => run('openssl', args, { cwd: dir });

async function signed(dir: string, name: string, cn: string, ext: string, ca = 'ca'): Promise<void> {
  await openssl(dir, [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${cn}`,
  ]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    `${name}.crt`,
    '-extfile',
    `${name}.ext`,
  ]);
}

/** Makes the certificates with the openssl CLI in a fresh temporary folder (a second or so). */
export async function makeTestCerts(): Promise<TestCerts> {
  const dir = mkdtempSync(join(tmpdir(), 'collector-tls-'));
  for (const ca of ['ca', 'otherca'])
    await openssl(dir, [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=sprout test ${ca}`,
    ]);
  await signed(
    dir,
    'server',
    '127.0.0.1',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  await signed(dir, 'client', 'test client', 'extendedKeyUsage=clientAuth\n');
  await signed(dir, 'other', 'stranger', 'extendedKeyUsage=clientAuth\n', 'otherca');
  await openssl(dir, [
    'pkey',
    '-in',
    'server.key',
    '-aes256',
    '-passout',
    'pass:secret',
    '-out',
    'server-enc.key',
  ]);
  const p = (n: string) => join(dir, n);
  return {
    dir,
    ca: p('ca.crt'),
    serverCrt: p('server.crt'),
    serverKey: p('server.key'),
    serverKeyEncrypted: p('server-enc.key'),
    clientCrt: p('client.crt'),
    clientKey: p('client.key'),
    otherCrt: p('other.crt'),
    otherKey: p('other.key'),
  };
}
