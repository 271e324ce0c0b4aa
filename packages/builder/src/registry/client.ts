import { createReadStream } from 'node:fs';
import { BuilderError } from '../errors.js';
import { sha256 } from '../oci/digest.js';
import type { BlobWriter } from '../oci/blob-writer.js';
import { MEDIA_TYPES, type Digest } from '../oci/types.js';
import { RegistryAuth } from './auth.js';
import type { Credentials } from './credentials.js';
import { readAll, Transport, type Request, type Response, type TransportOptions } from './transport.js';

export interface RegistryClientOptions extends TransportOptions {
  credentials?: Credentials;
  /** Blobs larger than this go up in chunks (PATCH…), smaller ones in one PUT (default 8 MiB). */
  chunkSize?: number;
}

/** What `getManifest` returns: the bytes as the registry holds them (the digest is theirs). */
export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

const MANIFEST_TYPES = [
  MEDIA_TYPES.manifest,
  MEDIA_TYPES.index,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
];

const pullScope = (repo: string) => `repository:${repo}:pull`;
const pushScope = (repo: string) => `repository:${repo}:pull,push`;

/**
 * A client of one OCI distribution registry (v2 API): blobs (HEAD, GET with digest check,
 * monolithic and chunked upload with resume, cross-repository mount), manifests and indexes (PUT,
 * GET), Basic and Bearer auth, TLS with a custom CA, plain HTTP to loopback only, retries on 5xx.
 *
 * @example
 * const client = new RegistryClient('127.0.0.1:5000', { plainHttp: true });
 * await client.ping();
 * client.close();
 */
export class RegistryClient {
  readonly #transport: Transport;
  readonly #auth: RegistryAuth;
  readonly #chunkSize: number;

  constructor(
    readonly registry: string,
    options: RegistryClientOptions = {},
  ) {
    this.#transport = new Transport(registry, options);
    this.#auth = new RegistryAuth(this.#transport, options.credentials);
    this.#chunkSize = options.chunkSize ?? 8 * 1024 * 1024;
  }

