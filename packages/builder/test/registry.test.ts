import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen } from '@sprout/http/testing';
import {
  isBuilderError,
  MEDIA_TYPES,
  ociArchitecture,
  OciLayout,
  pullImage,
  pushImage,
  RegistryClient,
  writeImage,
  writeLayer,
  type OciImage,
} from '@sprout/builder';
import { makePki, startRegistry, startTokenServer, type Pki, type Registry } from '@sprout/builder/testing';

const run = promisify(execFile);
let work: string;
let layout: OciLayout;
let image: OciImage;
let big: OciImage;
let pki: Pki;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sprout-builder-reg-'));
  pki = await makePki(await mkdtemp(join(work, 'pki-')));
  layout = await OciLayout.open(join(work, 'layout'));
  const small = await writeLayer(layout, [{ to: '/hello.txt', content: 'hello registry\n' }]);
  image = await writeImage(layout, {
    layers: [{ layer: small, createdBy: 'test' }],
    config: { cmd: ['/hello'] },
  });
  // incompressible, so the gzip blob is over 10 MiB and goes up in chunks
  await writeFile(join(work, 'noise.bin'), randomBytes(12 * 1024 * 1024));
  const noise = await writeLayer(layout, [{ from: join(work, 'noise.bin'), to: '/noise.bin' }], {
    gzipLevel: 1,
  });
  big = await writeImage(layout, { base: image, layers: [{ layer: noise, createdBy: 'noise' }] });
}, 60_000);
afterAll(() => rm(work, { recursive: true, force: true }));

async function skopeoDigest(args: string[], ref: string): Promise<string> {
  const { stdout } = await run('skopeo', ['inspect', ...args, `docker://${ref}`]);
  return (JSON.parse(stdout) as { Digest: string }).Digest;
}

