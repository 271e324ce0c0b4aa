/**
 * KEDA's metadata names per scaler, as KEDA v2.16 documents them (keda.sh/docs/2.16/scalers:
 * nats-jetstream, redis-streams, rabbitmq-queue, cron, external; checked against kedacore/keda
 * pkg/scalers/*_scaler.go). `scaling` are the names the local scaler reads; `connection` are those a
 * cluster's scaler uses to reach the broker (locally the lag is read through the function's own Dapr
 * component, so they change nothing here and are kept for the cluster); `refused` are KEDA names that
 * would change what is measured and that the local scaler does not honour, with the values that are
 * still fine. `<name>FromEnv` is KEDA's way to read a name from the scale target's environment.
 */
interface ScalerNames {
  readonly scaling: readonly string[];
  readonly connection: readonly string[];
  /** Names KEDA reads only from the environment or a TriggerAuthentication: as metadata, `<name>FromEnv`. */
  readonly envOnly?: readonly string[];
  readonly refused?: Readonly<Record<string, { readonly ok: readonly string[]; readonly why: string }>>;
}

const KEDA_VERSION = '2.16';

const NAMES: Readonly<Record<string, ScalerNames>> = {
  'nats-jetstream': {
    scaling: ['stream', 'consumer', 'lagThreshold', 'activationLagThreshold'],
    connection: ['account', 'natsServerMonitoringEndpoint', 'useHttps'],
  },
  'redis-streams': {
    scaling: [
      'stream',
      'consumerGroup',
      'pendingEntriesCount',
      'streamLength',
      'lagCount',
      'activationLagCount',
    ],
    connection: [
      'address',
      'host',
      'port',
      'username',
      'password',
      'databaseIndex',
      'enableTLS',
      'unsafeSsl',
    ],
  },
  rabbitmq: {
    scaling: ['queueName', 'mode', 'value', 'activationValue', 'queueLength'],
    connection: ['host', 'protocol', 'vhostName', 'timeout', 'unsafeSsl', 'pageSize', 'operation'],
    envOnly: ['username', 'password'],
    refused: {
      useRegex: {
        ok: ['false'],
        why: 'the local scaler reads the one queue the function consumes, not queues matching a pattern',
      },
      excludeUnacknowledged: {
        ok: ['false'],
        why: 'the local scaler counts the messages taken and not yet acknowledged (in flight) too',
      },
    },
  },
  cron: { scaling: ['timezone', 'start', 'end', 'desiredReplicas'], connection: [] },
  // Sprout's own; a cluster renders it as KEDA `external`, whose names are the connection ones.
  mqtt: {
    scaling: ['topic', 'targetValue', 'activationTargetValue'],
    connection: [
      'url',
      'scalerAddress',
      'caCert',
      'tlsCertFile',
      'tlsClientCert',
      'tlsClientKey',
      'enableTLS',
      'unsafeSsl',
    ],
  },
};

/** Why a key cannot stay: `meant` for a name written in the wrong case, else the reason. */
export type KeyProblem = { key: string; message: string };

/**
 * The first key of a trigger's metadata that Sprout would not honour: a name in the wrong case
 * (KEDA reads names case-sensitively, so it would be ignored there as here), a refused KEDA name
 * with a value the local scaler cannot follow, or a key that is no KEDA name of the scaler.
 */
export function kedaKeyProblem(type: string, meta: Readonly<Record<string, string>>): KeyProblem | undefined {
  const names = NAMES[type];
  if (!names) return undefined;
  const refused = names.refused ?? {};
  const all = [...names.scaling, ...names.connection, ...Object.keys(refused)];
  const fromEnv = [...all, ...(names.envOnly ?? [])];
  for (const [key, value] of Object.entries(meta)) {
    const env = key.endsWith('FromEnv');
    const base = env ? key.slice(0, -'FromEnv'.length) : key;
    if ((env ? fromEnv : all).includes(base)) {
      const r = refused[base];
      if (r && !r.ok.includes(value.trim().toLowerCase()))
        return {
          key,
          message: `"${key}: ${value}" is KEDA's but not honoured locally: ${r.why}; remove it or set ${r.ok.join(' or ')}`,
        };
      continue;
    }
    const meant = (env ? fromEnv : all).find((n) => n.toLowerCase() === base.toLowerCase());
    if (meant)
      return {
        key,
        message: `KEDA's metadata names are case-sensitive: "${key}" would be ignored; write "${env ? `${meant}FromEnv` : meant}"`,
      };
    if (!env && names.envOnly?.includes(key))
      return {
        key,
        message: `KEDA reads "${key}" only from the environment or a TriggerAuthentication; write "${key}FromEnv"`,
      };
    return {
      key,
      message:
        `"${key}" is not a metadata name of KEDA's ${type} scaler (KEDA ${KEDA_VERSION}), so it would be ignored; ` +
        `the names are ${names.scaling.join(', ')}` +
        (names.connection.length ? `; for a cluster's connection ${names.connection.join(', ')}` : '') +
        (Object.keys(refused).length ? `; not followed locally ${Object.keys(refused).join(', ')}` : '') +
        ' (any of them also as <name>FromEnv)',
    };
  }
  return undefined;
}
