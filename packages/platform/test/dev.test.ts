import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@sprout/observe';
import { startDev, type DevServer } from '../src/index.js';
import { captureLogs, fixtures, withToken } from './helpers.js';

/** GET with a Host header (fetch does not let a caller set it). */
function get(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const hello = fileURLToPath(new URL('../../../examples/hello', import.meta.url));
const open: DevServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

async function dev(paths: string[], watch = false): Promise<DevServer & { logs: Record<string, unknown>[] }> {
  const { logs, logger } = captureLogs();
  const d = await startDev({
    paths,
    cwd: fixtures,
    dataDir: mkdtempSync(join(tmpdir(), 'sprout-platform-dev-')),
    port: 0,
    host: '127.0.0.1',
    apiPort: 0,
    logger,
    watch,
  });
  open.push(d);
  return Object.assign(d, { logs });
}

describe('startDev (platform + gateway + API)', () => {
  it('serves examples/hello at / and /hello through the gateway, scaling from zero', async () => {
    const d = await dev([hello]);
    const first = await fetch(`${d.url}/`);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-sprout-cold-start')).toBe('true');
    expect(await first.text()).toBe('Hello, world!\n');
    expect(await (await fetch(`${d.url}/hello?name=dev`)).text()).toBe('Hello, dev!\n');
    expect(d.logs.find((l) => l.msg === 'serving')).toMatchObject({
      function: 'hello',
      url: `${d.url}/hello`,
      paths: ['/hello', '/'],
    });
    const metrics = await (await fetch(`${d.api.url}/metrics`)).text();
    expect(metrics).toMatch(/sprout_gateway_cold_starts_total\{function="hello"\} 1/);
  });

  it('routes several functions by name and by triggers.http.route, with a bad file alongside', async () => {
    const d = await dev(['echo', 'greeter', 'bad-yaml']);
    const echo = await fetch(`${d.url}/echo/x`);
    expect(await echo.json()).toMatchObject({ path: '/x' });
    const greet = await get(`${d.url}/greet?name=Bo`, 'greeter.local');
    expect(greet).toEqual({ status: 200, body: 'Howdy, Bo!' });
    expect((await get(`${d.url}/greet?name=Bo`, 'other.local')).status).toBe(404);
    const list = (await (await fetch(`${d.api.url}/v1/functions`, withToken(d.api.token))).json()) as {
      functions: { name: string }[];
      problems: { code: string }[];
    };
    expect(list.functions.map((f) => f.name)).toEqual(['echo', 'greeter']);
    expect(list.problems).toMatchObject([{ code: 'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD' }]);
  });

  it('answers 502 when an instance crashes mid-request and serves the next request', async () => {
    const d = await dev(['crashy', 'echo']);
    const crash = await fetch(`${d.url}/crashy/crash`);
    expect(crash.status).toBe(502);
    // The next request once the platform has seen the process exit (a request racing the exit itself
    // can meet a connection reset; see the README's gaps).
    await expect.poll(() => d.platform.events.since(0).some((e) => e.type === 'instance.crashed')).toBe(true);
    const next = await fetch(`${d.url}/crashy/`);
    expect(next.status, await next.clone().text()).toBe(200);
    expect(await next.text()).toMatch(/^alive \d+$/);
    expect(d.platform.view('crashy').restarts).toBe(1);
  });

  it('routes functions registered later through the API', async () => {
    const d = await dev(['echo']);
    // A single function also owns /, so /slow/ goes to echo until slow is registered.
    expect(await (await fetch(`${d.url}/slow/?ms=1`)).json()).toMatchObject({ path: '/slow/?ms=1' });
    const r = await fetch(
      `${d.api.url}/v1/functions`,
      withToken(d.api.token, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ paths: ['slow'] }),
      }),
    );
    expect(r.status).toBe(201);
    expect(await (await fetch(`${d.url}/slow/?ms=1`)).text()).toBe('done after 1');
    // With two functions, / no longer belongs to echo alone.
    expect((await fetch(`${d.url}/`)).status).toBe(404);
  });

  it('says which flag to change when a port is taken', async () => {
    const d = await dev(['echo']);
    const port = Number(new URL(d.api.url).port);
    await expect(
      startDev({
        paths: ['echo'],
        cwd: fixtures,
        dataDir: mkdtempSync(join(tmpdir(), 'sprout-platform-dev-')),
        port: 0,
        host: '127.0.0.1',
        apiPort: port,
        standby: 0,
        logger: createLogger({ level: 'silent' }),
      }),
    ).rejects.toMatchObject({
      code: 'SPROUT_ERR_PLATFORM_PORT_IN_USE',
      message: expect.stringContaining('--api-port'),
    });
  });

  it('under watch, registers a function again when its function.yaml changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sprout-platform-spec-'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module", "main": "index.js" }');
    writeFileSync(join(dir, 'index.js'), 'export const v = () => "ok";');
    const yaml = (max: number) =>
      `apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: spec-watch\nspec:\n  serving:\n    scaleOptions:\n      maxReplicas: ${max}\n`;
    writeFileSync(join(dir, 'function.yaml'), yaml(2));
    const d = await dev([dir], true);
    expect(await (await fetch(`${d.url}/`)).text()).toBe('ok');
    writeFileSync(join(dir, 'function.yaml'), yaml(3));
    await expect.poll(() => d.platform.view('spec-watch').scaling.maxReplicas, { timeout: 10_000 }).toBe(3);
    expect(await (await fetch(`${d.url}/`)).text()).toBe('ok');
    // A broken edit is reported; the running version stays.
    writeFileSync(join(dir, 'function.yaml'), yaml(3).replace('maxReplicas', 'maxReplicaz'));
    await expect
      .poll(() => d.platform.problems().map((p) => p.code), { timeout: 10_000 })
      .toContain('SPROUT_ERR_SPEC_UNSUPPORTED_FIELD');
    expect(d.platform.view('spec-watch').scaling.maxReplicas).toBe(3);
    writeFileSync(join(dir, 'function.yaml'), yaml(4));
    await expect.poll(() => d.platform.view('spec-watch').scaling.maxReplicas, { timeout: 10_000 }).toBe(4);
    expect(d.platform.problems()).toEqual([]);
  });

  it('under watch, reloads a function when its file changes and answers 503 with a load error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sprout-platform-watch-'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module", "main": "index.js" }');
    writeFileSync(join(dir, 'index.js'), 'export const v = () => "v1";');
    const d = await dev([dir, 'bad-target'], true);
    const name = d.platform.names().find((n) => n !== 'bad-target')!;
    expect(await (await fetch(`${d.url}/${name}`)).text()).toBe('v1');
    writeFileSync(join(dir, 'index.js'), 'export const v = () => "v2";');
    await expect.poll(async () => (await fetch(`${d.url}/${name}`)).text(), { timeout: 10_000 }).toBe('v2');
    const bad = await fetch(`${d.url}/bad-target`);
    expect(bad.status).toBe(503);
    expect(await bad.text()).toMatch(/SPROUT_ERR_FRAMEWORK_TARGET_NOT_FOUND/);
  });
});