describe('plain HTTP registry on loopback', () => {
  let registry: Registry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(() => registry.close());

  it('pushes; skopeo sees the same digest and copies it to an OCI dir; we pull it back', async () => {
    const ref = `${registry.host}/sprout/app:1`;
    const pushed = await pushImage(layout, image, ref, { plainHttp: true });
    expect(pushed.digest).toBe(image.descriptor.digest);
    expect(pushed.uploaded).toBe(2);
    expect(await skopeoDigest(['--tls-verify=false'], ref)).toBe(image.descriptor.digest);
    const copied = join(work, 'skopeo-oci');
    await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${copied}:x`]);
    expect((await (await OciLayout.open(copied)).image('x')).descriptor.digest).toBe(image.descriptor.digest);
    const pulledInto = await OciLayout.open(join(work, 'pulled'));
    const pulled = await pullImage(ref, pulledInto, { plainHttp: true });
    expect(pulled.descriptor.digest).toBe(image.descriptor.digest);
    expect(pulled.config.config?.Cmd).toEqual(['/hello']);
    // a second push finds every blob there
    expect((await pushImage(layout, image, ref, { plainHttp: true })).existing).toBe(2);
  });

  it('uploads a layer over 10 MiB in chunks and mounts blobs into another repository', async () => {
    const onBlob: string[] = [];
    const pushed = await pushImage(layout, big, `${registry.host}/sprout/big:1`, {
      plainHttp: true,
      chunkSize: 4 * 1024 * 1024,
      onBlob: (_, a) => onBlob.push(a),
    });
    expect(big.manifest.layers[1]!.size).toBeGreaterThan(10 * 1024 * 1024);
    expect(pushed.digest).toBe(big.descriptor.digest);
    expect(await skopeoDigest(['--tls-verify=false'], `${registry.host}/sprout/big:1`)).toBe(
      big.descriptor.digest,
    );
    const mounted = await pushImage(layout, big, `${registry.host}/other/big:1`, {
      plainHttp: true,
      mountFrom: ['sprout/big'],
    });
    expect([mounted.mounted, mounted.uploaded]).toEqual([3, 0]);
    const back = await pullImage(
      `${registry.host}/other/big@${big.descriptor.digest}`,
      await OciLayout.open(join(work, 'pulled-big')),
      { plainHttp: true },
    );
    expect(back.config.rootfs.diff_ids).toEqual(big.config.rootfs.diff_ids);
  });

  it('PUTs an image index with its media type; GET returns it byte for byte and a pull resolves it to the image', async () => {
    const ref = `${registry.host}/sprout/app:1`;
    await pushImage(layout, image, ref, { plainHttp: true });
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.index,
        manifests: [
          { ...image.descriptor, platform: { os: 'linux', architecture: 's390x' } },
          { ...image.descriptor, platform: { os: 'linux', architecture: ociArchitecture() } },
        ],
      }),
    );
    const client = new RegistryClient(registry.host, { plainHttp: true });
    try {
      const digest = await client.putManifest('sprout/app', 'multi', index, MEDIA_TYPES.index);
      const got = await client.getManifest('sprout/app', 'multi');
      expect([got.digest, got.mediaType, got.bytes.equals(index)]).toEqual([digest, MEDIA_TYPES.index, true]);
    } finally {
      client.close();
    }
    const { stdout } = await run('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${registry.host}/sprout/app:multi`,
    ]);
    expect((JSON.parse(stdout) as { manifests: unknown[] }).manifests).toHaveLength(2);
    const pulled = await pullImage(
      `${registry.host}/sprout/app:multi`,
      await OciLayout.open(join(work, 'pulled-index')),
      { plainHttp: true },
    );
    expect(pulled.descriptor.digest).toBe(image.descriptor.digest);
  });

  it('a missing tag is SPROUT_ERR_BUILDER_REGISTRY_NOT_FOUND; plain HTTP to another host is refused', async () => {
    await expect(
      pullImage(`${registry.host}/nothing/here:1`, layout, { plainHttp: true }),
    ).rejects.toMatchObject({ code: 'SPROUT_ERR_BUILDER_REGISTRY_NOT_FOUND' });
    expect(() => new RegistryClient('registry.example.com', { plainHttp: true })).toThrow(
      expect.objectContaining({ code: 'SPROUT_ERR_BUILDER_REGISTRY_INSECURE' }),
    );
  });

  it('retries 5xx answers; a chunked upload cut mid-chunk starts a new session and completes', async () => {
    let failNext = 2;
    let cutPatch = true;
    let patches = 0;
    let cutAt = -1;
    const seen: string[] = [];
    const [host, port] = registry.host.split(':');
    const proxy = createServer((req, res) => {
      if (failNext > 0) {
        failNext--;
        req.resume();
        res.writeHead(503).end();
        return;
      }
      seen.push(`${req.method} ${res.statusCode}`);
      const cut = req.method === 'PATCH' && ++patches === 2;
      const up = request({ host, port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        seen[seen.length - 1] = `${req.method} ${r.statusCode}`;
        const headers = { ...r.headers };
        if (headers.location)
          headers.location = headers.location.replace(registry.host, `127.0.0.1:${proxyPort}`);
        res.writeHead(r.statusCode ?? 502, headers);
        r.pipe(res);
      });
      up.on('error', () => res.socket?.destroy());
      if (!cut) {
        req.pipe(up);
        return;
      }
      // forward 1 MiB of the second chunk to the registry, then break both connections
      cutPatch = false;
      cutAt = seen.length;
      let forwarded = 0;
      req.on('data', (chunk: Buffer) => {
        if (forwarded >= 1024 * 1024) return;
        forwarded += chunk.length;
        up.write(chunk);
        if (forwarded >= 1024 * 1024) setTimeout(() => (up.destroy(), req.socket.destroy()), 200);
      });
    });
    const proxyPort = await listen(proxy);
    try {
      const pushed = await pushImage(layout, big, `127.0.0.1:${proxyPort}/sprout/resumed:1`, {
        plainHttp: true,
        chunkSize: 4 * 1024 * 1024,
        backoffMs: 10,
      });
      expect(pushed.digest).toBe(big.descriptor.digest);
      expect([failNext, cutPatch]).toEqual([0, false]);
      // the broken session was dropped and the blob went up again in a new one: a POST after the cut
      // (how many POSTs came before depends on which requests the two 503s happened to hit)
      expect(cutAt).toBeGreaterThan(0);
      expect(
        seen.slice(cutAt).some((s) => s.startsWith('POST')),
        seen.join(', '),
      ).toBe(true);
      expect(await skopeoDigest(['--tls-verify=false'], `${registry.host}/sprout/resumed:1`)).toBe(
        big.descriptor.digest,
      );
    } finally {
      await closeServer(proxy);
    }
  });
});

