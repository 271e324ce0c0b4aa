import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessUpstream } from './process-upstream.js';
import { get, startGateway, until, type TestGateway } from './harness.js';

describe('scale from zero and back', () => {
  let t: TestGateway | undefined;
  const backends: ProcessUpstream[] = [];
  const backend = (name: string, env: Record<string, string> = {}) => {
    const b = new ProcessUpstream(name, { env });
    backends.push(b);
    return b;
  };
  afterEach(async () => {
    await t?.gw.close();
    t = undefined;
    await Promise.all(backends.splice(0).map((b) => b.close()));
  });

  it('holds a request while the function scales from zero, marks it cold, then scales back to zero when idle', async () => {
    t = await startGateway();
    const b = backend('cold-a', { READY_DELAY_MS: '150' });
    t.gw.setRoutes([{ upstream: b, scaling: { minReplicas: 0, maxReplicas: 2, scaledownPeriodMs: 300 } }]);
    expect(b.scaleCalls).toEqual([{ replicas: 0, reason: 'route registered' }]);
    expect(b.alive).toBe(0);

    const first = await get(t.port, '/');
    expect(first).toMatchObject({ status: 200, body: 'hello from cold-a\n' });
    expect(first.headers['x-sprout-cold-start']).toBe('true');
    expect(b.scaleCalls[1]).toEqual({ replicas: 1, reason: 'request held while no instance is ready' });
    const warm = await get(t.port, '/');
    expect(warm.headers['x-sprout-cold-start']).toBe('false');

    await until(() => b.scaleCalls.at(-1)?.replicas === 0 && b.alive === 0);
    const again = await get(t.port, '/');
    expect(again.headers['x-sprout-cold-start']).toBe('true');
    expect(b.spawned).toBe(2);

    const metrics = await t.gw.metricsText();
    expect(metrics).toMatch(/sprout_gateway_cold_starts_total\{function="cold-a"\} 2/);
    expect(metrics).toMatch(/sprout_gateway_cold_start_seconds_count\{function="cold-a"\} 2/);
  });

  it('answers 504 with a clear error when the function never becomes ready, and logs it', async () => {
    t = await startGateway();
    const b = backend('never-ready', { NEVER_READY: '1' });
    t.gw.setRoutes([
      { upstream: b, scaling: { minReplicas: 0, maxReplicas: 1 }, options: { readinessTimeoutMs: 300 } },
    ]);
    const r = await get(t.port, '/x');
    expect(r.status).toBe(504);
    expect(JSON.parse(r.body).error).toMatchObject({
      code: 'SPROUT_ERR_GATEWAY_READINESS_TIMEOUT',
      function: 'never-ready',
    });
    expect(t.logs).toContainEqual(
      expect.objectContaining({
        level: 'error',
        function: 'never-ready',
        code: 'SPROUT_ERR_GATEWAY_READINESS_TIMEOUT',
      }),
    );
    expect(t.gw.status()).toEqual([
      expect.objectContaining({
        name: 'never-ready',
        pending: 0,
        readyInstances: 0,
        lastError: expect.objectContaining({ code: 'SPROUT_ERR_GATEWAY_READINESS_TIMEOUT' }),
      }),
    ]);
  });

  it('sends held requests to the fallback target when the readiness wait expires', async () => {
    t = await startGateway();
    const fallback = backend('fallback', {});
    fallback.scaleTo(1, 'test');
    await until(() => fallback.instances().length === 1);
    const b = backend('never-ready-fb', { NEVER_READY: '1' });
    const fb = fallback.instances()[0]!;
    t.gw.setRoutes([
      {
        upstream: b,
        scaling: { minReplicas: 0, maxReplicas: 1 },
        options: { readinessTimeoutMs: 200, fallback: { host: fb.host, port: fb.port } },
      },
    ]);
    const r = await get(t.port, '/');
    expect(r).toMatchObject({ status: 200, body: 'hello from fallback\n' });
    expect(r.headers['x-sprout-cold-start']).toBe('true');
  });

  it('answers with the placeholder while cold and starts an instance meanwhile', async () => {
    t = await startGateway();
    const b = backend('placeholder', { READY_DELAY_MS: '100' });
    t.gw.setRoutes([
      {
        upstream: b,
        scaling: { minReplicas: 0, maxReplicas: 1 },
        options: {
          placeholder: { status: 503, body: 'warming up', headers: { 'content-type': 'text/plain' } },
        },
      },
    ]);
    const r = await get(t.port, '/');
    expect(r).toMatchObject({ status: 503, body: 'warming up' });
    expect(r.headers['x-sprout-cold-start']).toBe('true');
    await until(() => b.instances().length === 1);
    expect((await get(t.port, '/')).body).toBe('hello from placeholder\n');
  });

  it('drops a held request whose client disconnects, and never forwards it', async () => {
    t = await startGateway();
    const b = backend('client-gone', { READY_DELAY_MS: '600' });
    t.gw.setRoutes([{ upstream: b, scaling: { minReplicas: 0, maxReplicas: 1 } }]);
    const req = request({ host: '127.0.0.1', port: t.port, path: '/', agent: false });
    req.on('error', () => {});
    req.end();
    await until(() => t!.gw.status()[0]!.pending === 1);
    req.destroy();
    await until(() => t!.gw.status()[0]!.pending === 0);
    expect(await t.gw.metricsText()).toMatch(
      /sprout_gateway_rejected_total\{function="client-gone",reason="client_gone"\} 1/,
    );
    await until(() => b.instances().length === 1);
    expect(t.gw.status()[0]).toMatchObject({ pending: 0, concurrency: 0 });
    const next = await get(t.port, '/');
    expect(next.status).toBe(200);
    expect(next.headers['x-served']).toBe('1'); // the dropped request never reached the instance
  });

  it('answers 503 to a flood beyond the queue bound while another function keeps serving', async () => {
    t = await startGateway();
    const slow = backend('flood-slow', { READY_DELAY_MS: '800' });
    const other = backend('flood-other');
    t.gw.setRoutes([
      {
        upstream: slow,
        scaling: { minReplicas: 0, maxReplicas: 1 },
        pathPrefixes: ['/slow-fn'],
        options: { maxPendingRequests: 5 },
      },
      { upstream: other, scaling: { minReplicas: 1, maxReplicas: 1 }, pathPrefixes: ['/other'] },
    ]);
    await until(() => other.instances().length === 1);
    const flood = Array.from({ length: 25 }, () => get(t!.port, '/slow-fn'));
    await until(() => t!.gw.status().find((s) => s.name === 'flood-slow')!.pending === 5);
    const others = await Promise.all(Array.from({ length: 10 }, () => get(t!.port, '/other')));
    expect(others.every((r) => r.status === 200)).toBe(true);
    const results = await Promise.all(flood);
    const ok = results.filter((r) => r.status === 200);
    const full = results.filter((r) => r.status === 503);
    expect(ok).toHaveLength(5);
    expect(full).toHaveLength(20);
    expect(full[0]!.headers['retry-after']).toBe('1');
    expect(JSON.parse(full[0]!.body).error.code).toBe('SPROUT_ERR_GATEWAY_QUEUE_FULL');
  });

  it('keeps held requests across a route swap that keeps the function, and answers 404 to those of a removed one', async () => {
    t = await startGateway();
    const kept = backend('swap-kept', { READY_DELAY_MS: '400' });
    const removed = backend('swap-removed', { NEVER_READY: '1' });
    const scaling = { minReplicas: 0, maxReplicas: 1 };
    t.gw.setRoutes([
      { upstream: kept, scaling, pathPrefixes: ['/kept'] },
      { upstream: removed, scaling, pathPrefixes: ['/removed'] },
    ]);
    const heldKept = get(t.port, '/kept');
    const heldRemoved = get(t.port, '/removed');
    await until(() => t!.gw.status().every((s) => s.pending === 1));
    t.gw.setRoutes([{ upstream: kept, scaling, pathPrefixes: ['/kept', '/other'] }]);
    const gone = await heldRemoved;
    expect(gone.status).toBe(404);
    expect(JSON.parse(gone.body).error).toMatchObject({
      code: 'SPROUT_ERR_GATEWAY_NO_ROUTE',
      message: expect.stringMatching(/swap-removed was removed/),
    });
    expect(await heldKept).toMatchObject({ status: 200, body: 'hello from swap-kept\n' });
    expect(kept.spawned).toBe(1);
  });
});
