// The console in a real browser (Debian's Chromium driven by playwright-core, never a downloaded
// browser) against a real `sprout dev` serving examples/hello and an async function: sign in, the
// functions list, the invoke panel, a live update after an invoke, the Triggers and Logs pages, sign
// out; then the auth layer's attacks over plain HTTP against the same server.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_FLAGS as FLAGS, startConsoleDev, type ConsoleDev } from './console-dev.js';
import { bin, root } from './sprout.js';

const PASSWORD = 'console-e2e-password';

if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh (chromium)`);

let dev: ConsoleDev;
let consoleUrl: string;
let token: string;
let signInLink: string;
let context: BrowserContext;
let page: Page;
let dataDir: string;
let profile: string;
const problems: string[] = [];
const netlog: string[] = [];

/**
 * With SPROUT_CONSOLE_SCREENSHOTS=<dir> the run saves the pages it visits there as PNG (the console
 * README's pictures are made so); without it, nothing is written.
 */
async function shot(name: string): Promise<void> {
  const dir = process.env.SPROUT_CONSOLE_SCREENSHOTS;
  if (dir) await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** Starts `sprout dev` and resolves once it printed the console's URL (after the API's token). */
async function startDev(): Promise<void> {
  dev = await startConsoleDev(
    ['examples/hello', 'examples/order-pipeline/fulfil', '--data-dir', dataDir, '--no-eip', '--no-collector'],
    PASSWORD,
  );
  ({ url: consoleUrl, token, signIn: signInLink } = dev);
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sprout-console-e2e-'));
  profile = mkdtempSync(join(tmpdir(), 'sprout-chromium-'));
  await startDev();
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: FLAGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    // A 401 before signing in is the page asking who it is: expected, not a problem.
    if (m.type() === 'error' && !/401/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  // The API answers the page got, for the message of a failed wait.
  page.on('response', (r) => {
    if (r.url().includes('/v1/')) netlog.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await dev?.stop();
  rmSync(profile, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the console in Chromium', { timeout: 60_000 }, () => {
  it('asks to sign in, refuses a wrong password with its code, signs in with the right one', async () => {
    await page.goto(`${consoleUrl}/functions`);
    await page.getByLabel('Admin password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('SPROUT_ERR_CONSOLE_LOGIN_FAILED');
    await page.getByLabel('Admin password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Functions' }).waitFor();
    const cookies = await context.cookies(consoleUrl);
    const session = cookies.find((c) => c.name === 'sprout_session')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Strict');
  });

  it('lists hello and the async function, with the live badge on', async () => {
    const table = page.getByRole('table', { name: 'Functions' });
    await table.locator('tr[data-function="hello"]').waitFor();
    await table.locator('tr[data-function="fulfil"]').waitFor();
    await page.getByText('live', { exact: true }).waitFor();
  });

  it("invokes hello from its page and gets Hello, world!; the list's ready count follows live", async () => {
    const ready = () =>
      page.locator('tr[data-function="hello"] td[data-col="ready"]').textContent({ timeout: 5_000 });
    expect(await ready()).toBe('0');
    await page.getByRole('link', { name: 'hello' }).click();
    await page.getByRole('heading', { name: 'Invoke' }).waitFor();
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => page.getByTestId('invoke-status').textContent(), { timeout: 30_000 }).toBe('200');
    expect(await page.getByTestId('invoke-body').textContent()).toBe('Hello, world!\n');
    await shot('function');
    // The function's page follows its logs: the new instance's first line arrives without a reload.
    await expect.poll(() => page.locator('[data-log-line]').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await page.getByRole('link', { name: 'Functions' }).click();
    await expect.poll(ready, { timeout: 20_000 }).toBe('1');
    await expect
      .poll(() => page.locator('tr[data-function="hello"] td[data-col="cold-starts"]').textContent(), {
        timeout: 10_000,
      })
      .toBe('1');
    await shot('functions');
  });

  it('updates a row from its events alone: list reads held back, the scale and the new instance show', async () => {
    await page.goto(`${consoleUrl}/functions`);
    const cell = (col: string) => page.locator(`tr[data-function="hello"] td[data-col="${col}"]`);
    await expect.poll(() => cell('ready').textContent(), { timeout: 10_000 }).toBe('1');
    await page.getByText('live', { exact: true }).waitFor();
    // From here every read of the list waits until the end: the row can only change from events.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const listRead = (u: URL) => u.pathname === '/v1/functions';
    await page.route(listRead, async (route) => {
      await released;
      await route.continue();
    });
    try {
      const scaled = await fetch(`${consoleUrl}/v1/functions/hello/scale`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ replicas: 2 }),
      });
      expect(scaled.status).toBe(202);
      await expect.poll(() => cell('replicas').textContent(), { timeout: 10_000 }).toBe('2');
      await expect.poll(() => cell('ready').textContent(), { timeout: 30_000 }).toBe('2');
    } finally {
      release();
      await page.unroute(listRead);
    }
  });

  it('reads the list again when the event stream reconnects, so a state it missed is set right', async () => {
    // The page's first stream answers one made-up event (hello at 7 replicas, an id far ahead) and
    // ends; the page applies it, reconnects to the real stream and must read the list again.
    const made = { id: 1_000_000, type: 'scale', time: new Date().toISOString(), function: 'hello' };
    const status = { desiredReplicas: 7, readyReplicas: 0, restarts: 0 };
    const body = `id: ${made.id}\nevent: scale\ndata: ${JSON.stringify({ ...made, status })}\n\n`;
    let streams = 0;
    const events = (u: URL) => u.pathname === '/v1/events';
    await page.route(events, (route) =>
      streams++ === 0
        ? route.fulfill({ status: 200, contentType: 'text/event-stream', body })
        : route.continue(),
    );
    try {
      await page.goto(`${consoleUrl}/functions`);
      const replicas = page.locator('tr[data-function="hello"] td[data-col="replicas"]');
      await expect.poll(() => replicas.textContent(), { timeout: 10_000 }).toBe('7');
      await expect.poll(() => replicas.textContent(), { timeout: 20_000 }).not.toBe('7');
      expect(streams).toBeGreaterThan(1);
    } finally {
      await page.unroute(events);
    }
  });

  it("shows an async function's function.yaml on its page", async () => {
    await page.goto(`${consoleUrl}/functions/fulfil`);
    await expect.poll(() => page.getByText('kind: Function').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await page.getByRole('link', { name: 'Functions' }).click();
  });

  it("shows the async function's trigger and the Logs page's lines", async () => {
    await page.getByRole('link', { name: 'Triggers' }).click();
    await page.getByRole('table', { name: 'Triggers' }).getByText('fulfil').waitFor();
    await shot('triggers');
    await page.getByRole('link', { name: 'Logs' }).click();
    await expect
      .poll(() => page.locator('[data-log-line]').filter({ hasText: 'hello' }).count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
    await shot('logs');
  });

  it('signs out: the session is gone for the API too', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin password').waitFor();
    const res = await context.request.get(`${consoleUrl}/v1/functions`);
    expect(res.status()).toBe(401);
  });

  it('signs in with the printed one-time link, once', async () => {
    await page.goto(signInLink);
    await page
      .getByRole('heading', { name: 'Functions' })
      .waitFor({ timeout: 10_000 })
      .catch(async (err: Error) => {
        throw new Error(
          `${err.message}\nat ${page.url()}: ${problems.join('\n')} ${netlog.slice(-15).join('\n')}`,
        );
      });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto(signInLink);
    await page.getByLabel('Admin password').waitFor();
    await page.getByRole('alert').filter({ hasText: 'SPROUT_ERR_CONSOLE_LOGIN_FAILED' }).waitFor();
    // Refusals the page showed on purpose (wrong password, used link) are not console problems.
    expect(problems.filter((p) => !/40[13]/.test(p))).toEqual([]);
  });
});

describe('the auth layer over HTTP against the same sprout dev', () => {
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(consoleUrl + path, init);
    return { status: res.status, code: res.headers.get('x-sprout-error-code') };
  };
  const signIn = async () => {
    const res = await fetch(`${consoleUrl}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: PASSWORD }),
    });
    const cookie = res.headers
      .getSetCookie()
      .map((s) => s.split(';')[0])
      .join('; ');
    return { cookie, csrf: ((await res.json()) as { csrf: string }).csrf };
  };
  const scale = (headers: Record<string, string>) =>
    call('/v1/functions/hello/scale', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ replicas: 1 }),
    });

  it('no cookie and a forged cookie get 401 on the platform API', async () => {
    expect(await call('/v1/functions')).toMatchObject({ status: 401, code: 'SPROUT_ERR_HTTP_UNAUTHORIZED' });
    expect(await call('/v1/functions', { headers: { cookie: 'sprout_session=forged' } })).toMatchObject({
      status: 401,
    });
  });

  it('a cookie write needs the CSRF token and the same origin; the platform token needs neither', async () => {
    const { cookie, csrf } = await signIn();
    expect((await call('/v1/functions', { headers: { cookie } })).status).toBe(200);
    expect(await scale({ cookie })).toMatchObject({ status: 403, code: 'SPROUT_ERR_HTTP_CSRF' });
    expect(await scale({ cookie, 'x-sprout-csrf': csrf, origin: 'http://evil.example' })).toMatchObject({
      status: 403,
      code: 'SPROUT_ERR_HTTP_CROSS_ORIGIN',
    });
    expect((await scale({ cookie, 'x-sprout-csrf': csrf })).status).toBe(202);
    expect((await scale({ authorization: `Bearer ${token}` })).status).toBe(202);
  });

  it('a foreign Host is refused on the pages and the API', async () => {
    const port = Number(new URL(consoleUrl).port);
    const get = (path: string) =>
      new Promise<number>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path, headers: { host: 'evil.example' } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        })
          .on('error', reject)
          .end();
      });
    expect(await get('/')).toBe(403);
    expect(await get('/v1/functions')).toBe(403);
  });

  it('brute force: after 5 failures even the right password waits', async () => {
    const codes: (string | null)[] = [];
    for (let i = 0; i < 6; i++) {
      codes.push(
        (
          await call('/v1/auth/login', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ password: `guess-${i}` }),
          })
        ).code,
      );
    }
    // The sign-ins just before cleared this address's failures: 5 more are allowed, then none.
    expect(codes).toEqual([
      ...Array(5).fill('SPROUT_ERR_CONSOLE_LOGIN_FAILED'),
      'SPROUT_ERR_CONSOLE_LOGIN_RATE_LIMITED',
    ]);
    const right = await call('/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: PASSWORD }),
    });
    expect(right).toMatchObject({ status: 429, code: 'SPROUT_ERR_CONSOLE_LOGIN_RATE_LIMITED' });
  });
});

