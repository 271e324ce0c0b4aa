import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, type TlsOptions } from 'node:tls';
import { z } from 'zod';
import { bool, refused } from '../config/values.js';
import { CollectorError } from '../errors.js';

const VERSION = z.enum(['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']);

/**
 * fluent-bit's TLS keys (administration/transport-security) for an input that serves TCP: spread
 * into its schema. An input is the server side, so the client-only keys are refused.
 */
export const tlsKeys = {
  tls: bool.default(false),
  'tls.verify': bool.default(true),
  'tls.ca_file': z.string().optional(),
  'tls.ca_path': z.string().optional(),
  'tls.crt_file': z.string().optional(),
  'tls.key_file': z.string().optional(),
  'tls.key_passwd': z.string().optional(),
  'tls.min_version': VERSION.optional(),
  'tls.max_version': VERSION.optional(),
  'tls.ciphers': z.string().optional(),
  'tls.vhost': refused('tls.vhost is the server name a client sends; an input is a server, so it has none'),
  'tls.verify_hostname': refused(
    'tls.verify_hostname checks the name of the server a client connects to; an input is a server',
  ),
  'tls.debug': refused(
    "tls.debug sets OpenSSL's debug level, which Node does not expose; failed handshakes are logged instead",
  ),
};

type TlsKeyValues = z.output<z.ZodObject<typeof tlsKeys>>;

function readPem(file: string, key: string, field: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CollectorError(
      'SPROUT_ERR_COLLECTOR_TLS',
      `cannot read ${key} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      `${field}.${key}`,
      { cause: err },
    );
  }
}

/**
 * The server options for node:tls, node:https or node:http2 from an input's TLS keys, or undefined
 * with `tls: off`. `tls.crt_file` and `tls.key_file` are required; with `tls.verify: on` and a CA
 * (`tls.ca_file` or the PEM files in `tls.ca_path`) clients must present a certificate that CA
 * signed (mutual TLS), as fluent-bit verifies peers. Files are read once, here; a file that cannot be
 * read or a key that does not match its certificate is SPROUT_ERR_COLLECTOR_TLS naming the key.
 */
export function serverTlsOptions(o: TlsKeyValues, field: string): TlsOptions | undefined {
  if (!o.tls) return undefined;
  for (const key of ['tls.crt_file', 'tls.key_file'] as const)
    if (!o[key])
      throw new CollectorError(
        'SPROUT_ERR_COLLECTOR_TLS',
        `tls is on but ${key} is not set (an input needs its certificate and key)`,
        `${field}.${key}`,
      );
  const ca: Buffer[] = [];
  if (o['tls.ca_file']) ca.push(readPem(o['tls.ca_file'], 'tls.ca_file', field));
  if (o['tls.ca_path']) {
    let names: string[];
    try {
      names = readdirSync(o['tls.ca_path']).filter((n) => /\.(pem|crt)$/i.test(n));
    } catch (err) {
      throw new CollectorError(
        'SPROUT_ERR_COLLECTOR_TLS',
        `cannot read tls.ca_path ${o['tls.ca_path']}: ${(err as NodeJS.ErrnoException).code}`,
        `${field}.tls.ca_path`,
      );
    }
    for (const n of names.sort()) ca.push(readPem(join(o['tls.ca_path'], n), 'tls.ca_path', field));
  }
  const verifyClients = o['tls.verify'] && ca.length > 0;
  const options: TlsOptions = {
    cert: readPem(o['tls.crt_file']!, 'tls.crt_file', field),
    key: readPem(o['tls.key_file']!, 'tls.key_file', field),
    ...(o['tls.key_passwd'] !== undefined ? { passphrase: o['tls.key_passwd'] } : {}),
    ...(ca.length ? { ca } : {}),
    requestCert: verifyClients,
    rejectUnauthorized: verifyClients,
    ...(o['tls.min_version'] ? { minVersion: o['tls.min_version'] } : {}),
    ...(o['tls.max_version'] ? { maxVersion: o['tls.max_version'] } : {}),
    ...(o['tls.ciphers'] ? { ciphers: o['tls.ciphers'] } : {}),
  };
  try {
    createSecureContext(options);
  } catch (err) {
    throw new CollectorError(
      'SPROUT_ERR_COLLECTOR_TLS',
      `the certificate, key, passphrase, CA or versions cannot be used: ${(err as Error).message}`,
      `${field}.tls.crt_file`,
      { cause: err },
    );
  }
  return options;
}
