import { describe, expect, it } from 'vitest';
import { runMain } from '../../test/main-io.js';

describe('sprout triggers mqtt-scaler refuses bad TLS and limit flags before listening', () => {
  it.each([
    [['--tls-cert', 'server.crt'], /--tls-cert and --tls-key go together/],
    [['--tls-client-ca', 'ca.crt'], /--tls-cert and --tls-key go together/],
    [['--tls-cert', 'no-such.crt', '--tls-key', 'no-such.key'], /--tls-cert: cannot read no-such.crt/],
    [['--max-connections', '0'], /--max-connections must be a whole number/],
    [['--broker-cert', 'client.crt'], /--broker-cert and --broker-key go together/],
    [['--broker-ca', 'no-such-ca.crt'], /--broker-ca: cannot read no-such-ca.crt/],
  ])('%j', async (flags, message) => {
    const r = await runMain(['triggers', 'mqtt-scaler', '--port', '0', ...flags]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });
});
