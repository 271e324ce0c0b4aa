import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevProcess } from '@sprout/platform/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { bin, root } from './sprout.js';

// A real `sprout dev` process whose collector is killed while it runs (SIGKILL: a crash nothing in
// the collector can catch). sprout dev must keep serving, say so in its log and event stream, and
// bring the collector back with its inputs.
const dir = mkdtempSync(join(tmpdir(), 'sprout-cli-collector-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sprout dev with a collector that fails at run time', () => {
  it('keeps serving, logs and publishes the crash, and restarts the collector with its inputs', async () => {
    const out = join(dir, 'out');
    const config = join(dir, 'collector.yaml');
    writeFileSync(
      config,
      [
        `service: { flush: 0.1, storage.path: ${JSON.stringify(join(dir, 'buffer'))} }`,
        'pipeline:',
        '  inputs:',
        '    - { name: http, listen: 127.0.0.1, port: 0, tag: crash.http, storage.type: filesystem }',
        '  outputs:',
        `    - { name: file, match: 'crash.*', path: ${JSON.stringify(dir)}, file: out, format: plain }`,
        '',
      ].join('\n'),
    );
    const dataDir = join(dir, 'data');
    const dev = await startDevProcess({
      bin,
      cwd: root,
      args: ['examples/hello', '--collector', config, '--data-dir', dataDir],
    });
    const { child, waitLog, api, token } = dev;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const gateway = String((await waitLog((l) => l.msg === 'serving', 'the gateway')).url).replace(
        /\/$/,
        '',
      );
      const pid = Number((await waitLog((l) => l.msg === 'collector running', 'the collector')).pid);
      const inputPort = (after = 0) =>
        waitLog((l) => l.msg === 'collector input listening', 'its input', after).then((l) => Number(l.port));
      const post = async (port: number, n: number) =>
        (
          await fetch(`http://127.0.0.1:${port}/crash.http`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ n }),
          })
        ).status;
      expect(pid).toBeGreaterThan(0);
      expect(pid).not.toBe(child.pid);
      expect(await post(await inputPort(), 1)).toBe(201);

      const before = dev.lines.length;
      process.kill(pid, 'SIGKILL');
      const crashed = await waitLog(
        (l) => l.msg?.startsWith('the collector stopped') === true,
        'the crash',
        before,
      );
      expect(crashed).toMatchObject({ level: 'error', signal: 'SIGKILL', restartInMs: expect.any(Number) });
      // Functions, gateway and API are served while the collector is down.
      expect(await (await fetch(`${gateway}/?name=crash`)).text()).toBe('Hello, crash!\n');
      const health = await fetch(`${api}/v1/health`);
      expect(health.status).toBe(200);

      const restarted = await waitLog((l) => l.msg === 'collector restarted', 'the restart', before);
      expect(Number(restarted.pid)).not.toBe(pid);
      expect(await post(await inputPort(before), 2)).toBe(201);

      // The platform event stream carries both.
      const events = await readEvents(api, token, ['collector.crashed', 'collector.restarted']);
      expect(events.find((e) => e.type === 'collector.crashed')).toMatchObject({ signal: 'SIGKILL' });
      expect(events.find((e) => e.type === 'collector.restarted')).toMatchObject({ pid: restarted.pid });

      // Records taken before the crash (kept on disk by storage.type filesystem) and after the
      // restart both reach the output.
      const file = out;
      const end = Date.now() + 15_000;
      while (Date.now() < end) {
        const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
        if (text.includes('"n":1') && text.includes('"n":2')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const text = readFileSync(file, 'utf8');
      expect(text).toContain('"n":1');
      expect(text).toContain('"n":2');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 90_000);
});

/** Reads the API's event stream from the start until every type in `want` was seen. */
async function readEvents(
  api: string,
  token: string,
  want: string[],
): Promise<Array<Record<string, unknown> & { type: string }>> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 15_000);
  const res = await fetch(`${api}/v1/events`, {
    headers: { authorization: `Bearer ${token}`, 'last-event-id': '0' },
    signal: ac.signal,
  });
  const seen: Array<Record<string, unknown> & { type: string }> = [];
  let text = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      text += Buffer.from(chunk).toString();
      const blocks = text.split('\n\n');
      text = blocks.pop()!;
      for (const b of blocks) {
        const data = /^data: (.*)$/m.exec(b)?.[1];
        if (data) seen.push(JSON.parse(data) as Record<string, unknown> & { type: string });
      }
      if (want.every((t) => seen.some((e) => e.type === t))) break;
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return seen;
}
