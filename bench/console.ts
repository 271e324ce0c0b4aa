/**
 * Console benchmark, one run on one machine:
 *  1. bundle size: the console's web app built by Vite in this run, gzipped, what the Functions page
 *     loads (the entry, its preloads and CSS) and everything; the peer is a Vite React hello-world
 *     built in the same run with the same Vite and React plugin;
 *  2. list rendered: a real `sprout dev` over a generated folder of 200 tiny functions; headless
 *     Chromium (Debian's, driven by playwright-core) signed in, time from navigation start to the
 *     functions table holding 200 rows (the page's own clock); the peer is the hello-world page served
 *     from localhost, navigation to its heading;
 *  3. live update: a function is invoked (a cold start), and the time from the `instance.ready` event
 *     reaching a stream reader in this process to the list's Ready cell showing 1 in the page, both
 *     on the wall clock of this machine (millisecond resolution), one function per round.
 *
 *   node --import tsx --conditions @sprout/source bench/console.ts [--rounds 9] [--live-rounds 20]
 *     [--peer-web DIR]
 *
 * `--peer-web DIR`: a second page, signed in to the same `sprout dev`, loads its app (index.html and
 * assets) from DIR, another build of the web app (e.g. an earlier commit's), and watches the same
 * events: each round times both pages on the same event, so a change is measured against what it
 * replaces under the same load.
 *
 * Needs the CLI built (`npx tsc -b packages/cli`) and Chromium (scripts/setup.sh).
 * Targets (issue 16): bundle ≤ 300 KiB gzip; list rendered ≤ 1 s; live update ≤ 200 ms p95.
 */
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type PluginOption } from 'vite';
import { percentile, root, writeResult } from './lib.js';

import { launchChromium, startConsoleDev, type ConsoleDev } from '../packages/cli/test/console-dev.js';

/** The console's Vite React plugin, as the console's workspace (which declares it) resolves it. */
const pluginUrl = pathToFileURL(
  createRequire(join(root, 'packages/console/package.json')).resolve('@vitejs/plugin-react'),
).href;
const react = ((await import(pluginUrl)) as { default: () => PluginOption }).default;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '9' },
    'live-rounds': { type: 'string', default: '20' },
    functions: { type: 'string', default: '200' },
    'peer-web': { type: 'string' },
  },
});
const peerWeb = values['peer-web'];
const rounds = Number(values.rounds);
const liveRounds = Number(values['live-rounds']);
const nFunctions = Number(values.functions);
const PASSWORD = 'console-bench-password';
const kib = (n: number) => +(n / 1024).toFixed(1);
const median = (v: number[]) => Math.round(percentile(v, 50));

/** Gzipped and raw sizes of a built app: what index.html loads, and every asset. */
function sizes(dir: string) {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const loaded = [...html.matchAll(/(?:src|href)="\/?(assets\/[^"]+)"/g)].map((m) => m[1]!);
  const all = readdirSync(join(dir, 'assets')).map((f) => `assets/${f}`);
  const gz = (files: string[]) =>
    files.reduce((n, f) => n + gzipSync(readFileSync(join(dir, f)), { level: 9 }).length, 0);
  const raw = (files: string[]) => files.reduce((n, f) => n + readFileSync(join(dir, f)).length, 0);
  return {
    initialGzipKiB: kib(gz(['index.html', ...loaded])),
    initialRawKiB: kib(raw(['index.html', ...loaded])),
    allGzipKiB: kib(gz(['index.html', ...all])),
    files: all.length,
  };
}