  /** Sends with auth: a 401 is answered once (credentials or token), then the request is resent. */
  private async send(req: Request, scope: string): Promise<Response> {
    const withAuth = (): Request => {
      const header = this.#auth.header(scope);
      return header ? { ...req, headers: { ...req.headers, authorization: header } } : req;
    };
    let res = await this.#transport.send(withAuth());
    if (res.status === 401) {
      await this.#auth.challenged(res, scope);
      res = await this.#transport.send(withAuth());
    }
    if (res.status === 401 || res.status === 403) {
      res.body.resume();
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_REGISTRY_UNAUTHORIZED',
        `${this.registry} refused ${req.method} for ${scope} (${res.status}); check the credentials and that they may ${scope.endsWith('push') ? 'push to' : 'pull from'} the repository`,
      );
    }
    return res;
  }

  private async fail(res: Response, what: string): Promise<never> {
    const text = (await readAll(res.body, 64 * 1024).catch(() => Buffer.alloc(0)))
      .toString('utf8')
      .slice(0, 300);
    throw new BuilderError(
      res.status === 404 ? 'SPROUT_ERR_BUILDER_REGISTRY_NOT_FOUND' : 'SPROUT_ERR_BUILDER_REGISTRY_FAILED',
      `${what} on ${this.registry}: ${res.status}${text ? ` ${text.trim()}` : ''}`,
    );
  }

  /** GET /v2/: the registry answers and the credentials (if asked for) work. */
  async ping(): Promise<void> {
    const res = await this.send({ method: 'GET', url: '/v2/' }, '');
    res.body.resume();
    if (res.status !== 200) await this.fail(res, 'GET /v2/');
  }

  /** True when `repo` holds the blob. */
  async hasBlob(repo: string, digest: Digest): Promise<boolean> {
    const res = await this.send({ method: 'HEAD', url: `/v2/${repo}/blobs/${digest}` }, pullScope(repo));
    res.body.resume();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    return this.fail(res, `HEAD blob ${digest}`);
  }

  /** Streams a blob into `writer` and commits it under its digest (refused when the bytes differ). */
  async fetchBlob(repo: string, digest: Digest, writer: BlobWriter): Promise<void> {
    let res = await this.send({ method: 'GET', url: `/v2/${repo}/blobs/${digest}` }, pullScope(repo));
    if ([301, 302, 303, 307, 308].includes(res.status) && res.headers.location) {
      res.body.resume();
      res = await this.#transport.send({ method: 'GET', url: new URL(res.headers.location, res.url).href });
    }
    if (res.status !== 200) {
      await writer.abort();
      return this.fail(res, `GET blob ${digest}`);
    }
    try {
      for await (const chunk of res.body) await writer.write(chunk as Buffer);
    } catch (err) {
      await writer.abort();
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_REGISTRY_UNREACHABLE',
        `GET blob ${digest} broke off: ${(err as Error).message}; pull again`,
      );
    }
    await writer.commit(digest);
  }

  /**
   * Mounts a blob from another repository of the same registry. True when mounted; false when the
   * registry started an upload instead (the upload is cancelled; push the blob then).
   */
  async mountBlob(repo: string, digest: Digest, from: string): Promise<boolean> {
    const url = `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const res = await this.send(
      { method: 'POST', url, headers: { 'content-length': 0 } },
      `${pushScope(repo)} ${pullScope(from)}`,
    );
    res.body.resume();
    if (res.status === 201) return true;
    if (res.status === 202) {
      if (res.headers.location)
        await this.send(
          { method: 'DELETE', url: new URL(res.headers.location, res.url).href },
          pushScope(repo),
        ).then((r) => r.body.resume());
      return false;
    }
    return this.fail(res, `mount ${digest} from ${from}`);
  }

  /**
   * Uploads the blob in `file` (its digest and size known): one PUT when it is at most the chunk
   * size, else PATCH chunks; a chunk the registry refuses as out of range (416) is resumed from the
   * offset it reports, and a session it dropped is started again.
   */
  async uploadBlob(repo: string, digest: Digest, size: number, file: string): Promise<void> {
    // a session the registry dropped (distribution invalidates one whose chunk broke off) or a
    // connection that kept failing starts over in a new session, twice at most
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.uploadSession(repo, digest, size, file);
      } catch (err) {
        const again =
          err instanceof BuilderError &&
          [
            'SPROUT_ERR_BUILDER_REGISTRY_UNREACHABLE',
            'SPROUT_ERR_BUILDER_REGISTRY_NOT_FOUND',
            'SPROUT_ERR_BUILDER_REGISTRY_FAILED',
          ].includes(err.code);
        if (!again || attempt >= 2) throw err;
      }
    }
  }

  private async uploadSession(repo: string, digest: Digest, size: number, file: string): Promise<void> {
    const scope = pushScope(repo);
    const start = await this.send(
      { method: 'POST', url: `/v2/${repo}/blobs/uploads/`, headers: { 'content-length': 0 } },
      scope,
    );
    start.body.resume();
    if (start.status !== 202 || !start.headers.location) return this.fail(start, `start upload of ${digest}`);
    let location = new URL(start.headers.location, start.url);
    if (size > this.#chunkSize) location = await this.uploadChunks(repo, location, size, file);
    const put = new URL(location);
    put.searchParams.set('digest', digest);
    const monolithic = size <= this.#chunkSize;
    const res = await this.send(
      {
        method: 'PUT',
        url: put.href,
        headers: { 'content-type': 'application/octet-stream', 'content-length': monolithic ? size : 0 },
        ...(monolithic ? { body: () => createReadStream(file) } : {}),
      },
      scope,
    );
    res.body.resume();
    if (res.status !== 201) return this.fail(res, `finish upload of ${digest}`);
  }

  private async uploadChunks(repo: string, location: URL, size: number, file: string): Promise<URL> {
    const scope = pushScope(repo);
    let offset = 0;
    let failures = 0;
    while (offset < size) {
      const end = Math.min(offset + this.#chunkSize, size) - 1;
      const from = offset;
      let res: Response | undefined;
      try {
        res = await this.send(
          {
            method: 'PATCH',
            url: location.href,
            headers: {
              'content-type': 'application/octet-stream',
              'content-length': end - from + 1,
              'content-range': `${from}-${end}`,
            },
            body: () => createReadStream(file, { start: from, end }),
          },
          scope,
        );
        res.body.resume();
      } catch (err) {
        if (
          !(err instanceof BuilderError && err.code === 'SPROUT_ERR_BUILDER_REGISTRY_UNREACHABLE') ||
          ++failures > 3
        )
          throw err;
      }
      if (res?.status === 202 && res.headers.location) {
        location = new URL(res.headers.location, res.url);
        offset = end + 1;
        continue;
      }
      if (res && res.status !== 416) return this.fail(res, `upload chunk ${from}-${end}`);
      // interrupted or out of step: ask the registry how much it has, and go on from there
      if (++failures > 3)
        throw new BuilderError(
          'SPROUT_ERR_BUILDER_REGISTRY_FAILED',
          `upload to ${repo} keeps breaking off at ${offset} bytes`,
        );
      const status = await this.send({ method: 'GET', url: location.href }, scope);
      status.body.resume();
      if (status.status !== 204) return this.fail(status, 'upload status');
      const range = /^0-(\d+)$/.exec(String(status.headers.range ?? ''));
      offset = range ? Number(range[1]) + 1 : 0;
      if (status.headers.location) location = new URL(status.headers.location, status.url);
    }
    return location;
  }

  /** PUTs a manifest or index under a tag or digest; returns its digest. */
  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    const res = await this.send(
      {
        method: 'PUT',
        url: `/v2/${repo}/manifests/${reference}`,
        headers: { 'content-type': mediaType, 'content-length': bytes.length },
        body: () => bytes,
      },
      pushScope(repo),
    );
    res.body.resume();
    if (res.status !== 201) return this.fail(res, `PUT manifest ${repo}:${reference}`);
    return sha256(bytes);
  }

  /** GETs a manifest or index by tag or digest (every OCI and Docker v2 media type accepted). */
  async getManifest(repo: string, reference: string): Promise<FetchedManifest> {
    const res = await this.send(
      {
        method: 'GET',
        url: `/v2/${repo}/manifests/${reference}`,
        headers: { accept: MANIFEST_TYPES.join(', ') },
      },
      pullScope(repo),
    );
    if (res.status !== 200) return this.fail(res, `GET manifest ${repo}:${reference}`);
    const bytes = await readAll(res.body);
    const digest = sha256(bytes);
    if (reference.startsWith('sha256:') && digest !== reference)
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_DIGEST_MISMATCH',
        `manifest ${repo}@${reference} arrived with digest ${digest}; the registry is corrupt or in the way`,
      );
    const mediaType =
      String(res.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim() || MEDIA_TYPES.manifest;
    return { bytes, mediaType, digest };
  }

  close(): void {
    this.#transport.close();
  }
}
