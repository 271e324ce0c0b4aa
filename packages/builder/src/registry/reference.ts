import { BuilderError } from '../errors.js';
import { isDigest } from '../oci/digest.js';
import type { Digest } from '../oci/types.js';

/** An image reference split into registry host, repository and tag or digest. */
export interface ImageReference {
  /** `host[:port]` as written (Docker Hub: `registry-1.docker.io`). */
  registry: string;
  repository: string;
  tag?: string;
  digest?: Digest;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOCKER_HUB = 'registry-1.docker.io';

function invalid(ref: string, why: string): BuilderError {
  return new BuilderError(
    'SPROUT_ERR_BUILDER_REFERENCE_INVALID',
    `image reference ${JSON.stringify(ref)} ${why}; write it as registry.example.com/team/app:1.0`,
    { field: 'reference' },
  );
}

/**
 * Parses `[host[:port]/]path[:tag][@sha256:…]` the way Docker does: the first part is a registry
 * when it has a `.` or `:` or is `localhost`; otherwise the image is on Docker Hub (`library/` for
 * one-part names). Without tag or digest the tag is `latest`.
 */
export function parseReference(ref: string): ImageReference {
  if (typeof ref !== 'string' || ref.length === 0 || ref.length > 512)
    throw invalid(String(ref), 'is empty or too long');
  let rest = ref;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw invalid(ref, 'has a digest that is not sha256:<64 hex digits>');
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(ref, `has an invalid tag ${JSON.stringify(tag)}`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  if (parts.length > 1 && (/[.:]/.test(parts[0]!) || parts[0] === 'localhost')) {
    registry = parts.shift()!;
    if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(registry))
      throw invalid(ref, 'has an invalid registry host');
  } else if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  if (parts.some((p) => !COMPONENT.test(p)))
    throw invalid(ref, 'has a repository that is not lowercase letters, digits and . _ - separated by /');
  return {
    registry,
    repository: parts.join('/'),
    ...(tag === undefined && digest === undefined ? { tag: 'latest' } : {}),
    ...(tag !== undefined ? { tag } : {}),
    ...(digest ? { digest } : {}),
  };
}

/** The reference written back (`host/repo:tag@digest`). */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** True for a loopback host, the only kind plain HTTP is allowed to. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
