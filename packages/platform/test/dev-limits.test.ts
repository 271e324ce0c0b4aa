import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSlowClients } from '@sprout/http/testing';
import { startDev, type DevServer } from '../src/index.js';
import { captureLogs, fixtures } from './helpers.js';

const hello = fileURLToPath(new URL('../../../examples/hello', import.meta.url));

describe('sprout dev listeners are bounded apart', () => {
  let d: DevServer;
  beforeAll(async () => {
    const { logger } = captureLogs();
    d = await startDev({
      paths: [hello],
      cwd: fixtures,
      dataDir: mkdtempSync(join(tmpdir(), 'sprout-platform-limits-')),
      port: 0,
      host: '127.0.0.1',
      apiPort: 0,
      logger,
      collector: false,
      eip: false,
      limits: { gateway: { maxConnections: 300 }, maxConnectionsPerInstance: 16 },
    });
    expect((await fetch(`${d.url}/`)).status).toBe(200);
  }, 60_000);
  afterAll(() => d.close());

  it('answers the API while slowloris connections hold every gateway connection', async () => {
    const port = Number(new URL(d.url).port);
    // Twice the gateway's cap: the gateway sheds them, the API's own listener is untouched.
    const slow = await openSlowClients(port, 600, { intervalMs: 2_000 });
    try {
      for (let i = 0; i < 10; i++) {
        const health = await fetch(`${d.api.url}/v1/health`);
        expect(health.status).toBe(200);
        expect((await fetch(`${d.url}/`)).status).toBe(200);
      }
      expect(slow.closed).toBeGreaterThanOrEqual(300);
    } finally {
      slow.close();
    }
  }, 60_000);
});
