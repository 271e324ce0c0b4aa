// The cluster installer in a real browser (Debian's Chromium driven by playwright-core, no browser
// download) against a real `sprout console` (the console alone, as for cluster work) with the
// stand-in kk on its PATH: sign in, walk the wizard, see the server's inline error, save, download
// the YAML and check it, run kk and watch its log arrive live, the pre-flight against a real sshd;
// and what a user expects of these pages: keyboard only, a narrow window, API errors with their code.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createClusterValidator, SECRET_REF_PREFIX, type ClusterConfig } from '@sprout/console/kubekey';
import { FAKE_KK_BIN, PASSWORD_USER, startSshd, type TestSshd } from '@sprout/console/testing';
import { freePort } from '@sprout/http/testing';
import { buildConsoleWeb, launchChromium, startConsoleDev, type ConsoleDev } from './console-dev.js';

const PASSWORD = 'browser-admin-password';
const HOST_SECRET = 'pw-browser-host-1';

/**
 * With SPROUT_CONSOLE_SCREENSHOTS=<dir> the run saves the pages it visits there as PNG (the README's
 * pictures of the cluster installer are made so); without it, nothing is written.
 */
async function shot(page: Page, name: string): Promise<void> {
  const dir = process.env.SPROUT_CONSOLE_SCREENSHOTS;
  if (!dir) return;
  // From the top: the shell's header and navigation are fixed, and a scrolled full-page shot repeats them.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

describe('Clusters in Chromium', () => {
  let server: ConsoleDev;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let dataDir: string;
  let control: string;
  let sshd: TestSshd;
  let csrf: string;
  const problems: string[] = [];

  beforeAll(async () => {
    // The pages as shipped: dist/web, built from web/ when a source changed.
    buildConsoleWeb();
    dataDir = mkdtempSync(join(tmpdir(), 'sprout-kk-browser-'));
    control = mkdtempSync(join(tmpdir(), 'sprout-fake-kk-'));
    writeFileSync(join(control, 'lines'), '4');
    writeFileSync(join(control, 'sleep'), '0.3');
    server = await startConsoleDev(['--data-dir', dataDir], PASSWORD, {
      command: 'console',
      env: {
        PATH: `${FAKE_KK_BIN}${delimiter}${process.env.PATH}`,
        FAKE_KK_DIR: control,
        FAKE_KK_SECRET: HOST_SECRET,
      },
    });
    browser = await launchChromium();
    context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    const signIn = await context.request.post(`${server.url}/v1/auth/login`, {
      data: { user: 'admin', password: PASSWORD },
    });
    expect(signIn.status()).toBe(200);
    csrf = ((await signIn.json()) as { csrf: string }).csrf;
    sshd = await startSshd();
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.stack ?? e.message));
  }, 120_000);

  afterAll(async () => {
    if (problems.length > 0) console.error('browser errors:', problems);
    if (process.env.SPROUT_SCREENSHOT)
      await page?.screenshot({ path: process.env.SPROUT_SCREENSHOT, fullPage: true });
    await browser?.close();
    await server?.stop();
    await sshd?.close();
    for (const d of [dataDir, control]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('walks the wizard, shows the inline error, saves, downloads valid YAML, runs kk and follows its log', async () => {
    await page.goto(`${server.url}/clusters`);
    await page.getByText('No clusters yet').waitFor();
    await page.getByRole('link', { name: 'Create cluster' }).click();

    // Hosts
    await page.getByLabel('Cluster name').fill('lab');
    await page.getByRole('button', { name: 'Add host' }).click();
    await page.getByRole('button', { name: 'Add host' }).click();
    const host = (n: number) => page.getByRole('group', { name: `Host ${n}` });
    await host(1).getByLabel('Address', { exact: true }).fill('192.168.0.11');
    await host(1).getByLabel('SSH password').fill(HOST_SECRET);
    for (const role of ['etcd', 'Control plane', 'Worker']) await host(1).getByLabel(role).check();
    await host(2).getByLabel('Address', { exact: true }).fill('192.168.0.12');
    await host(2).getByLabel('SSH password').fill(HOST_SECRET);
    await host(2).getByLabel('Worker').check();
    await shot(page, 'clusters-wizard-hosts');
    const next = page.getByRole('button', { name: 'Next' });
    await next.click(); // → etcd
    await page.getByLabel('etcd type').first().waitFor();
    await next.click(); // → cluster
    await page.getByLabel('Kubernetes version').first().waitFor();
    await next.click(); // → network
    await page.getByLabel('Service CIDR').fill('10.233.64.0/24');
    await next.click();
    // The server's error, inline under the field; the wizard stays on the step.
    const cidr = page.getByLabel('Service CIDR');
    await expect.poll(() => cidr.getAttribute('aria-invalid')).toBe('true');
    const described = ((await cidr.getAttribute('aria-describedby')) ?? '').split(' ').filter(Boolean);
    const inline = await Promise.all(described.map((id) => page.locator(`[id="${id}"]`).textContent()));
    expect(inline.join(' ')).toContain('10.233.64.0/24 overlaps the pod CIDR 10.233.64.0/18');
    await shot(page, 'clusters-wizard-error');
    await page.getByLabel('Service CIDR').fill('10.233.0.0/18');
    await next.click(); // → registry
    await page.getByLabel('Registry mirrors').first().waitFor();
    await next.click(); // → add-ons
    await page.getByRole('button', { name: 'Add add-on' }).waitFor();
    await next.click(); // → confirm
    const preview = page.getByLabel('Cluster YAML');
    await expect.poll(() => preview.textContent()).toContain('kind: Cluster');
    expect(await preview.textContent()).not.toContain(HOST_SECRET);
    await page.getByRole('button', { name: 'Save cluster' }).click();
    await page.getByRole('link', { name: 'Download lab.yaml' }).waitFor();
    await shot(page, 'clusters-wizard-confirm');

    // Download: the file as saved, secrets as references, valid against the CRD.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download lab.yaml' }).click(),
    ]);
    const file = await download.path();
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(HOST_SECRET);
    const config = parse(text) as ClusterConfig;
    expect(config.spec.hosts.map((h) => [h.name, h.address])).toEqual([
      ['node1', '192.168.0.11'],
      ['node2', '192.168.0.12'],
    ]);
    expect(config.spec.hosts[0]!.password).toMatch(new RegExp(`^${SECRET_REF_PREFIX}`));
    expect(config.spec.roleGroups).toEqual({
      etcd: ['node1'],
      'control-plane': ['node1'],
      worker: ['node1', 'node2'],
    });
    expect(
      createClusterValidator()
        .validate(config)
        .filter((i) => i.severity === 'error'),
    ).toEqual([]);

    // The cluster page, then kk create cluster: its lines appear while it runs.
    await page.getByRole('button', { name: 'Open cluster' }).click();
    await page.getByRole('button', { name: 'Create cluster (kk)' }).click();
    const log = page.getByLabel('kk output');
    await expect.poll(() => log.textContent(), { timeout: 15_000 }).toContain('step 1 of 4');
    expect(await page.getByLabel('Run status').textContent()).toBe('running');
    await expect
      .poll(() => page.getByLabel('Run status').textContent(), { timeout: 15_000 })
      .toBe('succeeded');
    const out = (await log.textContent()) ?? '';
    expect(out).toContain('config holds the password');
    expect(out.indexOf('step 1 of 4')).toBeLessThan(out.indexOf('step 4 of 4'));
    await page.getByText('exit status 0').waitFor();
    await shot(page, 'clusters-run');

    // Back on the list: the cluster with its nodes, version, plugin and runtime.
    await page.goto(`${server.url}/clusters`);
    const row = page.getByRole('row', { name: /lab/ });
    await expect.poll(() => row.textContent()).toMatch(/lab2v1\.\d+\.\d+calicocontainerd/);
    await shot(page, 'clusters-list');
    expect(problems).toEqual([]);
  }, 120_000);

  it('adds a node through the wizard (stored passwords kept) and runs kk add nodes', async () => {
    await page.goto(`${server.url}/clusters/lab`);
    await page.getByRole('link', { name: 'Edit / add nodes' }).click();
    const host = (n: number) => page.getByRole('group', { name: `Host ${n}` });
    // The saved hosts' passwords are not sent back: the page says they are stored.
    await host(1).getByText('The password is stored, encrypted, on the server.').waitFor();
    await page.getByRole('button', { name: 'Add host' }).click();
    await host(3).getByLabel('Address', { exact: true }).fill('192.168.0.13');
    await host(3).getByLabel('SSH password').fill(HOST_SECRET);
    await host(3).getByLabel('Worker').check();
    const next = page.getByRole('button', { name: 'Next' });
    for (let i = 0; i < 6; i++) await next.click();
    await page.getByRole('button', { name: 'Save cluster' }).click();
    await page.getByRole('button', { name: 'Open cluster' }).click();
    await page.getByText(/^3 nodes/).waitFor();
    await page.getByRole('button', { name: 'Add nodes' }).click();
    const log = page.getByLabel('kk output');
    await expect
      .poll(() => page.getByLabel('Run status').textContent(), { timeout: 15_000 })
      .toBe('succeeded');
    const out = (await log.textContent()) ?? '';
    expect(out).toMatch(/kk add nodes -f \S+lab\.yaml --yes/);
    // The stored passwords opened (a run refuses to start otherwise) and kk read them in clear.
    expect(out).toContain('config holds the password');
    const saved = await context.request.get(`${server.url}/v1/clusters/lab`);
    const body = (await saved.json()) as { config: ClusterConfig };
    expect(body.config.spec.hosts.map((h) => String(h.password).startsWith(SECRET_REF_PREFIX))).toEqual([
      true,
      true,
      true,
    ]);
    expect(problems).toEqual([]);
  }, 60_000);

  it('runs the pre-flight against a real sshd: one host passes login, one fails auth, one is unreachable', async () => {
    const yaml = [
      'apiVersion: kubekey.kubesphere.io/v1alpha2',
      'kind: Cluster',
      'metadata: {name: pf}',
      'spec:',
      '  hosts:',
      `  - {name: good, address: 127.0.0.1, port: ${sshd.port}, user: root, privateKey: ${JSON.stringify(sshd.privateKey)}}`,
      `  - {name: wrongpw, address: 127.0.0.1, port: ${sshd.port}, user: ${PASSWORD_USER}, password: not-the-password}`,
      `  - {name: gone, address: 127.0.0.1, port: ${await freePort()}, user: root, password: x}`,
      '  roleGroups: {etcd: [good], control-plane: [good], worker: [good, wrongpw, gone]}',
      '  kubernetes: {version: v1.28.15, containerManager: containerd}',
      '  network: {plugin: calico, kubePodsCIDR: 10.233.64.0/18, kubeServiceCIDR: 10.233.0.0/18}',
      '',
    ].join('\n');
    const imported = await context.request.post(`${server.url}/v1/clusters/-/import`, {
      data: { yaml },
      headers: { 'x-sprout-csrf': csrf },
    });
    expect(imported.status()).toBe(201);
    await page.goto(`${server.url}/clusters/pf`);
    await page.getByRole('button', { name: 'Run pre-flight' }).click();
    const table = (host: string) => page.getByRole('table', { name: `Pre-flight of ${host}` });
    const row = (host: string, check: string) =>
      table(host).getByRole('row', { name: new RegExp(`^${check}`) });
    await table('good').waitFor({ timeout: 30_000 });
    expect(await row('good', 'SSH login').textContent()).toContain('pass');
    expect(await row('wrongpw', 'SSH login').textContent()).toMatch(/fail.*PasswordAuthentication/);
    expect(await row('gone', 'SSH reachable').textContent()).toMatch(/fail.*ECONNREFUSED.*sshd runs on gone/);
    await shot(page, 'clusters-preflight');
    expect(problems).toEqual([]);
  }, 60_000);
});
