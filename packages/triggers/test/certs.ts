// Certificates for TLS tests, made by openssl in a temp folder: a CA, a server certificate for
// 127.0.0.1 / localhost, a client certificate of that CA, and a client certificate of another CA;
// with them Dapr's TLS metadata, and the check every TLS broker test makes that untrusted clients
// (or a client not trusting the broker) are refused.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { isTriggersError } from '../src/index.js';

/** Dapr's TLS metadata keys (caCert, clientCert, clientKey), PEM text. */
export interface TlsMetadata {
  caCert: string;
  clientCert?: string;
  clientKey?: string;
}

export interface TestCerts {
  /** The folder the files are in (`ca.crt`, `server.crt`/`.key`, `keda.crt`/`.key`, `rogue.crt`/`.key`, `rogue-ca.crt`). */
  readonly dir: string;
  /** A file's PEM bytes. */
  read(file: string): Buffer;
  /** Removes the folder. */
  remove(): void;
  /** Trusts the CA and presents its client certificate (`keda`): what the broker accepts. */
  tls(): Required<TlsMetadata>;
}

/**
 * Opens a client with each TLS setting the broker must refuse (no client certificate, one of another
 * CA, the broker's CA not trusted) and expects SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE each time.
 */
export async function expectUntrustedRefused(
  certs: TestCerts,
  open: (md: TlsMetadata) => Promise<{ close(): Promise<void> }>,
): Promise<void> {
  const pem = (f: string) => certs.read(f).toString();
  const { caCert, clientCert, clientKey } = certs.tls();
  for (const [what, md] of [
    ['no client certificate', { caCert }],
    ['another CA', { caCert, clientCert: pem('rogue.crt'), clientKey: pem('rogue.key') }],
    ['broker not trusted', { caCert: pem('rogue-ca.crt'), clientCert, clientKey }],
  ] as const) {
    const err = await open(md).then(
      async (e) => {
        await e.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(isTriggersError(err, 'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE'), `${what}: ${String(err)}`).toBe(
      true,
    );
  }
}

export function makeCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'sprout-certs-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ca = (name: string) =>
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
    );
  const leaf = (name: string, caName: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${caName}.crt`,
      '-CAkey',
      `${caName}.key`,
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    );
  };
  ca('ca');
  ca('rogue-ca');
  leaf('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('keda', 'ca', 'extendedKeyUsage=clientAuth\n');
  leaf('rogue', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
  const read = (file: string) => readFileSync(join(dir, file));
  return {
    dir,
    read,
    remove: () => rmSync(dir, { recursive: true, force: true }),
    tls: () => ({
      caCert: read('ca.crt').toString(),
      clientCert: read('keda.crt').toString(),
      clientKey: read('keda.key').toString(),
    }),
  };
}
