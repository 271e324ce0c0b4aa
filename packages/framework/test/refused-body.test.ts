import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '@sprout/framework';
import { fixture, start } from './helpers.js';

/** Streams `size` bytes as a chunked body in 16 KiB writes; resolves with the status (0: connection broken). */
function postChunked(url: string, size: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'text/plain' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    const chunk = Buffer.alloc(16 * 1024, 97);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const part = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += part.length;
        if (!req.write(part)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('a refused body is answered, not reset', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await start([{ source: fixture('ts-http'), target: 'hello', path: '/hello' }], { bodyLimit: 1024 });
  });
  afterAll(() => s.close());

  it('answers 413 to a streamed body far over the limit, every time (the client reads the answer)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push(await postChunked(`${s.url}/hello`, 4 << 20));
    expect(statuses).toEqual(Array(20).fill(413));
    expect(await postChunked(`${s.url}/hello`, 100)).toBe(200);
  }, 60_000);
});
