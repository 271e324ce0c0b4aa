// The documented metadata of each state component Sprout runs, as Dapr's components-contrib
// metadata.yaml files list it (state/redis, state/postgresql/v1 and v2, state/sqlite,
// state/in-memory; copies in test/fixtures/components-contrib, a test keeps the two in step).
// Each key is one of:
//   'use'      Sprout honours it (component.ts reads it);
//   'tuning'   a client tuning knob (pools, retries, idle times) with no effect on semantics: accepted;
//   string[]   values Sprout can honour (case-insensitive); empty is always fine. Any other value is
//              refused, naming the key, because running without it would behave differently.
// A key no schema lists is a warning, not a refusal, as Dapr does.

type Rule = 'use' | 'tuning' | string[];

/** Keys Dapr accepts on every state component. */
const COMMON: Record<string, Rule> = {
  keyPrefix: 'use',
  actorStateStore: 'use',
  outboxPublishPubsub: [''],
  outboxPublishTopic: [''],
  outboxPubsub: [''],
  outboxDiscardWhenMissingState: ['false'],
};

const OFF = ['false'];
const NONE: string[] = [];

const REDIS: Record<string, Rule> = {
  redisHost: 'use',
  redisPort: 'use',
  redisUsername: 'use',
  redisPassword: 'use',
  redisDB: 'use',
  enableTLS: 'use',
  dialTimeout: 'use',
  queryIndexes: 'use',
  failover: OFF,
  sentinelMasterName: NONE,
  sentinelUsername: NONE,
  sentinelPassword: NONE,
  redisType: ['node'],
  insecureSkipTLSVerify: OFF,
  clientCert: NONE,
  clientKey: NONE,
  ttlInSeconds: NONE,
  useEntraID: OFF,
  useOIDC: OFF,
  oidcTokenEndpoint: NONE,
  oidcClientID: NONE,
  oidcClientAssertionCert: NONE,
  oidcClientAssertionKey: NONE,
  oidcResource: NONE,
  oidcAudience: NONE,
  oidcScopes: ['openid'],
  oidcKid: NONE,
  oidcCACert: NONE,
  redeliverInterval: 'tuning',
  processingTimeout: 'tuning',
  redisMaxRetries: 'tuning',
  redisMinRetryInterval: 'tuning',
  redisMaxRetryInterval: 'tuning',
  readTimeout: 'tuning',
  writeTimeout: 'tuning',
  poolSize: 'tuning',
  poolTimeout: 'tuning',
  maxConnAge: 'tuning',
  minIdleConns: 'tuning',
  idleCheckFrequency: 'tuning',
  idleTimeout: 'tuning',
};

const POSTGRES: Record<string, Rule> = {
  connectionString: 'use',
  host: 'use',
  hostaddr: 'use',
  port: 'use',
  database: 'use',
  user: 'use',
  password: 'use',
  timeout: 'use',
  tableName: 'use',
  metadataTableName: 'use',
  cleanupInterval: 'use',
  cleanupIntervalInSeconds: 'use', // older Dapr releases
  maxConns: 'use',
  connectionMaxIdleTime: 'tuning',
  queryExecMode: 'tuning',
  sslRootCert: NONE,
  useAzureAD: OFF,
  useAWSIAM: OFF,
  awsAccessKey: NONE,
  awsSecretKey: NONE,
};

/** The documented metadata of each locally run `state.*` type. */
const STATE_METADATA: Record<string, Record<string, Rule>> = {
  'state.redis': { ...COMMON, ...REDIS },
  'state.postgresql': { ...COMMON, ...POSTGRES, tablePrefix: NONE },
  'state.sqlite': {
    ...COMMON,
    connectionString: 'use',
    tableName: 'use',
    metadataTableName: 'use',
    timeout: 'use',
    busyTimeout: 'use',
    cleanupInterval: 'use',
    disableWAL: 'use',
    synchronous: 'use', // Sprout's own
  },
  'state.in-memory': { ...COMMON },
};

/**
 * Checks each metadata key of a component against its type's schema: a value Sprout cannot
 * honour is returned as the key and an error message naming it; unknown keys go to `warn`.
 */
export function checkMetadataKeys(
  type: string,
  md: Record<string, string>,
  warn: (message: string, name: string) => void,
): { name: string; message: string } | undefined {
  const schema = STATE_METADATA[type] ?? {};
  for (const [name, value] of Object.entries(md)) {
    const rule = schema[name];
    if (rule === undefined) {
      warn(`spec.metadata "${name}" is not documented for ${type}; it is ignored`, name);
      continue;
    }
    if (!Array.isArray(rule) || value === '') continue;
    if (!rule.some((ok) => ok.toLowerCase() === value.toLowerCase())) {
      const can = [...rule.map((v) => `"${v}"`), 'empty'].join(' or ');
      const message = `spec.metadata "${name}" is "${value}", which Sprout cannot honour locally (it runs with ${can}); remove it, or run this component on a Dapr sidecar`;
      return { name, message };
    }
  }
  return undefined;
}
