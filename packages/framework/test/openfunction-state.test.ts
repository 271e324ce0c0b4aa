// OpenFunction 0.6's ctx.state, call for call: upstream's own state functions and payloads
// (test/fixtures/openfunction, unchanged) run against real SQLite, Redis and PostgreSQL, and each
// result is compared with what the official Dapr JS SDK's state client returns for the same store
// (the SDK talks to the same store through Sprout's Dapr state HTTP API). OpenFunction passes each
// call straight through to that client, so its results are the reference.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr';
import { createLogger } from '@sprout/observe';
import { parseComponent } from '@sprout/spec';
import { createStateApiServer, openStateStore, StateStores, type StateStore } from '@sprout/state';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FunctionState } from '../src/state.js';
import { prng } from '../src/fuzz.js';
import { fixture, json, start } from './helpers.js';

const dir = fixture('openfunction/state');
const context = JSON.parse(readFileSync(join(dir, 'context.json'), 'utf8'));
const payload = JSON.parse(readFileSync(join(dir, 'payload.json'), 'utf8'));
const storeName: string = context.states.pg.componentName;
const seattle = payload.Save.dataObjects[0].value;
const portland = payload.Save.dataObjects[1].value;
const PG_URL = process.env.SPROUT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_HOST = process.env.SPROUT_TEST_REDIS_HOST ?? '127.0.0.1:6379';
const unique = `ofstate_${process.pid}_${Date.now().toString(36)}`;
const quiet = createLogger({ level: 'silent' });
const tmp = mkdtempSync(join(tmpdir(), 'sprout-of-state-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function component(type: string, metadata: Record<string, string>) {
  return parseComponent({
    apiVersion: 'dapr.io/v1alpha1',
    kind: 'Component',
    metadata: { name: storeName },
    spec: {
      type,
      version: 'v1',
      metadata: Object.entries(metadata).map(([name, value]) => ({ name, value })),
    },
  });
}

const engines: [string, string, Record<string, string>][] = [
  ['sqlite', 'state.sqlite', {}],
  ['redis', 'state.redis', { redisHost: REDIS_HOST }],
  ['postgresql', 'state.postgresql', { connectionString: PG_URL, tableName: unique }],
];

/** Runs one of upstream's state functions on `body` and returns what it logged as its result. */
async function runUpstream(store: StateStore, op: string, target: string, body: unknown): Promise<unknown> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const s = await start({
    source: join(dir, `${op}.js`),
    target,
    signatureType: 'openfunction', // upstream's image sets --signature-type=openfunction
    context,
    stateStores: { pg: store },
  });
  try {
    const r = await fetch(s.url, { method: 'POST', headers: json, body: JSON.stringify(body) });
    expect(r.status).toBeLessThan(300);
    const lines = log.mock.calls.map((c) => c.map(String).join(' '));
    expect(lines.filter((l) => l.startsWith('❌'))).toEqual([]);
    const i = lines.findIndex((l) => l.startsWith('✅ Success'));
    expect(i, `no success line in ${JSON.stringify(lines)}`).toBeGreaterThanOrEqual(0);
    const out = log.mock.calls[i + 1]![0];
    return out === undefined ? undefined : JSON.parse(String(out));
  } finally {
    log.mockRestore();
    await s.close();
  }
}

const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key);