describe('TLS registry with htpasswd auth', () => {
  let registry: Registry;
  beforeAll(async () => {
    registry = await startRegistry({ pki, users: { alice: 's3cret' } });
  });
  afterAll(() => registry.close());

  it('pushes with credentials from a DOCKER_CONFIG auth file over TLS with our CA; skopeo agrees', async () => {
    const dockerConfig = await mkdtemp(join(work, 'docker-'));
    await writeFile(
      join(dockerConfig, 'config.json'),
      JSON.stringify({
        auths: { [registry.host]: { auth: Buffer.from('alice:s3cret').toString('base64') } },
      }),
    );
    const ref = `${registry.host}/secure/app:1`;
    const pushed = await pushImage(layout, image, ref, {
      ca: pki.caPem,
      env: { DOCKER_CONFIG: dockerConfig },
    });
    expect(pushed.digest).toBe(image.descriptor.digest);
    expect(await skopeoDigest(['--cert-dir', pki.certDir, '--creds', 'alice:s3cret'], ref)).toBe(
      image.descriptor.digest,
    );
    const pulled = await pullImage(ref, await OciLayout.open(join(work, 'pulled-tls')), {
      ca: pki.caPem,
      credentials: { username: 'alice', password: 's3cret' },
    });
    expect(pulled.descriptor.digest).toBe(image.descriptor.digest);
  });

  it('wrong password → SPROUT_ERR_BUILDER_REGISTRY_UNAUTHORIZED; no CA → SPROUT_ERR_BUILDER_REGISTRY_UNREACHABLE', async () => {
    const ref = `${registry.host}/secure/app:1`;
    await expect(
      pullImage(ref, layout, {
        ca: pki.caPem,
        credentials: { username: 'alice', password: 'nope' },
        env: {},
      }),
    ).rejects.toMatchObject({ code: 'SPROUT_ERR_BUILDER_REGISTRY_UNAUTHORIZED' });
    await expect(pullImage(ref, layout, { ca: pki.caPem, env: {} })).rejects.toMatchObject({
      code: 'SPROUT_ERR_BUILDER_REGISTRY_UNAUTHORIZED',
    });
    const err = await pullImage(ref, layout, {
      credentials: { username: 'alice', password: 's3cret' },
      retries: 0,
    }).catch((e: unknown) => e);
    expect(isBuilderError(err, 'SPROUT_ERR_BUILDER_REGISTRY_UNREACHABLE')).toBe(true);
  });
});

describe('registry with bearer-token auth', () => {
  let registry: Registry;
  let tokens: Awaited<ReturnType<typeof startTokenServer>>;
  beforeAll(async () => {
    tokens = await startTokenServer(pki, { bob: 'pw' });
    registry = await startRegistry({ pki, tokenRealm: tokens.realm });
  });
  afterAll(async () => {
    await registry.close();
    await tokens.close();
  });

  it('answers the Bearer challenge with a token from the realm, pushes and pulls; bad credentials are refused', async () => {
    const ref = `${registry.host}/tokened/app:1`;
    const pushed = await pushImage(layout, image, ref, {
      ca: pki.caPem,
      credentials: { username: 'bob', password: 'pw' },
    });
    expect(pushed.digest).toBe(image.descriptor.digest);
    expect(tokens.issued()).toBeGreaterThan(0);
    const pulled = await pullImage(ref, await OciLayout.open(join(work, 'pulled-token')), {
      ca: pki.caPem,
      credentials: { username: 'bob', password: 'pw' },
    });
    expect(pulled.descriptor.digest).toBe(image.descriptor.digest);
    await expect(
      pullImage(ref, layout, { ca: pki.caPem, credentials: { username: 'bob', password: 'bad' } }),
    ).rejects.toMatchObject({ code: 'SPROUT_ERR_BUILDER_REGISTRY_UNAUTHORIZED' });
  });
});
