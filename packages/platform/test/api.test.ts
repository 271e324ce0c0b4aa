import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '@sprout/gateway';
import { createPlatform, routesFor, startApi, type PlatformEvent } from '../src/index.js';
import { captureLogs, fixtures, harness, schemaErrors, type Harness, withToken } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await harness(['echo']);
});
afterAll(async () => {
  await h.close();
});

/** Reads server-sent events from the API until `count` arrived or `timeoutMs` passed. */
function readEvents(
  path: string,
  count: number,
  headers: Record<string, string> = {},
  onOpen?: () => void,
): Promise<{ contentType: string | undefined; events: PlatformEvent[] }> {
  return new Promise((resolve, reject) => {
    const events: PlatformEvent[] = [];
    const req = request(
      `${h.api.url}${path}`,
      { headers: { ...headers, authorization: `Bearer ${h.api.token}` } },
      (res) => {
        let buf = '';
        const finish = () => {
          clearTimeout(timer);
          req.destroy();
          resolve({ contentType: res.headers['content-type'], events });
        };
        const timer = setTimeout(finish, 15_000);
        res.on('data', (c: Buffer) => {
          buf += c.toString();
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const fields = Object.fromEntries(
              block
                .split('\n')
                .filter((l) => !l.startsWith(':'))
                .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
            ) as Record<string, string>;
            if (!fields.data) continue;
            const e = JSON.parse(fields.data) as PlatformEvent;
            expect(fields.event).toBe(e.type);
            expect(Number(fields.id)).toBe(e.id);
            events.push(e);
            if (events.length >= count) finish();
          }
        });
        onOpen?.();
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('platform REST API', () => {
  it('streams platform events as server-sent events, each matching the Event schema', async () => {
    const stream = readEvents('/v1/events?function=echo', 4, {}, () => {
      void fetch(`${h.api.url}/v1/functions/echo/invoke/`, withToken(h.api.token)).then((r) => r.text());
    });
    const { contentType, events } = await stream;
    expect(contentType).toBe('text/event-stream');
    expect(events.map((e) => e.type)).toEqual(['scale', 'instance.started', 'instance.ready', 'cold-start']);
    for (const e of events) {
      expect(schemaErrors('Event', e)).toEqual([]);
      expect(e.function).toBe('echo');
    }
    // Each carries the function's counts after the change, so a list can update its row from it.
    expect(events.map((e) => e.status)).toEqual([
      { desiredReplicas: 1, readyReplicas: 0, restarts: 0 },
      { desiredReplicas: 1, readyReplicas: 0, restarts: 0 },
      { desiredReplicas: 1, readyReplicas: 1, restarts: 0 },
      { desiredReplicas: 1, readyReplicas: 1, restarts: 0 },
    ]);
  });

  it('replays held events after Last-Event-ID', async () => {
    const { events } = await readEvents('/v1/events', 3, { 'last-event-id': '0' });
    expect(events.map((e) => e.id)).toEqual([1, 2, 3]);
    expect(events[0]).toMatchObject({ type: 'function.registered', function: 'echo' });
  });

  it('lists functions and instances as documented', async () => {
    const list = await h.get('/v1/functions');
    expect(list.status).toBe(200);
    expect(schemaErrors('FunctionList', list.body)).toEqual([]);
    const inst = await h.get('/v1/functions/echo/instances');
    expect(inst.status).toBe(200);
    for (const i of (inst.body as { instances: unknown[] }).instances)
      expect(schemaErrors('Instance', i)).toEqual([]);
    expect(await h.get('/v1/health')).toEqual({
      status: 200,
      body: { status: 'ok', standbyReady: expect.any(Number) },
    });
  });

  it("answers a function's function.yaml (none for a plain folder) and 404 for an unknown one", async () => {
    expect(await h.get('/v1/functions/echo/spec')).toEqual({ status: 200, body: { function: 'echo' } });
    const unknown = await h.get('/v1/functions/nope/spec');
    expect(unknown.status).toBe(404);
    expect(schemaErrors('Error', unknown.body)).toEqual([]);
  });

  it.each([
    ['GET', '/v1/functions/nope', undefined, 404, 'SPROUT_ERR_PLATFORM_UNKNOWN_FUNCTION'],
    ['POST', '/v1/functions/nope/scale', '{"replicas":1}', 404, 'SPROUT_ERR_PLATFORM_UNKNOWN_FUNCTION'],
    ['POST', '/v1/functions/echo/scale', '{"replicas":-1}', 400, 'SPROUT_ERR_PLATFORM_INVALID_REQUEST'],
    [
      'POST',
      '/v1/functions/echo/scale',
      '{"replicas":1,"turbo":true}',
      400,
      'SPROUT_ERR_PLATFORM_INVALID_REQUEST',
    ],
    ['POST', '/v1/functions/echo/scale', '{not json', 400, 'SPROUT_ERR_PLATFORM_INVALID_REQUEST'],
    ['POST', '/v1/functions/echo/scale', 'x'.repeat(70_000), 413, 'SPROUT_ERR_PLATFORM_INVALID_REQUEST'],
    ['PUT', '/v1/functions/echo', '{}', 405, 'SPROUT_ERR_PLATFORM_INVALID_REQUEST'],
    ['GET', '/v2/anything', undefined, 404, 'SPROUT_ERR_PLATFORM_NO_ROUTE'],
    ['GET', '/v1/functions/%', undefined, 400, 'SPROUT_ERR_PLATFORM_INVALID_REQUEST'],
    ['DELETE', '/v1/functions/%zz', undefined, 400, 'SPROUT_ERR_PLATFORM_INVALID_REQUEST'],
    ['POST', '/v1/functions', '{"paths":["missing-folder"]}', 400, undefined],
  ])('%s %s answers %i with a coded error', async (method, path, body, status, code) => {
    const r = await fetch(
      `${h.api.url}${path}`,
      withToken(h.api.token, {
        method,
        ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}),
      }),
    );
    expect(r.status).toBe(status);
    const json = (await r.json()) as { error?: { code: string }; problems?: { code: string }[] };
    if (code) {
      expect(schemaErrors('Error', json)).toEqual([]);
      expect(json.error!.code).toBe(code);
    } else {
      expect(schemaErrors('FunctionList', json)).toEqual([]);
      expect(json.problems![0]!.code).toBe('SPROUT_ERR_SPEC_NO_FUNCTION');
    }
    // The API keeps serving after bad input.
    expect((await h.get('/v1/health')).status).toBe(200);
  });

  it('unregisters a function, draining it, and forgets it', async () => {
    await h.post('/v1/functions', { paths: ['slow'] });
    expect(
      (await fetch(`${h.api.url}/v1/functions/slow`, withToken(h.api.token, { method: 'DELETE' }))).status,
    ).toBe(204);
    expect((await h.get('/v1/functions/slow')).status).toBe(404);
    expect(h.events.some((e) => e.type === 'function.unregistered' && e.function === 'slow')).toBe(true);
  });
});

describe('held invoke', () => {
  it('forgets a client that disconnects while its request is held, and keeps serving', async () => {
    const n = await harness(['never-ready']);
    try {
      const ac = new AbortController();
      const held = fetch(
        `${n.api.url}/v1/functions/never-ready/invoke/`,
        withToken(n.api.token, { signal: ac.signal }),
      );
      await n.waitFor((e) => e.type === 'instance.started');
      ac.abort();
      await expect(held).rejects.toThrow();
      expect((await n.get('/v1/health')).status).toBe(200);
      // The readiness timeout still fires and is reported; nothing is written to the gone client.
      await n.waitFor((e) => e.type === 'instance.failed');
      expect((await n.get('/v1/functions/never-ready')).body).toMatchObject({
        lastErrorCode: 'SPROUT_ERR_PLATFORM_READINESS_TIMEOUT',
      });
    } finally {
      await n.close();
    }
  });
});

describe('invoke through a given gateway', () => {
  it('goes through the gateway the API is given: its routes, its scaler, its codes', async () => {
    const { logger } = captureLogs();
    const dataDir = mkdtempSync(join(tmpdir(), 'sprout-platform-api-gw-'));
    const platform = createPlatform({ paths: ['echo'], cwd: fixtures, dataDir, logger });
    const gateway = createGateway({ logger, scaleIntervalMs: 100 });
    const api = await startApi(platform, { port: 0, gateway });
    try {
      // Routes not applied yet: the gateway knows no such function.
      const missing = await fetch(`${api.url}/v1/functions/echo/invoke/`, withToken(api.token));
      expect(missing.status).toBe(404);
      const body = (await missing.json()) as unknown;
      expect(schemaErrors('Error', body)).toEqual([]);
      expect(body).toMatchObject({ error: { code: 'SPROUT_ERR_GATEWAY_NO_ROUTE', function: 'echo' } });

      gateway.setRoutes(routesFor(platform.definitions(), (n) => platform.upstream(n)).routes);
      const r = await fetch(`${api.url}/v1/functions/echo/invoke/x?y=1`, withToken(api.token));
      expect(r.status).toBe(200);
      expect(r.headers.get('x-sprout-cold-start')).toBe('true');
      expect(await r.json()).toMatchObject({ path: '/x?y=1' });
      expect(gateway.status()).toContainEqual(
        expect.objectContaining({ name: 'echo', desiredReplicas: 1, readyInstances: 1 }),
      );
      await expect
        .poll(() => gateway.metricsText())
        .toMatch(/sprout_gateway_requests_total\{function="echo",code="2xx"\} 1/);
    } finally {
      await gateway.close();
      await api.close();
      await platform.close();
    }
  });
});
