import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtures, harness, schemaErrors, type Harness, withToken } from './helpers.js';

const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});
const start = async (paths: string[], dataDir?: string) => {
  const h = await harness(paths, dataDir);
  open.push(h);
  return h;
};

describe('supervisor', () => {
  it('starts an instance on the first request, captures its output with labels, and drains it on scale to zero', async () => {
    const h = await start(['echo']);
    expect((await h.get('/v1/functions/echo')).body).toMatchObject({ desiredReplicas: 0, instances: [] });
    const r = await fetch(`${h.api.url}/v1/functions/echo/invoke/some/path?x=1`, withToken(h.api.token));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-sprout-cold-start')).toBe('true');
    expect(await r.json()).toMatchObject({ path: '/some/path?x=1' });
    const warm = await fetch(`${h.api.url}/v1/functions/echo/invoke/`, withToken(h.api.token));
    expect(warm.headers.get('x-sprout-cold-start')).toBeNull();
    await warm.text();
    const cold = await h.waitFor((e) => e.type === 'cold-start');
    expect(cold).toMatchObject({ function: 'echo', instance: 'echo-1', durationMs: expect.any(Number) });
    await expect
      .poll(() => h.logs.find((l) => l.msg === 'echo /some/path?x=1'))
      .toMatchObject({
        function: 'echo',
        instance: 'echo-1',
        stream: 'stdout',
      });
    const view = await h.get('/v1/functions/echo');
    expect(schemaErrors('Function', view.body)).toEqual([]);
    expect(view.body).toMatchObject({
      desiredReplicas: 1,
      readyReplicas: 1,
      instances: [{ state: 'ready' }],
    });
    const scaled = await h.post('/v1/functions/echo/scale', { replicas: 0 });
    expect(scaled).toEqual({ status: 202, body: { name: 'echo', requestedReplicas: 0, desiredReplicas: 0 } });
    await h.waitFor((e) => e.type === 'instance.stopped' && e.instance === 'echo-1');
    expect(h.events.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'scale',
        'instance.started',
        'instance.ready',
        'instance.stopping',
        'instance.stopped',
      ]),
    );
    for (const e of h.events) expect(schemaErrors('Event', e)).toEqual([]);
  });

  it('runs a cold start in a pre-started standby process when one is ready', async () => {
    const h = await start(['echo']);
    await expect
      .poll(async () => (await h.get('/v1/health')).body, { timeout: 20_000 })
      .toMatchObject({
        standbyReady: 1,
      });
    const r = await fetch(`${h.api.url}/v1/functions/echo/invoke/x`, withToken(h.api.token));
    expect(await r.json()).toMatchObject({ path: '/x' });
    expect(await h.waitFor((e) => e.type === 'instance.started')).toMatchObject({ standby: true });
    // Ready by the instance's own IPC message, with where the time went.
    const cold = await h.waitFor((e) => e.type === 'cold-start');
    expect(cold.breakdown).toMatchObject({
      standby: true,
      readyBy: 'ipc',
      handOffMs: expect.any(Number),
      moduleLoadMs: expect.any(Number),
      listenMs: expect.any(Number),
      totalMs: expect.any(Number),
    });
    // The pool starts a new standby in its place.
    await expect
      .poll(async () => (await h.get('/v1/health')).body, { timeout: 20_000 })
      .toMatchObject({
        standbyReady: 1,
      });
  });

  it('keeps replicas within min/max and passes function.yaml settings to the instances', async () => {
    const h = await start(['greeter']);
    expect((await h.post('/v1/functions/greeter/scale', { replicas: 9 })).body).toMatchObject({
      desiredReplicas: 3,
    });
    await expect
      .poll(async () => (await h.get('/v1/functions/greeter')).body, { timeout: 20_000 })
      .toMatchObject({
        readyReplicas: 3,
      });
    const answers = await Promise.all(
      [1, 2, 3].map(async () =>
        (
          await fetch(`${h.api.url}/v1/functions/greeter/invoke/greet?name=Ann`, withToken(h.api.token))
        ).text(),
      ),
    );
    expect(answers).toEqual(['Howdy, Ann!', 'Howdy, Ann!', 'Howdy, Ann!']);
    const ports = new Set(
      h.platform
        .runner('greeter')!
        .instances()
        .map((i) => i.port),
    );
    expect(ports.size).toBe(3);
    expect((await h.post('/v1/functions/greeter/scale', { replicas: 1 })).body).toMatchObject({
      desiredReplicas: 1,
    });
    await expect.poll(() => h.platform.runner('greeter')!.instances().length, { timeout: 20_000 }).toBe(1);
  });

  it('starts minReplicas at once and never goes below it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sprout-platform-min-'));
    cpSync(join(fixtures, 'echo'), dir, { recursive: true });
    writeFileSync(
      join(dir, 'function.yaml'),
      'apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: warm\nspec:\n  serving:\n    scaleOptions:\n      minReplicas: 1\n      maxReplicas: 2\n',
    );
    const h = await start([dir]);
    await h.waitFor((e) => e.type === 'instance.ready' && e.function === 'warm');
    expect((await h.post('/v1/functions/warm/scale', { replicas: 0 })).body).toMatchObject({
      desiredReplicas: 1,
    });
    expect((await h.post('/v1/functions/warm/scale', { replicas: 7 })).body).toMatchObject({
      desiredReplicas: 2,
    });
  });

  it('returns an API scale-up to the scaler after the scaledown period without traffic', async () => {
    const h = await start(['quick']);
    expect((await h.post('/v1/functions/quick/scale', { replicas: 2 })).body).toMatchObject({
      desiredReplicas: 2,
    });
    await expect.poll(() => h.platform.runner('quick')!.readyInstances().length, { timeout: 20_000 }).toBe(2);
    // Invoking keeps it alive; then, idle for cooldownPeriod (1 s), it goes back to zero.
    expect((await fetch(`${h.api.url}/v1/functions/quick/invoke/`, withToken(h.api.token))).status).toBe(200);
    const back = await h.waitFor((e) => e.type === 'scale' && e.to === 0);
    expect(back).toMatchObject({
      function: 'quick',
      from: 2,
      source: 'gateway',
      reason: expect.stringContaining('idle'),
    });
    await expect.poll(() => h.platform.runner('quick')!.instances().length, { timeout: 20_000 }).toBe(0);
    for (const e of h.events) expect(schemaErrors('Event', e)).toEqual([]);
  });

  it('finishes an in-flight request before stopping the instance (graceful drain)', async () => {
    const h = await start(['slow']);
    const pending = fetch(`${h.api.url}/v1/functions/slow/invoke/?ms=800`, withToken(h.api.token));
    await h.waitFor((e) => e.type === 'instance.ready');
    await new Promise((r) => setTimeout(r, 150));
    await h.post('/v1/functions/slow/scale', { replicas: 0 });
    const r = await pending;
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('done after 800');
    const stopped = await h.waitFor((e) => e.type === 'instance.stopped');
    expect(stopped.exitCode).toBe(0);
  });

  it('answers 502 when an instance crashes mid-request, restarts it, and the next request works', async () => {
    const h = await start(['crashy']);
    const crash = await fetch(`${h.api.url}/v1/functions/crashy/invoke/crash`, withToken(h.api.token));
    expect(crash.status).toBe(502);
    const body = (await crash.json()) as unknown;
    expect(schemaErrors('Error', body)).toEqual([]);
    expect(body).toMatchObject({ error: { code: 'SPROUT_ERR_GATEWAY_UPSTREAM_FAILED', function: 'crashy' } });
    const crashed = await h.waitFor((e) => e.type === 'instance.crashed');
    expect(crashed).toMatchObject({ function: 'crashy', exitCode: 3, wasReady: true });
    // The crash is counted in the event's status (the console's list shows it from the event).
    expect(crashed.status).toMatchObject({
      restarts: 1,
      readyReplicas: 0,
      lastErrorCode: 'SPROUT_ERR_PLATFORM_INSTANCE_EXITED',
    });
    const next = await fetch(`${h.api.url}/v1/functions/crashy/invoke/`, withToken(h.api.token));
    expect(next.status).toBe(200);
    expect(await next.text()).toMatch(/^alive \d+$/);
    const view = await h.get('/v1/functions/crashy');
    expect(view.body).toMatchObject({ restarts: 1, readyReplicas: 1 });
    expect(
      h.logs.some((l) => l.code === 'SPROUT_ERR_PLATFORM_INSTANCE_EXITED' && l.instance === 'crashy-1'),
    ).toBe(true);
  });

  it('gives up on an instance that never becomes ready, with a clear error in logs and API', async () => {
    const h = await start(['never-ready']);
    const r = await fetch(`${h.api.url}/v1/functions/never-ready/invoke/`, withToken(h.api.token));
    // The gateway's readiness timeout: 504 with its code (the retired platform code answered 503).
    expect(r.status).toBe(504);
    const body = (await r.json()) as unknown;
    expect(schemaErrors('Error', body)).toEqual([]);
    expect(body).toMatchObject({
      error: { code: 'SPROUT_ERR_GATEWAY_READINESS_TIMEOUT', function: 'never-ready' },
    });
    const failed = await h.waitFor((e) => e.type === 'instance.failed');
    expect(failed).toMatchObject({ function: 'never-ready', code: 'SPROUT_ERR_PLATFORM_READINESS_TIMEOUT' });
    const view = await h.get('/v1/functions/never-ready');
    expect(view.body).toMatchObject({
      lastErrorCode: 'SPROUT_ERR_PLATFORM_READINESS_TIMEOUT',
      lastError: expect.stringContaining('did not become ready within 1500 ms'),
    });
    expect(
      h.logs.find((l) => l.code === 'SPROUT_ERR_PLATFORM_READINESS_TIMEOUT' && l.level === 'error'),
    ).toMatchObject({ function: 'never-ready', msg: expect.stringContaining('did not become ready') });
  });

  it('reports why a function fails to start (framework error) in the API', async () => {
    const h = await start(['bad-target']);
    const r = await fetch(`${h.api.url}/v1/functions/bad-target/invoke/`, withToken(h.api.token));
    expect(r.status).toBe(504);
    expect(r.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_GATEWAY_READINESS_TIMEOUT');
    await expect
      .poll(async () => (await h.get('/v1/functions/bad-target')).body, { timeout: 10_000 })
      .toMatchObject({
        lastErrorCode: 'SPROUT_ERR_PLATFORM_INSTANCE_EXITED',
        lastError: expect.stringContaining('SPROUT_ERR_FRAMEWORK_TARGET_NOT_FOUND'),
      });
  });

  it('keeps the other functions running when one function.yaml is malformed', async () => {
    const h = await start(['bad-yaml', 'echo']);
    const list = await h.get('/v1/functions');
    expect(schemaErrors('FunctionList', list.body)).toEqual([]);
    expect(list.body).toMatchObject({
      functions: [{ name: 'echo' }],
      problems: [
        {
          code: 'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
          message: expect.stringMatching(
            /bad-yaml\/function\.yaml:11: field "spec\.serving\.triggers\.http\.rewrite"/,
          ),
        },
      ],
    });
    expect((await fetch(`${h.api.url}/v1/functions/echo/invoke/`, withToken(h.api.token))).status).toBe(200);
  });

  it('keeps what was registered across a restart (embedded store)', async () => {
    const first = await start(['echo', 'greeter']);
    const added = await first.post('/v1/functions', { paths: ['slow'] });
    expect(added.status).toBe(201);
    expect(schemaErrors('FunctionList', added.body)).toEqual([]);
    await first.close();
    open.splice(open.indexOf(first), 1);
    const second = await start([], first.dataDir);
    expect(second.platform.names()).toEqual(['echo', 'greeter', 'slow']);
    expect((await second.get('/v1/functions/greeter')).body).toMatchObject({ scaling: { maxReplicas: 3 } });
  });
});
