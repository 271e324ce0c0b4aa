import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BuilderError } from '../errors.js';

export interface Credentials {
  username: string;
  password: string;
}

function bad(file: string, why: string): BuilderError {
  return new BuilderError('SPROUT_ERR_BUILDER_AUTH_CONFIG_INVALID', `${file}: ${why}`, { field: 'auths' });
}

function hostOf(key: string): string {
  // keys are a host, host:port, or a URL such as https://index.docker.io/v1/
  const host = key.replace(/^[a-z]+:\/\//, '').split('/')[0]!;
  return host === 'index.docker.io' || host === 'docker.io' ? 'registry-1.docker.io' : host;
}

/**
 * The credentials for `registry` from a Docker-style auth file: `$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json` (`{"auths":{"host":{"auth":"base64(user:pass)"}}}`, or `username` and
 * `password`). Returns undefined when the file or an entry is absent. Credential helpers
 * (`credHelpers`, `credsStore`) are not run.
 */
export async function credentialsFor(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials | undefined> {
  const file = join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw bad(file, `is not JSON (${(err as Error).message})`);
  }
  const auths = (doc as { auths?: unknown } | null)?.auths;
  if (auths === undefined) return undefined;
  if (typeof auths !== 'object' || auths === null) throw bad(file, '"auths" must be an object');
  for (const [key, entry] of Object.entries(auths as Record<string, unknown>)) {
    if (hostOf(key) !== registry) continue;
    const e = (entry ?? {}) as { auth?: unknown; username?: unknown; password?: unknown };
    if (typeof e.username === 'string' && typeof e.password === 'string')
      return { username: e.username, password: e.password };
    if (typeof e.auth !== 'string')
      throw bad(file, `the entry for ${key} has neither "auth" nor username and password`);
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw bad(file, `the "auth" of ${key} is not base64 of user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return undefined;
}
