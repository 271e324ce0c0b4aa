import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzFindings, fuzzHttpServer, seededRng } from '@sprout/http/testing';
import type { PlatformEvent } from '../src/index.js';
import { schemaErrors, startTestDev, withToken, type TestDev } from './helpers.js';

// The build API of a real sprout dev (POST/GET/DELETE /v1/builds, logs as server-sent events) building
// examples/hello (copied, so its source can change) with the builder's lifecycle.

const hello = fileURLToPath(new URL('../../../examples/hello', import.meta.url));
let dev: TestDev;
let fnDir: string;
const events: PlatformEvent[] = [];

beforeAll(async () => {
  fnDir = join(mkdtempSync(join(tmpdir(), 'sprout-platform-builds-')), 'hello');
  cpSync(hello, fnDir, { recursive: true });
  dev = await startTestDev([fnDir], { collector: false, eip: false, standby: 0 });
  dev.platform.events.subscribe((e) => events.push(e));
}, 60_000);
afterAll(async () => {
  await dev?.close();
});

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Follows `/v1/builds/{id}/logs` until the server ends the stream; `onEvent` sees each event as it comes. */
async function follow(id: string, onEvent: (e: SseEvent) => void = () => undefined): Promise<SseEvent[]> {
  const res = await fetch(`${dev.api.url}/v1/builds/${id}/logs`, withToken(dev.api.token));
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const out: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!event || !data) continue;
      const e = { event, data: JSON.parse(data) as Record<string, unknown> };
      out.push(e);
      onEvent(e);
    }
  }
  return out;
}

