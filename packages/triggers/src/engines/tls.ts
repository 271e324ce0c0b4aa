import type { Metadata } from './metadata.js';

/** Dapr's TLS keys of a component (PEM text): the broker's CA, and a client certificate and key. */
export const TLS_KEYS = ['caCert', 'clientCert', 'clientKey'] as const;

/** The TLS options of Node's `tls.connect` that `caCert`, `clientCert` and `clientKey` give. */
export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
}

/**
 * Reads `caCert`, `clientCert` and `clientKey` as Dapr checks them (PEM; certificate and key
 * together). They need a TLS connection: `tls` says whether the component's url is one, and `how`
 * names the way to ask for it in the message. Without `caCert` the system's CAs verify the broker.
 */
export function readTlsMaterial(md: Metadata, tls: boolean, how: string): TlsMaterial {
  const [ca, cert, key] = TLS_KEYS.map((k) => md.string(k) || undefined);
  const pem = (k: string, v: string | undefined, kind: RegExp) => {
    if (v !== undefined && !kind.test(v)) throw md.invalid(k, 'must be PEM text (-----BEGIN …-----)');
  };
  pem('caCert', ca, /-----BEGIN CERTIFICATE-----/);
  pem('clientCert', cert, /-----BEGIN CERTIFICATE-----/);
  pem('clientKey', key, /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  if (Boolean(cert) !== Boolean(key))
    throw md.invalid(cert ? 'clientKey' : 'clientCert', 'clientCert and clientKey go together');
  if (!ca && !cert) return {};
  if (!tls) throw md.invalid(ca ? 'caCert' : 'clientCert', `needs a TLS connection (${how})`);
  return { ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) };
}
