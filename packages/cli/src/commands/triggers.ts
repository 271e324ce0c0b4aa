import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createLogger } from '@sprout/observe';
import { parseDuration, untilSignal } from '@sprout/http';
import { MqttExternalScaler } from '@sprout/triggers';
import { defineCommand, UsageError, type Command } from '../command.js';

const mqttScaler = defineCommand({
  name: 'triggers mqtt-scaler',
  summary: "Serve KEDA's external scaler gRPC API for Sprout's mqtt trigger",
  usage:
    'sprout triggers mqtt-scaler [--url mqtt://broker:1883] [--port 9090] [--listen-address ADDR] [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]',
  options: {
    url: {
      type: 'string',
      env: 'SPROUT_MQTT_URL',
      value: 'URL',
      description: "The broker (tcp://, mqtt://, ssl://, mqtts://) when a trigger's metadata has no url",
    },
    port: { type: 'string', default: '9090', value: 'PORT', description: 'gRPC port (0 picks a free one)' },
    'listen-address': {
      type: 'string',
      default: '127.0.0.1',
      value: 'ADDR',
      description: 'Address to bind (0.0.0.0 in a cluster, where KEDA calls it)',
    },
    window: {
      type: 'string',
      default: '30s',
      value: 'DURATION',
      description: 'The backlog is what the topic received in this window',
    },
    'max-topics': { type: 'string', default: '100', value: 'N', description: 'Topics watched at most' },
    'max-connections': {
      type: 'string',
      default: '64',
      value: 'N',
      description: 'Open connections at most (over it the oldest idle one is closed, else the new one)',
    },
    'tls-cert': {
      type: 'string',
      value: 'FILE',
      description: "Serve TLS with this PEM certificate (KEDA's enableTLS)",
    },
    'tls-key': { type: 'string', value: 'FILE', description: 'The PEM key of --tls-cert' },
    'tls-client-ca': {
      type: 'string',
      value: 'FILE',
      description: "Require client certificates of this PEM CA (KEDA's tlsClientCert/tlsClientKey)",
    },
    'broker-ca': {
      type: 'string',
      value: 'FILE',
      description: "The broker's PEM CA, for an ssl:// or mqtts:// url",
    },
    'broker-cert': {
      type: 'string',
      value: 'FILE',
      description: 'A PEM client certificate for the broker (with --broker-key)',
    },
    'broker-key': { type: 'string', value: 'FILE', description: 'The PEM key of --broker-cert' },
  },
  details: `
KEDA has no MQTT scaler, so 'sprout deploy --render' turns an mqtt trigger into KEDA's 'external'
trigger whose scalerAddress is this server (externalscaler.ExternalScaler: IsActive,
StreamIsActive, GetMetricSpec, GetMetrics). The trigger's metadata is read as sprout dev reads it:
topic (required), targetValue (10), activationTargetValue (0), and url (else --url). The value is
the number of messages published to the topic in the last --window, seen by the scaler's own QoS 1
subscription (MQTT brokers show no queue depth); it takes nothing from the function's subscription.

Limits: --max-connections, 64 KiB requests, 100 calls a connection, a connection with no call
quiet for 60 s is closed, a call is answered within 10 s, a StreamIsActive call ends (OK) after
5 minutes and KEDA opens it again. Plaintext by default, as KEDA calls external scalers; with --tls-cert/--tls-key it
serves TLS (the trigger's enableTLS: "true" and caCert), with --tls-client-ca only clients with a
certificate of that CA get in (KEDA's tlsClientCert/tlsClientKey). --broker-ca, --broker-cert and
--broker-key are for a TLS broker (Dapr's caCert, clientCert, clientKey of the MQTT component).

Example:
  sprout triggers mqtt-scaler --url tcp://mosquitto:1883 --listen-address 0.0.0.0`,
  async run(opts, _positionals, io) {
    const port = Number(opts.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port must be a port number, got '${opts.port}'`);
    const windowMs = parseDuration(opts.window);
    if (windowMs === undefined || windowMs <= 0)
      throw new UsageError(`--window must be a duration such as 30s, got '${opts.window}'`);
    const maxTopics = Number(opts['max-topics']);
    if (!Number.isInteger(maxTopics) || maxTopics < 1)
      throw new UsageError(`--max-topics must be a whole number ≥ 1, got '${opts['max-topics']}'`);
    const maxConnections = Number(opts['max-connections']);
    if (!Number.isInteger(maxConnections) || maxConnections < 1)
      throw new UsageError(`--max-connections must be a whole number ≥ 1, got '${opts['max-connections']}'`);
    const tls = readTls(opts, io.cwd);
    const brokerTls = readBrokerTls(opts, io.cwd);
    const log = createLogger({ name: 'mqtt-scaler', destination: io.stderr });
    const scaler = await MqttExternalScaler.listen(
      {
        ...(opts.url ? { url: opts.url } : {}),
        windowMs,
        maxTopics,
        limits: { maxConnections },
        ...(tls ? { tls } : {}),
        ...(brokerTls ? { brokerTls } : {}),
        logger: log,
      },
      port,
      opts['listen-address'],
    );
    log.info(
      { address: scaler.address, broker: opts.url, tls: tls ? (tls.clientCa ? 'mutual' : 'server') : 'off' },
      'KEDA external scaler for mqtt listening',
    );
    const signal = await untilSignal();
    log.info({ signal }, 'shutting down');
    await scaler.close();
    return 0;
  },
});

/** The PEM files of --tls-cert/--tls-key/--tls-client-ca, read now so a wrong path fails at start. */
function readTls(
  opts: { 'tls-cert'?: string; 'tls-key'?: string; 'tls-client-ca'?: string },
  cwd: string,
): { cert: Buffer; key: Buffer; clientCa?: Buffer } | undefined {
  const [cert, key, ca] = [opts['tls-cert'], opts['tls-key'], opts['tls-client-ca']];
  if (!cert && !key && !ca) return undefined;
  if (!cert || !key)
    throw new UsageError('--tls-cert and --tls-key go together (--tls-client-ca needs both)');
  return {
    cert: read('--tls-cert', cert, cwd),
    key: read('--tls-key', key, cwd),
    ...(ca ? { clientCa: read('--tls-client-ca', ca, cwd) } : {}),
  };
}

/** --broker-ca/--broker-cert/--broker-key as Dapr's caCert/clientCert/clientKey (PEM text). */
function readBrokerTls(
  opts: { 'broker-ca'?: string; 'broker-cert'?: string; 'broker-key'?: string },
  cwd: string,
): { caCert?: string; clientCert?: string; clientKey?: string } | undefined {
  const [ca, cert, key] = [opts['broker-ca'], opts['broker-cert'], opts['broker-key']];
  if (!ca && !cert && !key) return undefined;
  if (Boolean(cert) !== Boolean(key)) throw new UsageError('--broker-cert and --broker-key go together');
  const text = (flag: string, file: string) => read(flag, file, cwd).toString('utf8');
  return {
    ...(ca ? { caCert: text('--broker-ca', ca) } : {}),
    ...(cert && key ? { clientCert: text('--broker-cert', cert), clientKey: text('--broker-key', key) } : {}),
  };
}

function read(flag: string, file: string, cwd: string): Buffer {
  try {
    return readFileSync(resolve(cwd, file));
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(err as Error).message}`);
  }
}

export default defineCommand({
  name: 'triggers',
  summary: 'Event triggers: the KEDA external scaler for mqtt',
  usage: 'sprout triggers <command> [options]',
  options: {},
  subcommands: [mqttScaler as unknown as Command],
});