describe.each(engines)('OpenFunction ctx.state over %s', (engine, type, metadata) => {
  let store: StateStore;
  let api: Awaited<ReturnType<typeof createStateApiServer>>;
  let sdk: DaprClient;

  beforeAll(async () => {
    store = await openStateStore(component(type, metadata), { appId: `${unique}_${engine}`, dataDir: tmp });
    api = createStateApiServer({
      stores: new StateStores([store]),
      appId: `${unique}_${engine}`,
      logger: quiet,
    });
    const { port } = await api.listen(0);
    sdk = new DaprClient({
      daprHost: '127.0.0.1',
      daprPort: String(port),
      communicationProtocol: CommunicationProtocolEnum.HTTP,
      logger: {
        level: LogLevel.Error,
        service: { error() {}, warn() {}, info() {}, verbose() {}, debug() {} },
      },
    });
  });

  afterAll(async () => {
    await store?.transaction(['1', '2', '3'].map((key) => ({ operation: 'delete', request: { key } })));
    await sdk?.stop();
    await api?.close();
    await store?.close();
  });

  it('save({dataObjects}) stores what the SDK then reads', async () => {
    expect(await runUpstream(store, 'save', 'tryKnativeStateSave', payload.Save)).toBeUndefined();
    expect(await sdk.state.get(storeName, '1')).toEqual(seattle);
    expect(await sdk.state.get(storeName, '2')).toEqual(portland);
  });

  it('get({key}) gives the value, as the SDK does', async () => {
    const got = await runUpstream(store, 'get', 'tryKnativeStateGet', payload.Get);
    expect(got).toEqual(seattle);
    expect(got).toEqual(await sdk.state.get(storeName, '1'));
  });

  it('getBulk({keys, parallelism}) gives [{key, data, etag}], as the SDK does', async () => {
    const got = (await runUpstream(store, 'getbulk', 'tryKnativeStateGetBulk', payload.GetBulk)) as {
      key: string;
    }[];
    const fromSdk = await sdk.state.getBulk(storeName, payload.GetBulk.keys);
    expect([...got].sort(byKey)).toEqual([...(fromSdk as { key: string }[])].sort(byKey));
    // upstream's expectation (etag omitted, as its test does)
    expect(got.map(({ etag: _e, ...rest }: any) => rest).sort(byKey)).toEqual([
      { key: '1', data: seattle },
      { key: '2', data: portland },
    ]);
  });

  it('delete({key}) removes it: the SDK then reads ""', async () => {
    expect(await runUpstream(store, 'delete', 'tryKnativeStateDelete', payload.Delete)).toBeUndefined();
    expect(await sdk.state.get(storeName, '1')).toBe('');
  });

  it('transaction({operations}) deletes 2 and upserts 1 atomically', async () => {
    expect(
      await runUpstream(store, 'transaction', 'tryKnativeStateTransaction', payload.Transaction),
    ).toBeUndefined();
    expect(await sdk.state.get(storeName, '2')).toBe('');
    expect(await sdk.state.get(storeName, '1')).toEqual(seattle);
  });

  it('query({query}) gives {results: [{key, data, etag}]}, as the SDK does', async () => {
    await sdk.state.save(storeName, [{ key: '3', value: { ...seattle, person: { org: 'QA', id: 7 } } }]);
    const got = (await runUpstream(store, 'query', 'tryKnativeStateQuery', payload.Query)) as any;
    const fromSdk = await sdk.state.query(storeName, payload.Query.query);
    // upstream's function deletes each result's etag before it logs the result
    const sdkWithoutEtags = { ...fromSdk, results: fromSdk.results.map(({ etag: _e, ...r }) => r) };
    expect(got).toEqual(JSON.parse(JSON.stringify(sdkWithoutEtags)));
    expect(got.results.map((r: { key: string }) => r.key)).toEqual(['1', '3']); // person.id DESC
    expect(got.results[0]).toEqual({ key: '1', data: seattle });
    // the etag is there before the function removes it, as in the SDK's answer
    const state = new FunctionState(new Map([['pg', store]]));
    const direct = await state.query(payload.Query);
    expect(direct).toEqual(JSON.parse(JSON.stringify(fromSdk)));
    expect(typeof direct.results[0]!.etag).toBe('string');
  });

  it('get({key}) of a missing key is "" (the SDK\'s answer); a plain key stays undefined (Sprout\'s)', async () => {
    const state = new FunctionState(new Map([['pg', store]]));
    expect(await state.get({ key: 'absent' })).toBe(await sdk.state.get(storeName, 'absent'));
    expect(await state.get('absent')).toBeUndefined();
    expect(await state.getBulk({ keys: ['absent'] })).toEqual(await sdk.state.getBulk(storeName, ['absent']));
  });
});

