import { BuilderError } from '../errors.js';
import { parseChallenges } from './challenge.js';
import type { Credentials } from './credentials.js';
import { readAll, type Response, type Transport } from './transport.js';

/**
 * Authorization for one registry: answers a 401's challenge with Basic credentials or, for a
 * `Bearer` challenge, a token from the challenge's realm (OAuth2-style token endpoint of the
 * distribution spec, with the credentials as Basic auth when there are any). Tokens are kept per
 * scope for their lifetime.
 */
export class RegistryAuth {
  readonly #tokens = new Map<string, { header: string; expires: number }>();
  #basic = false;

  constructor(
    private readonly transport: Transport,
    private readonly credentials: Credentials | undefined,
  ) {}

  /** The Authorization header to send for `scope`, if one is known. */
  header(scope: string): string | undefined {
    if (this.#basic && this.credentials) return basicHeader(this.credentials);
    const t = this.#tokens.get(scope);
    return t && t.expires > Date.now() ? t.header : undefined;
  }

  /** Handles a 401 answer for `scope`; resolves when a retry with `header(scope)` may succeed. */
  async challenged(res: Response, scope: string): Promise<void> {
    res.body.resume();
    const challenges = parseChallenges(res.headers['www-authenticate']);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer?.params.realm) {
      await this.fetchToken(bearer.params.realm, bearer.params.service, scope);
      return;
    }
    if (challenges.some((c) => c.scheme === 'basic') && this.credentials) {
      // a second 401 after the credentials were sent is refused by the caller (RegistryClient.send)
      this.#basic = true;
      return;
    }
    throw refused(
      this.transport.registry,
      this.credentials ? 'asks for an authentication Sprout does not speak' : 'needs credentials',
    );
  }

  private async fetchToken(realm: string, service: string | undefined, scope: string): Promise<void> {
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    for (const s of scope.split(' ')) if (s) url.searchParams.append('scope', s);
    const res = await this.transport.send({
      method: 'GET',
      url: url.href,
      headers: this.credentials ? { authorization: basicHeader(this.credentials) } : {},
    });
    const body = await readAll(res.body, 1024 * 1024);
    if (res.status === 401 || res.status === 403)
      throw refused(url.origin, 'refused a token for these credentials');
    if (res.status !== 200)
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_REGISTRY_FAILED',
        `token endpoint ${url.origin} answered ${res.status}`,
      );
    let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      doc = JSON.parse(body.toString('utf8')) as typeof doc;
    } catch {
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_REGISTRY_FAILED',
        `token endpoint ${url.origin} did not answer JSON`,
      );
    }
    const token = typeof doc.token === 'string' ? doc.token : doc.access_token;
    if (typeof token !== 'string' || token === '')
      throw new BuilderError(
        'SPROUT_ERR_BUILDER_REGISTRY_FAILED',
        `token endpoint ${url.origin} answered without a token`,
      );
    const seconds = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60;
    this.#tokens.set(scope, { header: `Bearer ${token}`, expires: Date.now() + (seconds - 5) * 1000 });
  }
}

function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

function refused(who: string, why: string): BuilderError {
  return new BuilderError(
    'SPROUT_ERR_BUILDER_REGISTRY_UNAUTHORIZED',
    `${who} ${why}; put credentials for it in $DOCKER_CONFIG/config.json (or ~/.docker/config.json) or pass them as options`,
  );
}
