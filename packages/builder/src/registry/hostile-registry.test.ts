import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen, seededRng } from '@sprout/http/testing';
import { isBuilderError } from '../errors.js';
import { sha256 } from '../oci/digest.js';
import { OciLayout } from '../oci/layout.js';
import { MEDIA_TYPES } from '../oci/types.js';
import { pullImage } from './transfer.js';

// A registry that answers at random (statuses, auth challenges, content types, bodies valid and
// broken): whatever it sends, pulling ends in the image or a coded BuilderError, never a crash.

const rng = seededRng();
const config = Buffer.from('{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]}}');
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: { mediaType: MEDIA_TYPES.config, digest: sha256(config), size: config.length },
    layers: [],
  }),
);

function cut(b: Buffer): Buffer {
  return rng.next() < 0.5 ? b : b.subarray(0, rng.int(0, b.length));
}

const server = createServer((req, res) => {
  req.resume();
  const status = rng.pick([200, 200, 200, 401, 404, 500, 502, 202, 307]);
  const headers: Record<string, string> = {};
  if (status === 401)
    headers['www-authenticate'] = rng.pick([
      'Basic realm="x"',
      'Bearer realm="http://127.0.0.1:1/token"',
      'Bearer',
      rng
        .bytes(20)
        .toString('latin1')
        .replace(/[^\x20-\x7e]/g, ''),
    ]);
  if (status === 307) headers.location = rng.pick(['http://example.com/x', '/v2/', '::bad']);
  headers['content-type'] = rng.pick([MEDIA_TYPES.manifest, MEDIA_TYPES.index, 'text/plain', '']);
  const body = req.url?.includes('/blobs/')
    ? cut(config)
    : rng.pick([
        cut(manifest),
        rng.bytes(rng.int(0, 200)),
        Buffer.from('{"schemaVersion":2,"manifests":[{}]}'),
      ]);
  if (rng.next() < 0.1) {
    res.socket?.destroy();
    return;
  }
  res.writeHead(status, headers).end(body);
});
let port: number;
let dir: string;

beforeAll(async () => {
  port = await listen(server);
  dir = await mkdtemp(join(tmpdir(), 'sprout-builder-hostile-'));
});
afterAll(async () => {
  await closeServer(server);
  await rm(dir, { recursive: true, force: true });
});

describe('a hostile registry', () => {
  it('every pull ends in the image or a coded BuilderError (fuzz)', async () => {
    const layout = await OciLayout.open(dir);
    let ok = 0;
    let refused = 0;
    const until = Date.now() + 2000;
    while (ok + refused <= 40 || Date.now() < until) {
      try {
        const image = await pullImage(`127.0.0.1:${port}/fuzz/app:1`, layout, {
          plainHttp: true,
          retries: 1,
          backoffMs: 1,
          credentials: { username: 'u', password: 'p' },
        });
        expect(image.manifest.config.digest, `seed ${rng.seed}`).toBe(sha256(config));
        ok++;
      } catch (err) {
        expect(isBuilderError(err), `seed ${rng.seed}: ${(err as Error).stack}`).toBe(true);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(10);
    expect(ok + refused).toBeGreaterThan(20);
  });
});
