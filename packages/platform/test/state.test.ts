import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startDev, type DevServer } from '../src/index.js';
import { captureLogs, fixtures } from './helpers.js';

const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
let d: DevServer | undefined;
afterAll(async () => {
  await d?.close();
  await redis.del('visits||platform-state-test-ada');
  redis.disconnect();
});

describe('the components a Function declares reach its instances', () => {
  it('backs ctx.state with the serving.states component (real Redis) under sprout dev', async () => {
    await redis.del('visits||platform-state-test-ada');
    const dataDir = mkdtempSync(join(tmpdir(), 'sprout-platform-state-'));
    d = await startDev({
      paths: ['stateful'],
      cwd: fixtures,
      dataDir,
      port: 0,
      host: '127.0.0.1',
      apiPort: 0,
      logger: captureLogs().logger,
      watch: false,
    });
    const post = () =>
      fetch(`${d!.url}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"who":"ada"}',
      }).then((r) => r.json());
    expect(await post()).toEqual({ seen: 1 });
    expect(await post()).toEqual({ seen: 2 });
    // Dapr's Redis layout with keyPrefix "name": a hash at <store>||<key> holding data and version.
    expect(await redis.hget('visits||platform-state-test-ada', 'data')).toBe('2');
  });
});