async function buildBoth(work: string) {
  const consoleOut = join(work, 'console');
  let t0 = performance.now();
  await build({
    configFile: join(root, 'packages/console/vite.config.ts'),
    build: { outDir: consoleOut, emptyOutDir: true },
    logLevel: 'warn',
  });
  const consoleBuildMs = performance.now() - t0;
  // The hello-world lives in the repository for the build only, so `react` resolves as it does for the console.
  const src = mkdtempSync(join(root, 'bench/.console-hello-'));
  try {
    writeFileSync(
      join(src, 'index.html'),
      '<!doctype html><html><head><meta charset="utf-8"><title>hello</title></head>' +
        '<body><div id="root"></div><script type="module" src="/main.jsx"></script></body></html>',
    );
    writeFileSync(
      join(src, 'main.jsx'),
      "import { StrictMode } from 'react';\nimport { createRoot } from 'react-dom/client';\n" +
        "createRoot(document.getElementById('root')).render(<StrictMode><h1>Hello, world!</h1></StrictMode>);\n",
    );
    t0 = performance.now();
    await build({
      configFile: false,
      root: src,
      plugins: [react()],
      build: { outDir: join(work, 'hello'), emptyOutDir: true },
      logLevel: 'warn',
    });
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
  return { consoleOut, helloOut: join(work, 'hello'), consoleBuildMs, helloBuildMs: performance.now() - t0 };
}

/** 200 tiny functions, each its own folder with a function.yaml, scaled to zero. */
function generateFunctions(dir: string): string[] {
  const paths: string[] = [];
  for (let i = 0; i < nFunctions; i++) {
    const name = `fn-${String(i).padStart(3, '0')}`;
    const d = join(dir, name);
    mkdirSync(d);
    writeFileSync(
      join(d, 'function.yaml'),
      `apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: ${name}\n` +
        'spec:\n  image: registry.local/bench:console\n  serving:\n    triggers:\n      http:\n        port: 8080\n' +
        '    scaleOptions:\n      minReplicas: 0\n      maxReplicas: 1\n',
    );
    writeFileSync(
      join(d, 'package.json'),
      JSON.stringify({ name, private: true, type: 'module', main: 'index.js' }),
    );
    writeFileSync(
      join(d, 'index.js'),
      `export function ${name.replace('-', '_')}() { return 'hi ${name}\\n'; }\n`,
    );
    paths.push(d);
  }
  return paths;
}

type Dev = ConsoleDev & { startMs: number };

/** `sprout dev` over the generated functions; resolves when it printed the console URL. */
async function startDev(paths: string[], dataDir: string): Promise<Dev> {
  const t0 = performance.now();
  const dev = await startConsoleDev(
    [...paths, '--data-dir', dataDir, '--no-eip', '--no-collector', '--no-watch'],
    PASSWORD,
  );
  return Object.assign(dev, { startMs: performance.now() - t0 });
}

/** A file of a built app by URL path (no extension: a page of the app, index.html), or undefined. */
function appFile(dir: string, urlPath: string): { body: Buffer; type: string } | undefined {
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.css': 'text/css',
    '.svg': 'image/svg+xml',
  };
  let path = urlPath.replace(/^\/+/, '').split('?')[0]!;
  if (path.includes('..')) return undefined;
  if (extname(path) === '') path = 'index.html';
  try {
    return { body: readFileSync(join(dir, path)), type: types[extname(path)] ?? 'application/octet-stream' };
  } catch {
    return undefined;
  }
}

/** Serves a built app's folder on a loopback port (the hello-world peer's page). */
function serveStatic(dir: string): Promise<{ url: string; close(): void }> {
  const server = createServer((req, res) => {
    const file = appFile(dir, req.url ?? '/');
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file.type }).end(file.body);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        close: () => server.close(),
      }),
    ),
  );
}

/** Follows the platform's event stream; `waitFor(fn)` resolves with the wall-clock ms an instance of fn got ready. */
function followEvents(dev: Dev) {
  const abort = new AbortController();
  const seen = new Map<string, number>();
  const waiters = new Map<string, (t: number) => void>();
  void (async () => {
    const res = await fetch(`${dev.url}/v1/events`, {
      headers: { authorization: `Bearer ${dev.token}`, accept: 'text/event-stream' },
      signal: abort.signal,
    });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: '', done: true }));
      if (done) return;
      buf += value;
      const blocks = buf.split('\n\n');
      buf = blocks.pop()!;
      const now = Date.now();
      for (const b of blocks) {
        const data = /^data: (.*)$/m.exec(b)?.[1];
        if (!data) continue;
        const e = JSON.parse(data) as { type: string; function?: string };
        if (e.type !== 'instance.ready' || !e.function || seen.has(e.function)) continue;
        seen.set(e.function, now);
        waiters.get(e.function)?.(now);
      }
    }
  })();
  return {
    waitFor: (fn: string) =>
      new Promise<number>((resolve) => (seen.has(fn) ? resolve(seen.get(fn)!) : waiters.set(fn, resolve))),
    close: () => abort.abort(),
  };
}