describe('OpenFunction ctx.state arguments', () => {
  it('names a store by its key under states or its component name, else the first', async () => {
    const { MemoryStateStore } = await import('@sprout/state');
    const a = new MemoryStateStore('comp-a');
    const b = new MemoryStateStore('comp-b');
    const state = new FunctionState(
      new Map([
        ['first', a],
        ['second', b],
      ]),
    );
    await state.save({ dataObjects: [{ key: 'k', value: 'in-b' }] }, 'second');
    await state.save({ dataObjects: [{ key: 'k', value: 'in-a' }] });
    expect(await state.get({ key: 'k' }, 'comp-b')).toBe('in-b');
    expect(await state.get({ key: 'k' })).toBe('in-a');
    await expect(state.get({ key: 'k' }, 'nope')).rejects.toMatchObject({
      code: 'SPROUT_ERR_FRAMEWORK_UNKNOWN_STATE_STORE',
    });
  });

  it('takes an etag as the Dapr SDK sends it, a string or {value}, and refuses a stale one', async () => {
    const { MemoryStateStore } = await import('@sprout/state');
    const state = new FunctionState(new Map([['s', new MemoryStateStore('s')]]));
    await state.save({ dataObjects: [{ key: 'e', value: 1 }] });
    const [first] = await state.getBulk({ keys: ['e'] });
    await state.save({ dataObjects: [{ key: 'e', value: 2, etag: { value: first!.etag } }] } as never);
    await expect(
      state.save({ dataObjects: [{ key: 'e', value: 3, etag: first!.etag! }] }),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/^SPROUT_ERR_STATE_/),
    });
    expect(await state.get({ key: 'e' })).toBe(2);
    await state
      .transaction({ operations: [{ operation: 'delete', request: { key: 'e', etag: { value: 'nope' } } }] })
      .then(
        () => expect.unreachable('a stale etag must fail the transaction'),
        (err: { code?: string }) => expect(err.code).toMatch(/^SPROUT_ERR_STATE_/),
      );
    expect(await state.get({ key: 'e' })).toBe(2);
  });

  it('refuses malformed arguments with a coded error, never a TypeError (seeded fuzz)', async () => {
    const { MemoryStateStore } = await import('@sprout/state');
    const state = new FunctionState(new Map([['s', new MemoryStateStore('s')]]));
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 100000);
    const rnd = prng(seed);
    const atoms = [null, undefined, 0, 1.5, '', 'k', true, [], {}, ['k'], { key: 1 }, { key: '' }];
    const value = (depth: number): unknown => {
      const r = rnd();
      if (depth > 2 || r < 0.4) return atoms[Math.floor(rnd() * atoms.length)];
      if (r < 0.6) return Array.from({ length: Math.floor(rnd() * 3) }, () => value(depth + 1));
      const names = [
        'key',
        'keys',
        'dataObjects',
        'operations',
        'query',
        'value',
        'etag',
        'request',
        'operation',
        'x',
      ];
      return Object.fromEntries(
        Array.from({ length: Math.floor(rnd() * 3) }, () => [
          names[Math.floor(rnd() * names.length)]!,
          value(depth + 1),
        ]),
      );
    };
    const ops = ['save', 'get', 'getBulk', 'delete', 'transaction', 'query'] as const;
    const deadline = Date.now() + Number(process.env.FUZZ_MS ?? 1500);
    let runs = 0;
    let refused = 0;
    while (Date.now() < deadline || runs < 300) {
      const op = ops[Math.floor(rnd() * ops.length)]!;
      const arg = value(0);
      runs++;
      try {
        await (state[op] as (a: unknown) => Promise<unknown>).call(state, arg);
      } catch (err) {
        refused++;
        const code = (err as { code?: unknown }).code;
        expect(
          typeof code === 'string' && code.startsWith('SPROUT_ERR_'),
          `seed ${seed}: ${op}(${JSON.stringify(arg)}) threw ${String(err)}`,
        ).toBe(true);
      }
    }
    expect(refused).toBeGreaterThan(0);
  });
});

describe('a state named in FUNC_CONTEXT with no component and no sidecar', () => {
  it('fails the start with an error that says where to put the component file', async () => {
    const { startInstance } = await import('@sprout/framework/instance');
    const err = await startInstance(
      {
        functions: [
          {
            name: 'of',
            source: join(dir, 'get.js'),
            target: 'tryKnativeStateGet',
            signatureType: 'openfunction',
            context,
            components: [],
          },
        ],
        port: 0,
        host: '127.0.0.1',
        timeoutMs: 0,
        logExecutionId: false,
        watch: false,
        dataDir: tmp,
      },
      {},
      quiet,
    ).then(
      (s) => s.close().then(() => undefined),
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'SPROUT_ERR_FRAMEWORK_STATE_COMPONENT_MISSING', field: 'states.pg' });
    const message = (err as Error).message;
    expect(message).toContain(`components/${storeName}.yaml`);
    expect(message).toContain('--resources-path');
    expect(message).toContain('DAPR_HTTP_PORT');
  });
});
