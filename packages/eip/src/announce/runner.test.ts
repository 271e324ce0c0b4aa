import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@sprout/observe';
import { afterAll, expect, it } from 'vitest';
import { EipError } from '../errors.js';
import { createEipManager } from '../manager.js';
import type { HeldAddress } from '../manager/synced-state.js';
import { startAnnouncing } from './runner.js';
import type { Announcer } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'sprout-eip-runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('retries a failed announcement with backoff, skips protocols without an announcer, withdraws on close', async () => {
  const lines: string[] = [];
  const log = createLogger({
    level: 'info',
    format: 'json',
    destination: { write: (l: string) => (lines.push(l), true) } as never,
  });
  const eip = createEipManager({ dataDir: dir, logger: createLogger({ level: 'silent' }) });
  eip.apply(`apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: lo}
spec: {address: 127.0.91.1-127.0.91.9, protocol: local, namespaces: [a]}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: v}
spec: {address: 10.91.0.1, protocol: vip, interface: eth0, namespaces: [b]}
`);
  const calls: string[] = [];
  let failures = 1;
  const flaky: Announcer = {
    async announce(h: HeldAddress) {
      calls.push(`announce ${h.ip}`);
      if (failures-- > 0) throw new EipError('SPROUT_ERR_EIP_ANNOUNCE', 'interface busy');
    },
    async withdraw(h: HeldAddress) {
      calls.push(`withdraw ${h.ip}`);
    },
    async close() {
      calls.push('close');
    },
  };
  const running = startAnnouncing(eip, { announcers: { local: flaky }, logger: log, pollMs: 20 });
  eip.allocate({ namespace: 'b', name: 'y' });
  await running.settled();
  eip.allocate({ namespace: 'a', name: 'x' });
  await running.settled();
  expect(running.announced()).toEqual([]);
  expect(lines.join('')).toMatch(/"code":"SPROUT_ERR_EIP_ANNOUNCE".*interface busy.*"retryInMs":1000/);
  expect(lines.join('')).toMatch(
    /no vip announcer is running; Eip\/v's addresses are allocated but not announced/,
  );
  const before = calls.length;
  await new Promise((r) => setTimeout(r, 300));
  expect(calls.length).toBe(before); // no retry storm inside the backoff window
  await expect.poll(() => running.announced(), { timeout: 3000 }).toEqual(['127.0.91.1']);
  await running.close();
  expect(calls.slice(-2)).toEqual(['withdraw 127.0.91.1', 'close']);
  eip.close();
});
