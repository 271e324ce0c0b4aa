import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { createLogger, type Logger } from '@sprout/observe';
import { assertNoDuplicateKeys } from '@sprout/observe/testing';
import { FunctionDelivery, type Trigger } from '@sprout/triggers';
import {
  createPlatform,
  startApi,
  startDev,
  type ApiServer,
  type DevOptions,
  type DevServer,
  type Platform,
  type PlatformEvent,
} from '../src/index.js';

export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

const spec = parse(
  readFileSync(fileURLToPath(new URL('../openapi.yaml', import.meta.url)), 'utf8'),
) as Record<string, unknown>;
const ajv = new Ajv2020.default({ strict: false, allErrors: true });
ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
ajv.addSchema({ ...spec, $id: 'openapi' });

/** Asserts `body` matches `#/components/schemas/<name>` of openapi.yaml; returns the errors (none = []). */
export function schemaErrors(name: string, body: unknown): string[] {
  const validate = ajv.getSchema(`openapi#/components/schemas/${name}`)!;
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** `init` with the API token added (`Authorization: Bearer`), as the sprout CLI sends it. */
export function withToken(token: string, init: RequestInit = {}): RequestInit {
  return {
    ...init,
    headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
  };
}

export interface Harness {
  platform: Platform;
  api: ApiServer;
  logs: Record<string, unknown>[];
  events: PlatformEvent[];
  dataDir: string;
  get(path: string): Promise<{ status: number; body: unknown }>;
  post(path: string, body: unknown): Promise<{ status: number; body: unknown }>;
  waitFor(pred: (e: PlatformEvent) => boolean, timeoutMs?: number): Promise<PlatformEvent>;
  close(): Promise<void>;
}

/** A JSON logger whose records are collected in `logs` (each line parsed strictly: no repeated key). */
export function captureLogs(): { logs: Record<string, unknown>[]; logger: Logger } {
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n'))
        if (line) logs.push(assertNoDuplicateKeys(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logs, logger: createLogger({ name: 'platform', format: 'json', destination }) };
}

export async function harness(paths: string[], dataDir?: string): Promise<Harness> {
  const { logs, logger } = captureLogs();
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'sprout-platform-test-'));
  const platform = createPlatform({ paths, cwd: fixtures, dataDir: dir, logger });
  const events: PlatformEvent[] = platform.events.since(0);
  platform.events.subscribe((e) => events.push(e));
  const api = await startApi(platform, { port: 0 });
  const call = async (path: string, init?: RequestInit) => {
    const r = await fetch(`${api.url}${path}`, withToken(api.token, init));
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  return {
    platform,
    api,
    logs,
    events,
    dataDir: dir,
    get: (path) => call(path),
    post: (path, body) =>
      call(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    waitFor: (pred, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const hit = events.find(pred);
        if (hit) return resolve(hit);
        const t = setTimeout(() => {
          off();
          reject(
            new Error(`no matching event in ${timeoutMs} ms; got ${events.map((e) => e.type).join(', ')}`),
          );
        }, timeoutMs);
        const off = platform.events.subscribe((e) => {
          if (!pred(e)) return;
          clearTimeout(t);
          off();
          resolve(e);
        });
      }),
    close: async () => {
      await api.close();
      await platform.close();
    },
  };
}

export interface TestDev extends DevServer {
  logs: Record<string, unknown>[];
  dataDir: string;
  /** The gateway's port. */
  port: number;
  /** Calls the REST API; the body parsed as JSON. */
  call(path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }>;
}

/**
 * `startDev` on fixtures with free ports, a fresh data dir (unless given) and captured logs; the
 * caller closes it (push it to a list closed in afterEach).
 */
export async function startTestDev(
  paths: string[],
  options: Partial<Omit<DevOptions, 'paths' | 'logger'>> = {},
): Promise<TestDev> {
  const { logs, logger } = captureLogs();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sprout-platform-dev-'));
  const d = await startDev({
    cwd: fixtures,
    port: 0,
    host: '127.0.0.1',
    apiPort: 0,
    ...options,
    paths,
    dataDir,
    logger,
  });
  const call = async (path: string, init?: RequestInit) => {
    const r = await fetch(`${d.api.url}${path}`, withToken(d.api.token, init));
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
  };
  return Object.assign(d, { logs, dataDir, port: Number(new URL(d.url).port), call });
}

/** Polls `fn` every 50 ms until it gives something other than undefined; fails naming `what` after `ms`. */
export async function until<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  ms = 30_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The delivery engine feeding the app at `url` as the async tests run it: 4 in flight, 2 quick retries, quiet. */
export function deliverTo(triggers: Trigger[], url: string): Promise<FunctionDelivery> {
  return FunctionDelivery.start(triggers, {
    target: { url: async () => url },
    maxInFlight: 4,
    retry: { duration: '5ms', maxRetries: 2 },
    log: createLogger({ level: 'silent' }),
  });
}
