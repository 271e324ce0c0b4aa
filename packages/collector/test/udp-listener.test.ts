import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { udpListener } from '../src/inputs/udp-listener.js';
import { waitFor } from './helpers.js';

/**
 * Sends COUNT datagrams of 200 bytes to PORT from a child process, 1,000 a second in slices of 50,
 * while spawnSync holds this (the main) thread: nothing on it runs until the sender is done.
 */
const sendWhileBlocked = (port: number, count: number) =>
  spawnSync(
    process.execPath,
    [
      '-e',
      `const s = require('node:dgram').createSocket('udp4');
       const [port, count] = process.argv.slice(1).map(Number);
       let i = 0;
       const tick = () => {
         for (let k = 0; k < 50 && i < count; k++, i++) s.send(Buffer.alloc(200, 97), port, '127.0.0.1');
         if (i < count) setTimeout(tick, 50); else setTimeout(() => s.close(), 100);
       };
       tick();`,
      String(port),
      String(count),
    ],
    { stdio: 'ignore' },
  );

describe('udpListener: the socket is read on a thread of its own', () => {
  it('keeps receiving while the main thread is blocked: no datagram lost', async () => {
    let got = 0;
    let bytes = 0;
    // The kernel's default buffer (212,992 bytes, ~300 such datagrams) alone would lose most of
    // 3,000 sent while nothing on the main thread runs.
    const udp = udpListener({ listen: '127.0.0.1', port: 0, field: 'test.port' }, (_buf, start, end) => {
      got++;
      bytes += end - start;
    });
    await udp.start();
    try {
      expect(sendWhileBlocked(udp.address().port, 3000).status).toBe(0);
      await waitFor(() => got === 3000);
      expect(bytes).toBe(3000 * 200);
    } finally {
      await udp.close();
    }
  });

  it('drops and counts datagrams past the queue it may hold for the main thread', async () => {
    const seen: string[] = [];
    let dropped = 0;
    const udp = udpListener(
      { listen: '127.0.0.1', port: 0, field: 'test.port', queueBytes: 0, onDropped: (n) => (dropped += n) },
      (buf, start, end) => seen.push(buf.toString('utf8', start, end)),
    );
    await udp.start();
    const s = createSocket('udp4');
    try {
      for (let i = 0; i < 5; i++) s.send(`m${i}`, udp.address().port, '127.0.0.1');
      await waitFor(() => dropped === 5);
      expect(seen).toEqual([]);
    } finally {
      s.close();
      await udp.close();
    }
  });

  it('passes each sender and its exact bytes, and refuses a port in use with a coded error', async () => {
    const seen: Array<[string, string | undefined]> = [];
    const udp = udpListener(
      { listen: '127.0.0.1', port: 0, field: 'test.port', sources: true },
      (buf, start, end, from) => seen.push([buf.toString('utf8', start, end), from]),
    );
    await udp.start();
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    try {
      for (const m of ['one', '', 'three']) s.send(m, udp.address().port, '127.0.0.1');
      await waitFor(() => seen.length === 3);
      const from = `127.0.0.1:${s.address().port}`;
      expect(seen).toEqual([
        ['one', from],
        ['', from],
        ['three', from],
      ]);
      const again = udpListener(
        { listen: '127.0.0.1', port: udp.address().port, field: 'test.port' },
        () => {},
      );
      await expect(again.start()).rejects.toMatchObject({
        code: 'SPROUT_ERR_COLLECTOR_LISTEN',
        field: 'test.port',
      });
      await again.close();
    } finally {
      s.close();
      await udp.close();
    }
  });

  it('reads datagrams of every size in order around a small ring, its bytes reused', async () => {
    const seen: Array<[string, string | undefined]> = [];
    const udp = udpListener(
      { listen: '127.0.0.1', port: 0, field: 'test.port', sources: true, queueBytes: 1001 },
      (buf, start, end, from) => seen.push([buf.toString('latin1', start, end), from]),
    );
    await udp.start();
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    const from = `127.0.0.1:${s.address().port}`;
    // 301 datagrams of 0-150 bytes: the ring (1,000 bytes) wraps many times, at every offset.
    const sent = Array.from({ length: 301 }, (_, i) =>
      String.fromCharCode(97 + (i % 26)).repeat((i * 7) % 151),
    );
    try {
      for (let i = 0; i < sent.length; i += 3) {
        for (const m of sent.slice(i, i + 3)) s.send(m, udp.address().port, '127.0.0.1');
        await waitFor(() => seen.length === Math.min(i + 3, sent.length));
      }
      expect(seen).toEqual(sent.map((m) => [m, from]));
    } finally {
      s.close();
      await udp.close();
    }
  });
});
