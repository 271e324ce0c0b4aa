import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededRng } from '@sprout/http/testing';
import { isBuilderError } from '../errors.js';
import { parseChallenges } from './challenge.js';
import { credentialsFor } from './credentials.js';
import { formatReference, isLoopbackRegistry, parseReference } from './reference.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  it.each([
    ['node', 'registry-1.docker.io/library/node:latest'],
    ['team/app:1.0', 'registry-1.docker.io/team/app:1.0'],
    ['localhost/app', 'localhost/app:latest'],
    ['127.0.0.1:5000/a/b/c:v1', '127.0.0.1:5000/a/b/c:v1'],
    [`ghcr.io/o/app@${D}`, `ghcr.io/o/app@${D}`],
    [`ghcr.io/o/app:1@${D}`, `ghcr.io/o/app:1@${D}`],
    ['[::1]:5000/app:x', '[::1]:5000/app:x'],
  ])('%s → %s', (input, expected) => {
    expect(formatReference(parseReference(input))).toBe(expected);
  });

  it.each(['', 'UPPER/app', 'host:5000/app:', 'app@sha256:12', 'a//b', 'app:-bad', '/app', 'app:tag:x'])(
    'refuses %j',
    (input) => {
      expect(() => parseReference(input)).toThrow(
        expect.objectContaining({ code: 'SPROUT_ERR_BUILDER_REFERENCE_INVALID' }),
      );
    },
  );

  it('loopback hosts only', () => {
    expect(['localhost:5000', '127.0.0.1', '127.1.2.3:80', '[::1]:5000'].map(isLoopbackRegistry)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['127.0.0.1.nip.io', 'example.com', '10.0.0.1:5000'].map(isLoopbackRegistry)).toEqual([
      false,
      false,
      false,
    ]);
  });

  it('random input is parsed or refused with the code, never a crash (fuzz)', () => {
    const rng = seededRng();
    const alphabet = 'abz09.:/@_-ABsha256:[]';
    for (let i = 0; i < 3000; i++) {
      const input = Array.from({ length: rng.int(0, 40) }, () => rng.pick([...alphabet])).join('');
      try {
        const ref = parseReference(input);
        expect(parseReference(formatReference(ref)), `seed ${rng.seed}: ${input}`).toEqual(ref);
      } catch (err) {
        expect(
          isBuilderError(err, 'SPROUT_ERR_BUILDER_REFERENCE_INVALID'),
          `seed ${rng.seed}: ${input}`,
        ).toBe(true);
      }
    }
  });
});

describe('WWW-Authenticate challenges', () => {
  it.each([
    ['Basic realm="registry"', [{ scheme: 'basic', params: { realm: 'registry' } }]],
    [
      'Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"',
      [
        {
          scheme: 'bearer',
          params: { realm: 'https://auth.example/token', service: 'reg', scope: 'repository:a/b:pull,push' },
        },
      ],
    ],
    [
      'Bearer realm="a\\"b", Basic realm=x',
      [
        { scheme: 'bearer', params: { realm: 'a"b' } },
        { scheme: 'basic', params: { realm: 'x' } },
      ],
    ],
    ['Negotiate', [{ scheme: 'negotiate', params: {} }]],
    ['Bearer realm="unterminated', [{ scheme: 'bearer', params: {} }]],
  ])('%s', (header, expected) => {
    expect(parseChallenges(header)).toEqual(expected);
  });

  it('random and cut headers never throw and give schemes that are tokens (fuzz)', () => {
    const rng = seededRng();
    const valid = 'Bearer realm="https://a/t",service="s",scope="repository:x:pull", Basic realm="r"';
    for (let i = 0; i < 3000; i++) {
      const input =
        rng.next() < 0.5
          ? valid.slice(0, rng.int(0, valid.length))
          : rng.bytes(rng.int(0, 60)).toString('latin1');
      const parsed = parseChallenges(input);
      for (const c of parsed) expect(c.scheme, `seed ${rng.seed}`).toMatch(/^[!#$%&'*+.^_`|~0-9a-z-]+$/);
    }
  });
});

describe('Docker-style auth file', () => {
  it('finds credentials by host (auth or username/password; Docker Hub URL keys) and refuses a broken file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sprout-builder-auth-'));
    try {
      const env = { DOCKER_CONFIG: dir };
      expect(await credentialsFor('r.example', env)).toBeUndefined();
      await writeFile(
        join(dir, 'config.json'),
        JSON.stringify({
          auths: {
            'r.example:5000': { auth: Buffer.from('u:p:with:colons').toString('base64') },
            'https://index.docker.io/v1/': { username: 'hub', password: 'pw' },
            'bad.example': { auth: 'bm9jb2xvbg==' },
          },
        }),
      );
      expect(await credentialsFor('r.example:5000', env)).toEqual({
        username: 'u',
        password: 'p:with:colons',
      });
      expect(await credentialsFor('registry-1.docker.io', env)).toEqual({ username: 'hub', password: 'pw' });
      expect(await credentialsFor('other.example', env)).toBeUndefined();
      await expect(credentialsFor('bad.example', env)).rejects.toMatchObject({
        code: 'SPROUT_ERR_BUILDER_AUTH_CONFIG_INVALID',
      });
      await writeFile(join(dir, 'config.json'), '{"auths": ');
      await expect(credentialsFor('r.example:5000', env)).rejects.toMatchObject({
        code: 'SPROUT_ERR_BUILDER_AUTH_CONFIG_INVALID',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