const load0 = loadavg();
const work = mkdtempSync(join(tmpdir(), 'sprout-bench-console-'));
const dataDir = join(work, 'data');
const fnDir = join(work, 'functions');
mkdirSync(fnDir);
let dev: Dev | undefined;
const browser = await launchChromium();
try {
  const built = await buildBoth(work);
  const bundle = { console: sizes(built.consoleOut), hello: sizes(built.helloOut) };
  console.log('bundle (gzip, KiB):', bundle);

  dev = await startDev(generateFunctions(fnDir), dataDir);
  console.log(
    `sprout dev with ${nFunctions} functions printed its console URL after ${Math.round(dev.startMs)} ms`,
  );
  const listed = (await (
    await fetch(`${dev.url}/v1/functions`, { headers: { authorization: `Bearer ${dev.token}` } })
  ).json()) as { functions: unknown[] };
  if (listed.functions.length !== nFunctions)
    throw new Error(`${listed.functions.length} functions registered`);

  const login = await fetch(`${dev.url}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: 'admin', password: PASSWORD }),
  });
  if (login.status !== 200) throw new Error(`sign-in answered ${login.status}`);
  const cookies = login.headers.getSetCookie().map((s) => {
    const [name, value] = s.split(';')[0]!.split('=') as [string, string];
    return { name, value, url: dev!.url };
  });
  const problems: string[] = [];
  const signedIn = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addCookies(cookies);
    return context;
  };
  const context = await signedIn();
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  // The peer build's page: its app files from --peer-web, the API from the same server.
  const peerContext = peerWeb ? await signedIn() : undefined;
  await peerContext?.route(
    (u) => !u.pathname.startsWith('/v1/') && u.pathname !== '/metrics',
    (route) => {
      const file = appFile(peerWeb!, new URL(route.request().url()).pathname);
      return file
        ? route.fulfill({ status: 200, contentType: file.type, body: file.body })
        : route.fulfill({ status: 404 });
    },
  );
  const peerPage = await peerContext?.newPage();
  peerPage?.on('pageerror', (e) => problems.push(`peer: ${e.message}`));

  // 2. Navigation to the 200 rows, in the page's clock (ms since navigation start); first round warms caches.
  const listMs: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    await page.goto('about:blank');
    await page.goto(`${dev.url}/functions`, { waitUntil: 'commit' });
    const ms = await page.waitForFunction(
      (n) => (document.querySelectorAll('tr[data-function]').length >= n ? performance.now() : 0),
      nFunctions,
      { polling: 'raf', timeout: 30_000 },
    );
    if (r > 0) listMs.push((await ms.jsonValue()) as number);
  }
  const hello = await serveStatic(built.helloOut);
  const helloMs: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    await page.goto('about:blank');
    await page.goto(hello.url, { waitUntil: 'commit' });
    const ms = await page.waitForFunction(
      () => (document.querySelector('h1') ? performance.now() : 0),
      null,
      {
        polling: 'raf',
      },
    );
    if (r > 0) helloMs.push((await ms.jsonValue()) as number);
  }
  hello.close();

  // 3. Event to DOM: the list is open (in the peer build's page too); each round cold-starts another function.
  const watched = peerPage ? [page, peerPage] : [page];
  for (const p of watched) {
    await p.goto(`${dev.url}/functions`);
    await p.getByText('live', { exact: true }).waitFor();
    await p
      .locator('tr[data-function]')
      .nth(nFunctions - 1)
      .waitFor();
    await p.evaluate(() => {
      const w = window as unknown as { readyAt: Record<string, number> };
      w.readyAt = {};
      new MutationObserver(() => {
        for (const td of document.querySelectorAll('tr[data-function] td[data-col="ready"]')) {
          const fn = td.closest('tr')!.getAttribute('data-function')!;
          if (td.textContent === '1' && !(fn in w.readyAt)) w.readyAt[fn] = Date.now();
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
  }
  const events = followEvents(dev);
  await new Promise((r) => setTimeout(r, 500));
  const liveMs: number[] = [];
  const peerLiveMs: number[] = [];
  const domAt = async (p: typeof page, fn: string) =>
    (await (
      await p.waitForFunction(
        (f) => (window as unknown as { readyAt: Record<string, number> }).readyAt[f] ?? 0,
        fn,
        { polling: 20, timeout: 30_000 },
      )
    ).jsonValue()) as number;
  for (let r = 0; r < liveRounds; r++) {
    const fn = `fn-${String(r).padStart(3, '0')}`;
    const res = await fetch(`${dev.url}/v1/functions/${fn}/invoke/`, {
      headers: { authorization: `Bearer ${dev.token}` },
    });
    if (res.status !== 200) throw new Error(`${fn} answered ${res.status}: ${await res.text()}`);
    await res.text();
    const eventAt = await events.waitFor(fn);
    liveMs.push((await domAt(page, fn)) - eventAt);
    if (peerPage) peerLiveMs.push((await domAt(peerPage, fn)) - eventAt);
  }
  events.close();
  await context.close();
  await peerContext?.close();
  if (problems.length) throw new Error(`page errors: ${problems.join('; ')}`);

  const load1 = loadavg();
  const result = {
    when: new Date().toISOString(),
    loadavg: { start: load0.map((l) => +l.toFixed(2)), end: load1.map((l) => +l.toFixed(2)) },
    noisy: Math.max(load0[0]!, load1[0]!) > 1,
    bundle: {
      ...bundle,
      ratioInitialGzip: +(bundle.console.initialGzipKiB / bundle.hello.initialGzipKiB).toFixed(2),
      consoleBuildMs: Math.round(built.consoleBuildMs),
      helloBuildMs: Math.round(built.helloBuildMs),
      targetKiB: 300,
    },
    devStartMs: Math.round(dev.startMs),
    list: {
      functions: nFunctions,
      medianMs: median(listMs),
      runs: listMs.map(Math.round),
      helloMedianMs: median(helloMs),
      helloRuns: helloMs.map(Math.round),
      ratio: +(percentile(listMs, 50) / percentile(helloMs, 50)).toFixed(2),
      targetMs: 1000,
    },
    live: {
      medianMs: median(liveMs),
      p95Ms: Math.round(percentile(liveMs, 95)),
      runs: liveMs,
      targetP95Ms: 200,
      ...(peerWeb
        ? {
            peerBuild: {
              medianMs: median(peerLiveMs),
              p95Ms: Math.round(percentile(peerLiveMs, 95)),
              runs: peerLiveMs,
            },
          }
        : {}),
    },
  };
  console.log(
    `bundle: console ${bundle.console.initialGzipKiB} KiB gzip initial (${bundle.console.allGzipKiB} all) vs hello-world ` +
      `${bundle.hello.initialGzipKiB} KiB: ×${result.bundle.ratioInitialGzip} (target ≤ 300 KiB)`,
  );
  console.log(
    `list of ${nFunctions}: median ${result.list.medianMs} ms vs hello-world page ${result.list.helloMedianMs} ms: ` +
      `×${result.list.ratio} (target ≤ 1000 ms)`,
  );
  console.log(
    `live update event→DOM: median ${result.live.medianMs} ms, p95 ${result.live.p95Ms} ms (target ≤ 200 ms)`,
  );
  if (result.live.peerBuild)
    console.log(
      `live update, the --peer-web build on the same events: median ${result.live.peerBuild.medianMs} ms, ` +
        `p95 ${result.live.peerBuild.p95Ms} ms`,
    );
  console.log(`load average ${result.loadavg.start.join(' ')} → ${result.loadavg.end.join(' ')}`);
  writeResult('console', result);
} finally {
  await browser.close();
  await dev?.stop();
  rmSync(work, { recursive: true, force: true });
}
