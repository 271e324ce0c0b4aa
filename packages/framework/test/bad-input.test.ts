import { request } from 'node:http';
import { askHostless, HOSTLESS_REFUSED, rawExchange } from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '@sprout/framework';
import { SYNC_CALLS_FOR_NO_CONTEXT } from '../src/server.js';
import { fixture, json, start } from './helpers.js';

/** Sends a raw request and resolves with status and body (fetch cannot stream a lying body). */
function raw(
  url: string,
  init: { method?: string; headers?: Record<string, string>; chunks?: Buffer[] },
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'POST', headers: init.headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    for (const c of init.chunks ?? []) req.write(c);
    req.end();
  });
}

describe('bad input never takes the server down', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await start(
      [
        { source: fixture('ts-http'), target: 'hello', path: '/hello' },
        { source: fixture('ts-http'), target: 'boom', path: '/boom' },
        { source: fixture('ts-http'), target: 'stray', path: '/stray' },
        { source: fixture('ts-http'), target: 'timeout', path: '/timeout' },
        { source: fixture('ts-http'), target: 'sometimes', path: '/sometimes' },
      ],
      { bodyLimit: 1024, timeoutMs: 300 },
    );
    const onStray = (err: unknown) => s.server.handleStrayError(err);
    process.on('uncaughtException', onStray);
    cleanup.push(() => process.off('uncaughtException', onStray));
  });
  const cleanup: (() => void)[] = [];
  afterAll(async () => {
    cleanup.forEach((c) => c());
    await s.close();
  });

  const ok = async () =>
    expect((await fetch(`${s.url}/hello`, { method: 'POST', headers: json, body: '{}' })).status).toBe(200);

  it('answers malformed JSON with 400 and a code', async () => {
    const r = await fetch(`${s.url}/hello`, { method: 'POST', headers: json, body: '{"name": ' });
    expect(r.status).toBe(400);
    expect(r.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_FRAMEWORK_MALFORMED_BODY');
    expect((await r.json()).error.message).toMatch(/not valid JSON/);
    await ok();
  });

  it('refuses an oversized body by its declared length and by its streamed size with 413', async () => {
    const declared = await fetch(`${s.url}/hello`, { method: 'POST', headers: json, body: 'x'.repeat(2048) });
    expect(declared.status).toBe(413);
    expect(declared.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_FRAMEWORK_BODY_TOO_LARGE');
    const chunked = await raw(`${s.url}/hello`, {
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      chunks: [Buffer.alloc(600, 'a'), Buffer.alloc(600, 'b')],
    });
    expect(chunked.status).toBe(413);
    await ok();
  });

  it('gives a throwing function a 500 with an error header and keeps serving', async () => {
    const r = await fetch(`${s.url}/boom`);
    expect(r.status).toBe(500);
    expect(r.headers.get('x-sprout-status')).toBe('error');
    const body = await r.json();
    expect(body.error.code).toBe('SPROUT_ERR_FRAMEWORK_FUNCTION_FAILED');
    expect(JSON.stringify(body)).not.toMatch(/kaboom/); // internals stay in the logs
    await ok();
  });

  it('answers the request an error thrown from a timer belongs to, and keeps serving', async () => {
    const r = await fetch(`${s.url}/stray`);
    expect(r.status).toBe(500);
    await ok();
  });

  it('answers the request a timer error belongs to when the request had a body (read by stream events, which carry no async context)', async () => {
    const r = await fetch(`${s.url}/stray`, { method: 'POST', headers: json, body: '{"a":1}' });
    expect(r.status).toBe(500);
    expect(r.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_FRAMEWORK_FUNCTION_FAILED');
    await ok();
  });

  it('answers a timer error with 500 from a function that went async after a long run of synchronous answers', async () => {
    // Past the run its calls go without an async context; the call that answers later puts it back.
    for (let sent = 0; sent < SYNC_CALLS_FOR_NO_CONTEXT + 50; sent += 50) {
      const batch = Array.from({ length: 50 }, () => fetch(`${s.url}/sometimes`).then((r) => r.text()));
      expect(new Set(await Promise.all(batch))).toEqual(new Set(['now']));
    }
    expect(await (await fetch(`${s.url}/sometimes?later`)).text()).toBe('later');
    const r = await fetch(`${s.url}/sometimes?stray`);
    expect(r.status).toBe(500);
    expect(r.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_FRAMEWORK_FUNCTION_FAILED');
    await ok();
  });

  it('aborts req.signal and answers 408 when the function outlives the timeout', async () => {
    const t0 = Date.now();
    const r = await fetch(`${s.url}/timeout`);
    expect(r.status).toBe(408);
    expect(r.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_FRAMEWORK_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(5000);
    await ok();
  });

  it('answers an HTTP/1.1 request without Host (a fuzz find) with a coded 400, not the bare one of Node, and closes it', async () => {
    const port = Number(new URL(s.url).port);
    expect(await askHostless(port, '/hello')).toEqual(HOSTLESS_REFUSED);
    // HTTP/1.0 needs no Host: the function answers.
    const old = await rawExchange(
      port,
      'POST /hello HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}',
    );
    expect(old.status).toBe(200);
    await ok();
  });

  it('answers the ignored routes 404 without calling the function', async () => {
    expect((await fetch(`${s.url}/hello/favicon.ico`)).status).toBe(404);
    expect((await fetch(`${s.url}/hello/robots.txt`)).status).toBe(404);
  });

  it('survives random bodies with random content types (fuzz)', async () => {
    const types = [
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/cloudevents+json',
      'application/octet-stream',
      'application/json; charset=latin1',
      '',
    ];
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 150; i++) {
      const len = Math.floor(rnd() * 1500);
      const body = Buffer.from(Array.from({ length: len }, () => Math.floor(rnd() * 256)));
      const type = types[Math.floor(rnd() * types.length)]!;
      const r = await fetch(`${s.url}/hello`, {
        method: 'POST',
        headers: type ? { 'content-type': type } : {},
        body,
      });
      // Every answer is a deliberate one: success, a coded 4xx, never a 5xx or a dropped connection.
      expect([200, 400, 413]).toContain(r.status);
      if (r.status !== 200) expect(r.headers.get('x-sprout-error-code')).toMatch(/^SPROUT_ERR_FRAMEWORK_/);
      await r.arrayBuffer();
    }
    await ok();
  });
});

describe('load failures are clear errors', () => {
  it('names a missing target and lists what the module has', async () => {
    await expect(start({ source: fixture('ts-http'), target: 'nope' })).rejects.toMatchObject({
      code: 'SPROUT_ERR_FRAMEWORK_TARGET_NOT_FOUND',
      message: expect.stringMatching(/available: .*hello/),
    });
  });

  it('names a module that throws on import', async () => {
    await expect(start({ source: fixture('throws-on-import') })).rejects.toMatchObject({
      code: 'SPROUT_ERR_FRAMEWORK_MODULE_LOAD_FAILED',
      message: expect.stringMatching(/broken at import/),
    });
  });

  it('names a source folder with no function', async () => {
    await expect(start({ source: fixture('plugins-fn/plugins/none') })).rejects.toMatchObject({
      code: 'SPROUT_ERR_FRAMEWORK_MODULE_NOT_FOUND',
    });
  });

  it('serves 503 with the load error under watch instead of exiting', async () => {
    const s = await start({ source: fixture('throws-on-import') }, { watch: true });
    try {
      const r = await fetch(s.url);
      expect(r.status).toBe(503);
      expect((await r.json()).error).toMatchObject({
        code: 'SPROUT_ERR_FRAMEWORK_MODULE_LOAD_FAILED',
        message: expect.stringMatching(/broken at import/),
      });
    } finally {
      await s.close();
    }
  });
});
