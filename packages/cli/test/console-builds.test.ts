// The Builds page in Debian's Chromium against a real `sprout dev` serving a copy of examples/hello:
// sign in, start a build, watch the lifecycle's phases advance while the event stream refreshes the
// list, and end on a succeeded badge with the image's digest, with no console errors.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsoleWeb, launchChromium, startConsoleDev, type ConsoleDev } from './console-dev.js';

const PASSWORD = 'console-builds-password';

let dev: ConsoleDev;
let browser: Browser;
let page: Page;
let tmp: string;
const problems: string[] = [];

beforeAll(async () => {
  // The pages as shipped: dist/web, built from web/ when a source changed.
  buildConsoleWeb();
  tmp = mkdtempSync(join(tmpdir(), 'sprout-console-builds-'));
  const fnDir = join(tmp, 'hello');
  cpSync(fileURLToPath(new URL('../../../examples/hello', import.meta.url)), fnDir, { recursive: true });
  dev = await startConsoleDev([fnDir, '--data-dir', join(tmp, 'data'), '--no-collector'], PASSWORD);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    // The 401 before signing in is the page's own question.
    if (m.type() === 'error' && !/401/.test(m.text())) problems.push(m.text());
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await dev?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the Builds page', () => {
  it(
    'follows a build of hello through its phases to a succeeded badge with a digest',
    { timeout: 90_000 },
    async () => {
      await page.goto(`${dev.url}/builds`);
      await page.getByLabel('Admin password').fill(PASSWORD);
      await page.getByLabel('Admin password').press('Enter');
      await page.getByRole('heading', { name: 'Builds', exact: true }).waitFor();
      await page.getByPlaceholder('pick one').click();
      await page.getByRole('option', { name: 'hello', exact: true }).click();
      await page.getByRole('button', { name: 'Build', exact: true }).click();

      const status = page.getByTestId('build-status');
      const badges = page.getByTestId('build-phases').locator('.mantine-Badge-root');
      // Sampled while the build runs: the badge stays (a missing one fails the read) and the phase
      // shown as current only moves forward. The builder writes its lines in bursts, so a sample may
      // catch only one phase; the steps reached and the log's headers show the rest.
      const order = ['analyze', 'detect', 'restore', 'build', 'export'];
      const seen: number[] = [];
      while ((await status.textContent({ timeout: 10_000 })) === 'running') {
        const now = await page
          .getByTestId('build-phases')
          .locator('[data-variant="filled"]')
          .allTextContents();
        const i = order.indexOf(now[0] ?? '');
        if (i >= 0 && i !== seen.at(-1)) seen.push(i);
        await page.waitForTimeout(150);
      }
      expect(await status.textContent()).toBe('succeeded');
      const names = seen.map((i) => order[i]).join(' → ');
      expect(seen.length, names).toBeGreaterThan(0);
      expect(
        seen.every((i, k) => k === 0 || i > seen[k - 1]!),
        names,
      ).toBe(true);
      expect(await badges.allTextContents()).toEqual(order);
      const colors = await badges.evaluateAll((els) => els.map((e) => e.getAttribute('style') ?? ''));
      for (const c of colors) expect(c).toMatch(/green/);
      const log = (await page.getByTestId('build-log').textContent()) ?? '';
      expect(log.match(/^===> [A-Z]+/gm)).toEqual([
        '===> ANALYZING',
        '===> DETECTING',
        '===> RESTORING',
        '===> BUILDING',
        '===> EXPORTING',
      ]);
      const row = page.getByRole('row').filter({ hasText: 'hello' }).first();
      await expect
        .poll(() => row.textContent(), { timeout: 10_000 })
        .toMatch(/succeeded.*sha256:[0-9a-f]{12}/);
      expect(problems).toEqual([]);
    },
  );
});