describe('sprout console', () => {
  it('serves the console alone, prints its URL and sign-in link, and no platform API', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sprout-console-alone-'));
    const alone = spawn(process.execPath, [bin, 'console', '--port', '0', '--data-dir', dir], {
      cwd: root,
      env: { ...process.env, SPROUT_LOG_FORMAT: 'json', NODE_OPTIONS: '' },
    });
    try {
      const out: string[] = [];
      const seen = await new Promise<{ url: string; password?: string }>((resolve, reject) => {
        let url: string | undefined;
        const onData = (c: Buffer) => {
          for (const line of c.toString().split('\n')) {
            out.push(line);
            const m = /"url":"([^"]+)","signIn"/.exec(line);
            if (m) url = m[1];
            const p = /"password":"([^"]+)"/.exec(line);
            if (url && p) resolve({ url, password: p[1] });
          }
        };
        alone.stdout!.on('data', onData);
        alone.stderr!.on('data', onData);
        alone.once('exit', (code) =>
          reject(new Error(`sprout console exited with ${code}: ${out.join('\n')}`)),
        );
      });
      // The first start generated the admin's password and printed it once.
      expect(seen.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      const page = await fetch(seen.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root">');
      const api = await fetch(`${seen.url}v1/functions`);
      expect(api.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_CONSOLE_NOT_FOUND');
      const login = await fetch(`${seen.url}v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ password: seen.password }),
      });
      expect(login.status).toBe(200);
    } finally {
      alone.kill('SIGTERM');
      await new Promise((r) => (alone.exitCode === null ? alone.once('exit', r) : r(undefined)));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
