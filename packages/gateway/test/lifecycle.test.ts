import { afterEach, describe, expect, it } from 'vitest';
import { frameworkReadyLine, ProcessUpstream } from './process-upstream.js';
import { get, startGateway, until, type TestGateway } from './harness.js';

describe('scaling, metrics and shutdown', () => {
  let t: TestGateway | undefined;
  const backends: ProcessUpstream[] = [];
  afterEach(async () => {
    await t?.gw.close();
    t = undefined;
    await Promise.all(backends.splice(0).map((b) => b.close()));
  });

  it('scales out on concurrency up to maxReplicas and back in after the scaledown period', async () => {
    t = await startGateway();
    const b = new ProcessUpstream('conc-scale');
    backends.push(b);
    t.gw.setRoutes([
      {
        upstream: b,
        scaling: { minReplicas: 0, maxReplicas: 3, targetConcurrency: 2, scaledownPeriodMs: 400 },
      },
    ]);
    const load = Array.from({ length: 10 }, () => get(t!.port, '/slow?ms=1200'));
    await until(() => b.scaleCalls.some((c) => c.replicas === 3));
    expect(b.scaleCalls.find((c) => c.replicas === 3)!.reason).toMatch(/maxReplicas 3|concurrency/);
    await until(() => b.instances().length === 3);
    expect((await Promise.all(load)).every((r) => r.status === 200)).toBe(true);
    await until(() => b.scaleCalls.at(-1)!.replicas === 0 && b.alive === 0);
  });

  it('scales on request rate', async () => {
    t = await startGateway();
    const b = new ProcessUpstream('rate-scale');
    backends.push(b);
    t.gw.setRoutes([
      {
        upstream: b,
        scaling: {
          minReplicas: 0,
          maxReplicas: 4,
          targetRate: 1,
          rateWindowMs: 10_000,
          rateGranularityMs: 500,
          scaledownPeriodMs: 60_000,
        },
      },
    ]);
    // 30 requests inside a 10 s window: the rate passes 2 req/s against a target of 1 per instance → 3 replicas
    for (let i = 0; i < 30; i++) expect((await get(t.port, '/')).status).toBe(200);
    await until(() => b.scaleCalls.some((c) => c.replicas === 3));
    const reason = b.scaleCalls.find((c) => c.replicas === 3)!.reason;
    expect(reason).toMatch(/^rate \d\.\d\/s \/ target 1$/);
    expect(Number(/rate ([\d.]+)/.exec(reason)![1])).toBeGreaterThan(2);
    await until(() => b.instances().length === 3);
  });

  it('serves Prometheus metrics with bounded labels on the admin listener', async () => {
    t = await startGateway();
    const b = new ProcessUpstream('metrics-fn');
    backends.push(b);
    t.gw.setRoutes([{ upstream: b, scaling: { minReplicas: 0, maxReplicas: 1 } }]);
    const admin = await t.gw.listenAdmin(0, '127.0.0.1');
    await get(t.port, '/');
    await get(t.port, '/x', { headers: { host: 'a' } });
    const r = await fetch(`http://127.0.0.1:${admin.port}/metrics`);
    expect(r.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await r.text();
    for (const line of [
      /sprout_gateway_requests_total\{function="metrics-fn",code="2xx"\} 2/,
      /sprout_gateway_pending_requests\{function="metrics-fn"\} 0/,
      /sprout_gateway_concurrency\{function="metrics-fn"\} 0/,
      /sprout_gateway_request_rate\{function="metrics-fn"\} \d/,
      /sprout_gateway_desired_replicas\{function="metrics-fn"\} 1/,
      /sprout_gateway_ready_instances\{function="metrics-fn"\} 1/,
      /sprout_gateway_cold_starts_total\{function="metrics-fn"\} 1/,
      /sprout_gateway_cold_start_seconds_bucket\{le="0.5",function="metrics-fn"\}/,
    ]) {
      expect(text).toMatch(line);
    }
    // labels never carry paths or hosts
    expect(text).not.toMatch(/\/x|host=/);
    const health = await (await fetch(`http://127.0.0.1:${admin.port}/healthz`)).json();
    expect(health).toMatchObject({ status: 'ok', functions: [{ name: 'metrics-fn', readyInstances: 1 }] });
  });

  it('closes gracefully: finishes requests in flight, fails held ones with 503', async () => {
    t = await startGateway();
    const warm = new ProcessUpstream('close-warm');
    const coldB = new ProcessUpstream('close-cold', { env: { NEVER_READY: '1' } });
    backends.push(warm, coldB);
    t.gw.setRoutes([
      {
        upstream: warm,
        scaling: { minReplicas: 1, maxReplicas: 1 },
        pathPrefixes: ['/warm'],
        options: { stripPrefix: true },
      },
      { upstream: coldB, scaling: { minReplicas: 0, maxReplicas: 1 }, pathPrefixes: ['/cold'] },
    ]);
    await until(() => warm.instances().length === 1);
    const inflight = get(t.port, '/warm/slow?ms=500');
    const held = get(t.port, '/cold');
    await until(() => t!.gw.status().every((s) => s.concurrency === 1));
    const closing = t.gw.close();
    const heldReply = await held;
    expect(heldReply.status).toBe(503);
    expect(JSON.parse(heldReply.body).error.code).toBe('SPROUT_ERR_GATEWAY_CLOSING');
    expect(await inflight).toMatchObject({ status: 200, body: expect.stringMatching(/^slow/) });
    await closing;
    await expect(get(t.port, '/warm/')).rejects.toThrow(/ECONNREFUSED/);
    t = undefined;
  });

  it('cold-starts a TypeScript function run by the Sprout framework', async () => {
    t = await startGateway();
    const b = new ProcessUpstream('ts-hello', {
      command: [
        process.execPath,
        'packages/cli/bin/sprout.js',
        'run',
        'examples/hello',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
      ],
      readyLine: frameworkReadyLine,
    });
    backends.push(b);
    t.gw.setRoutes([
      {
        upstream: b,
        scaling: { minReplicas: 0, maxReplicas: 1 },
        pathPrefixes: ['/hello'],
        options: { stripPrefix: true },
      },
    ]);
    const r = await get(t.port, '/hello/?name=gateway');
    expect(r).toMatchObject({ status: 200, body: 'Hello, gateway!\n' });
    expect(r.headers['x-sprout-cold-start']).toBe('true');
  });
});
