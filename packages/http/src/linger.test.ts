import { createServer, request, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { lingerOnRefusedBody } from './linger.js';
import { closeServer, listen } from './testing.js';

let server: Server | undefined;
afterEach(async () => {
  if (server) await closeServer(server);
  server = undefined;
});

/** A server refusing bodies over 1 KiB with 413, lingering within the given bounds. */
async function refusing(o: { maxBytes?: number; maxMs?: number }): Promise<number> {
  server = createServer((req, res) => {
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 1024 && !res.headersSent) {
        res.writeHead(413).end('too large');
        lingerOnRefusedBody(req, o);
      }
    });
    req.on('end', () => {
      if (!res.headersSent) res.end('ok');
    });
  });
  return listen(server);
}

/** Streams `size` bytes (or forever, when Infinity) chunked; resolves with the status and whether the socket was cut. */
function post(port: number, size: number): Promise<{ status: number; cut: boolean }> {
  return new Promise((resolve) => {
    let status = 0;
    const req = request({ host: '127.0.0.1', port, method: 'POST', agent: false }, (res) => {
      status = res.statusCode ?? 0;
      res.resume();
      if (size !== Infinity) res.on('end', () => resolve({ status, cut: false }));
    });
    req.on('error', () => resolve({ status, cut: true }));
    req.on('close', () => resolve({ status, cut: !req.writableFinished }));
    const chunk = Buffer.alloc(16 * 1024, 97);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('lingerOnRefusedBody', () => {
  it('lets the client read the 413 while it is still sending a large body', async () => {
    const port = await refusing({});
    for (let i = 0; i < 10; i++) expect((await post(port, 8 << 20)).status).toBe(413);
  }, 30_000);

  it('cuts a body that goes on past maxBytes, after the 413 was sent', async () => {
    const port = await refusing({ maxBytes: 1 << 20, maxMs: 60_000 });
    expect(await post(port, Infinity)).toEqual({ status: 413, cut: true });
  }, 30_000);

  it('cuts a body that goes on past maxMs', async () => {
    const port = await refusing({ maxBytes: 2 ** 50, maxMs: 500 });
    expect(await post(port, Infinity)).toEqual({ status: 413, cut: true });
  }, 30_000);
});