const post = (body: unknown) =>
  dev.call('/v1/builds', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('the build API under sprout dev', () => {
  it('refuses sources that are not a served function, and calls without the token', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'sprout-platform-builds-outside-'));
    symlinkSync(outside, join(fnDir, 'escape'));
    for (const source of [
      `${fnDir}/../..`,
      '/etc',
      join(fnDir, 'escape'),
      'hello',
      `${fnDir}/../hello/../../x`,
    ]) {
      const r = await post({ source });
      expect(r.status, source).toBe(403);
      expect(r.body).toMatchObject({ error: { code: 'SPROUT_ERR_PLATFORM_BUILD_SOURCE' } });
    }
    rmSync(join(fnDir, 'escape')); // the builder would refuse it too, as a link out of the source
    expect((await post({ function: 'nope' })).status).toBe(404);
    expect((await post({ function: 'hello', source: fnDir })).body).toMatchObject({
      error: { code: 'SPROUT_ERR_PLATFORM_INVALID_REQUEST' },
    });
    expect((await post({ function: 'hello', env: { 'A-B': '1' } })).status).toBe(400);
    const anonymous = await fetch(`${dev.api.url}/v1/builds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ function: 'hello' }),
    });
    expect(anonymous.status).toBe(401);
    expect((await dev.call('/v1/builds')).body).toEqual({ builds: [] });
    expect((await dev.call('/v1/builds/b-nope')).status).toBe(404);
  });

  it('cancels a build mid-phase: its processes stop, nothing it wrote is left, the event says so', async () => {
    const started = await post({ function: 'hello', output: 'oci-layout' });
    expect(started.status).toBe(202);
    const id = started.body.id as string;
    let cancel: Promise<{ status: number; body: Record<string, unknown> }> | undefined;
    const seen = await follow(id, (e) => {
      if (e.event === 'phase' && e.data.name === 'build' && !cancel)
        cancel = dev.call(`/v1/builds/${id}`, { method: 'DELETE' });
    });
    expect(cancel, JSON.stringify(seen.slice(-6))).toBeDefined();
    const cancelled = await cancel!;
    expect(cancelled.body).toMatchObject({
      id,
      status: 'cancelled',
      error: { code: 'SPROUT_ERR_PLATFORM_BUILD_CANCELLED' },
    });
    expect(seen.at(-1)).toMatchObject({ event: 'end', data: { status: 'cancelled' } });
    const phases = seen.filter((e) => e.event === 'phase').map((e) => e.data.name);
    expect(phases.slice(0, 4)).toEqual(['analyze', 'detect', 'restore', 'build']);
    expect(existsSync(join(dev.dataDir, 'builds', id))).toBe(false);
    const work = join(dev.dataDir, 'builder', 'work');
    expect(existsSync(work) ? readdirSync(work) : []).toEqual([]); // scratch and lock gone
    expect(events.find((e) => e.type === 'build.failed' && e.build === id)).toMatchObject({
      cancelled: true,
    });
  }, 120_000);

  it('builds a served function, follows its phases and log, refuses a second build meanwhile, rebuilds after a change', async () => {
    const started = await post({ function: 'hello', output: 'oci-layout', env: { BP_LOG_LEVEL: 'DEBUG' } });
    expect(started.status).toBe(202);
    expect(schemaErrors('Build', started.body)).toEqual([]);
    const id = started.body.id as string;
    const second = await post({ source: fnDir });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ error: { code: 'SPROUT_ERR_PLATFORM_BUILD_RUNNING' } });
    const seen = await follow(id);
    const phases = seen.filter((e) => e.event === 'phase').map((e) => e.data.name);
    expect(phases).toEqual(['analyze', 'detect', 'restore', 'build', 'export']);
    expect(seen.filter((e) => e.event === 'log').length).toBeGreaterThan(phases.length);
    const end = seen.at(-1)!;
    expect(end, JSON.stringify(seen.slice(-5))).toMatchObject({
      event: 'end',
      data: { status: 'succeeded' },
    });
    const build = (await dev.call(`/v1/builds/${id}`)).body;
    expect(schemaErrors('Build', build)).toEqual([]);
    expect(build.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(existsSync(join(build.path as string, 'index.json'))).toBe(true);
    const types = events.filter((e) => e.build === id).map((e) => e.type);
    expect(types[0]).toBe('build.started');
    expect(types.filter((t) => t === 'build.phase')).toHaveLength(5);
    expect(types.at(-1)).toBe('build.finished');
    // Done: following again replays the log and ends at once.
    expect((await follow(id)).at(-1)).toMatchObject({ event: 'end', data: { status: 'succeeded' } });

    // The source changes: a rebuild from the API takes it (a new digest).
    writeFileSync(
      join(fnDir, 'index.ts'),
      `${'// changed\n'}${readFileSync(join(hello, 'index.ts'), 'utf8')}`,
    );
    const again = await post({ function: 'hello' });
    expect(again.status).toBe(202);
    const log = (await follow(again.body.id as string))
      .filter((e) => e.event === 'log')
      .map((e) => e.data.text);
    const rebuilt = (await dev.call(`/v1/builds/${String(again.body.id)}`)).body;
    expect(rebuilt.status, log.slice(-5).join('\n')).toBe('succeeded');
    expect(rebuilt.digest).not.toBe(build.digest);
    const list = (await dev.call('/v1/builds')).body.builds as Record<string, unknown>[];
    expect(list.map((b) => b.status)).toEqual(['succeeded', 'succeeded', 'cancelled']);
  }, 240_000);

  it('answers hostile requests to /v1/builds with coded statuses, never an internal error', async () => {
    const rng = seededRng();
    const r = await fuzzHttpServer(
      Number(new URL(dev.api.url).port),
      {
        paths: ['/v1/builds', '/v1/builds/b-x', '/v1/builds/b-x/logs', '/v1/builds/%2e%2e/logs'],
        good: Buffer.from(JSON.stringify({ source: '/etc', tag: 'x:1' })),
        headers: [`authorization: Bearer ${dev.api.token}`],
        methods: ['POST', 'GET', 'DELETE'],
      },
      { rng, ms: 1500, min: 40 },
    );
    const f = fuzzFindings(r);
    expect(f.serverErrors, `FUZZ_SEED=${rng.seed}`).toEqual([]);
    expect(f.uncoded, `FUZZ_SEED=${rng.seed}`).toEqual([]);
  }, 60_000);

  it('keeps the history across a restart of sprout dev: the list, each build and its log', async () => {
    const before = (await dev.call('/v1/builds')).body.builds as Record<string, unknown>[];
    expect(before.map((b) => b.status)).toEqual(['succeeded', 'succeeded', 'cancelled']);
    const id = before[1]!.id as string;
    const log = (await follow(id)).filter((e) => e.event === 'log').map((e) => e.data);
    await dev.close();
    dev = await startTestDev([fnDir], { collector: false, eip: false, standby: 0, dataDir: dev.dataDir });
    const after = (await dev.call('/v1/builds')).body.builds as Record<string, unknown>[];
    expect(after).toEqual(before);
    for (const b of after) expect(schemaErrors('Build', b)).toEqual([]);
    expect((await dev.call(`/v1/builds/${id}`)).body).toEqual(before[1]);
    const replayed = await follow(id);
    expect(replayed.filter((e) => e.event === 'log').map((e) => e.data)).toEqual(log);
    expect(replayed.filter((e) => e.event === 'phase').map((e) => e.data.name)).toEqual([
      'analyze',
      'detect',
      'restore',
      'build',
      'export',
    ]);
    expect(replayed.at(-1)).toMatchObject({ event: 'end', data: { id, status: 'succeeded' } });
  }, 60_000);
});
