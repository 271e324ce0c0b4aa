// Component metadata against Dapr's documented schemas (components-contrib metadata.yaml files,
// vendored in test/fixtures/components-contrib): every documented key is accepted, a value Sprout
// cannot honour is refused naming the key, an unknown key is a warning.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseComponent } from '@sprout/spec';
import { resolveEngineSettings } from '../src/index.js';
import { component } from './helpers.js';

const fixtures = join(import.meta.dirname, 'fixtures', 'components-contrib');

interface MetadataField {
  name: string;
  default?: string;
  example?: string;
  type?: string;
}
interface MetadataFile {
  metadata?: MetadataField[];
  authenticationProfiles?: { metadata?: MetadataField[] }[];
  builtinAuthenticationProfiles?: { metadata?: MetadataField[] }[];
}

function documented(file: string): MetadataField[] {
  const doc = parse(readFileSync(join(fixtures, file), 'utf8')) as MetadataFile;
  return [
    ...(doc.metadata ?? []),
    ...(doc.authenticationProfiles ?? []).flatMap((p) => p.metadata ?? []),
    ...(doc.builtinAuthenticationProfiles ?? []).flatMap((p) => p.metadata ?? []),
  ];
}

function settle(type: string, md: Record<string, string>) {
  const warnings: string[] = [];
  try {
    return {
      settings: resolveEngineSettings(component('s', type, md), {}, (w) => warnings.push(w)),
      warnings,
    };
  } catch (err) {
    return { error: err as Error & { code?: string }, warnings };
  }
}

const REQUIRED: Record<string, Record<string, string>> = {
  'state.redis': { redisHost: '127.0.0.1:6379' },
  'state.postgresql': { connectionString: 'host=127.0.0.1 user=postgres database=test' },
  'state.sqlite': {},
  'state.in-memory': {},
};

describe.each([
  ['state.redis', 'redis.metadata.yaml'],
  ['state.postgresql', 'postgresql-v1.metadata.yaml'],
  ['state.postgresql', 'postgresql-v2.metadata.yaml'],
  ['state.sqlite', 'sqlite.metadata.yaml'],
  ['state.in-memory', 'in-memory.metadata.yaml'],
])('%s against %s', (type, file) => {
  const fields = documented(file);

  it('accepts every documented key empty or at its documented default, without a warning', () => {
    for (const f of fields) {
      // some files quote their defaults inside the YAML string ('"false"')
      const dflt = f.default !== undefined ? [String(f.default).replace(/^"|"$/g, '')] : [];
      for (const value of ['', ...dflt]) {
        if (f.name in REQUIRED[type]! && value === '') continue;
        const { error, warnings } = settle(type, { ...REQUIRED[type], [f.name]: value });
        expect(error?.message, `${f.name}=${value}`).toBeUndefined();
        expect(warnings, f.name).toEqual([]);
      }
    }
  });

  it('either honours a documented example value or refuses it naming the key', () => {
    for (const f of fields) {
      if (f.example === undefined) continue;
      const value = String(f.example).trim().replace(/^"|"$/g, '');
      const { error } = settle(type, { ...REQUIRED[type], [f.name]: value });
      if (error) {
        expect(error.code, f.name).toBe('SPROUT_ERR_STATE_COMPONENT_INVALID');
        expect(error.message, f.name).toContain(`"${f.name}"`);
      }
    }
  });
});

describe('component metadata as Dapr takes it', () => {
  it('refuses Redis failover, sentinel, cluster and client certificates, naming the key', () => {
    for (const [key, value] of [
      ['failover', 'true'],
      ['sentinelMasterName', 'mymaster'],
      ['redisType', 'cluster'],
      ['clientCert', '-----BEGIN CERTIFICATE-----'],
      ['useEntraID', 'true'],
    ] as const) {
      const { error } = settle('state.redis', { redisHost: 'h:6379', [key]: value });
      expect(error?.code).toBe('SPROUT_ERR_STATE_COMPONENT_INVALID');
      expect(error?.message).toContain(`spec.metadata "${key}" is "${value}", which Sprout cannot honour`);
    }
    // the off values are fine, in any case
    expect(settle('state.redis', { redisHost: 'h:6379', failover: 'FALSE', redisType: 'node' }).error).toBe(
      undefined,
    );
  });

  it('warns about an unknown key and runs the component anyway', () => {
    const { settings, warnings } = settle('state.redis', { redisHost: 'h:6379', redisHots: 'x' });
    expect(settings).toMatchObject({ host: 'h:6379' });
    expect(warnings).toEqual([
      'component: spec.metadata "redisHots" is not documented for state.redis; it is ignored',
    ]);
  });

  it('takes redisPort with a host that has none, and PostgreSQL host/user/… fields', () => {
    expect(settle('state.redis', { redisHost: 'h', redisPort: '6380' }).settings).toMatchObject({
      host: 'h:6380',
    });
    expect(settle('state.redis', { redisHost: 'h' }).settings).toMatchObject({ host: 'h:6379' });
    expect(
      settle('state.postgresql', { host: 'db', user: 'u', password: "it's", port: '5433', database: 'd' })
        .settings,
    ).toMatchObject({ connectionString: "host='db' port='5433' database='d' user='u' password='it\\'s'" });
    expect(
      settle('state.postgresql', { connectionString: 'postgres://h/d', user: 'u' }).error?.message,
    ).toMatch(/keyword\/value connectionString, not a URL/);
  });

  it("loads the official JS SDK's e2e component (failover false, actorStateStore true)", () => {
    // dapr/js-sdk test/components/state-redis.yaml (Apache-2.0), metadata as it is there
    const doc = parseComponent(
      {
        apiVersion: 'dapr.io/v1alpha1',
        kind: 'Component',
        metadata: { name: 'state-redis', namespace: 'default' },
        spec: {
          type: 'state.redis',
          version: 'v1',
          metadata: [
            { name: 'redisHost', value: 'localhost:6379' },
            { name: 'redisPassword', value: '' },
            { name: 'enableTLS', value: 'false' },
            { name: 'failover', value: 'false' },
            { name: 'actorStateStore', value: 'true' },
          ],
        },
      },
      'state-redis.yaml',
    );
    const warnings: string[] = [];
    expect(resolveEngineSettings(doc, {}, (w) => warnings.push(w))).toMatchObject({
      type: 'state.redis',
      host: 'localhost:6379',
      tls: false,
    });
    expect(warnings).toEqual([]);
  });
});
