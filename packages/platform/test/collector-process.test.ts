import { afterEach, describe, expect, it } from 'vitest';
import { CollectorProcess } from '../src/collector-process.js';
import { EventBus, type PlatformEvent } from '../src/events.js';
import { captureLogs } from './helpers.js';

// The collector process of `sprout dev` (a real child process running bin/collector.mjs), killed
// while it runs: restarted with a doubling, capped backoff, every crash and restart logged and
// published, records pushed while it was down counted, and nothing restarted once closed.
const open: CollectorProcess[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

const PIPELINE = `pipeline:
  inputs:
    - { name: http, listen: 127.0.0.1, port: 0, tag: cp.http }
  outputs:
    - { name: 'null', match: '*' }
`;

function nextEvent(events: EventBus, type: string, timeoutMs = 15_000): Promise<PlatformEvent> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${type} event in ${timeoutMs} ms`)), timeoutMs);
    const off = events.subscribe((e) => {
      if (e.type !== type) return;
      clearTimeout(t);
      off();
      resolve(e);
    });
  });
}

describe('CollectorProcess', () => {
  it('restarts a collector that dies, with a doubling backoff up to its cap, and reports what was dropped', async () => {
    const { logs, logger } = captureLogs();
    const events = new EventBus();
    const c = new CollectorProcess({
      pipeline: { yaml: PIPELINE },
      logger,
      events,
      backoff: { baseMs: 100, maxMs: 400 },
    });
    open.push(c);
    await c.start();
    expect(c.inputs().map((i) => i.id)).toEqual(['http.0']);
    c.push([{ tag: 'cp.push', body: { n: 1 } }]);
    await expect
      .poll(() => c.metricsText(), { timeout: 10_000 })
      .toMatch(/collector_input_records_total\{input="push"\} 1/);

    const delays: number[] = [];
    for (let round = 0; round < 4; round++) {
      const pid = c.pid!;
      const crashed = nextEvent(events, 'collector.crashed');
      const restarted = nextEvent(events, 'collector.restarted');
      process.kill(pid, 'SIGKILL');
      const crash = await crashed;
      expect(crash).toMatchObject({ signal: 'SIGKILL', attempt: round + 1 });
      delays.push(crash.restartInMs as number);
      // While it is down: no inputs, no metrics, and pushed records are counted, not held.
      expect(c.inputs()).toEqual([]);
      expect(await c.metricsText()).toBe('');
      c.push([
        { tag: 'cp.push', body: { lost: round } },
        { tag: 'cp.push', body: { lost: round } },
      ]);
      const back = await restarted;
      expect(back.pid).not.toBe(pid);
      expect(back).toMatchObject({ pid: c.pid, droppedRecords: 2 });
      expect(c.inputs().map((i) => i.id)).toEqual(['http.0']);
    }
    expect(delays).toEqual([100, 200, 400, 400]);
    // The restarted collector takes records again.
    const port = c.inputs()[0]!.address!.port!;
    const posted = await fetch(`http://127.0.0.1:${port}/cp.http`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"after":true}',
    });
    expect(posted.status).toBe(201);
    expect(logs.filter((l) => l.msg === 'collector restarted')).toHaveLength(4);
    expect(
      logs.filter((l) => String(l.msg).startsWith('the collector stopped')).every((l) => l.level === 'error'),
    ).toBe(true);

    // Closed: the process ends and is not started again.
    const pid = c.pid!;
    await c.close();
    expect(() => process.kill(pid, 0)).toThrow();
    await new Promise((r) => setTimeout(r, 300));
    expect(c.pid).toBeUndefined();
    expect(events.since(0).filter((e) => e.type === 'collector.crashed')).toHaveLength(4);
  }, 60_000);

  it('rejects with the collector coded error when it cannot start', async () => {
    const { logger } = captureLogs();
    const first = new CollectorProcess({ pipeline: { yaml: PIPELINE }, logger });
    open.push(first);
    await first.start();
    const taken = first.inputs()[0]!.address!.port!;
    const second = new CollectorProcess({
      pipeline: { yaml: PIPELINE.replace('port: 0', `port: ${taken}`) },
      logger,
    });
    open.push(second);
    await expect(second.start()).rejects.toMatchObject({ code: 'SPROUT_ERR_COLLECTOR_LISTEN' });
    expect(second.pid).toBeUndefined();
  }, 30_000);
});
