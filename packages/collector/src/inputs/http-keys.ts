import { z } from 'zod';
import { bool, duration, int, onlyBool, refused, size } from '../config/values.js';
import { httpNetKeys } from './net-keys.js';

/** fluent-bit's successful_response_code: 200, 201 or 204. */
export const responseCode = z.coerce.number().pipe(z.union([z.literal(200), z.literal(201), z.literal(204)]));

/**
 * fluent-bit's shared listener keys of its HTTP inputs (`http_server.*`, with the legacy aliases
 * `http2`, `buffer_max_size`, `buffer_chunk_size`), its `oauth2.*` keys and the `net.*` keys.
 * An `http_server.` key, when set, wins over its legacy alias (see listenerOptions).
 */
export const httpServerKeys = {
  http2: bool.default(true),
  'http_server.http2': bool.optional(),
  buffer_max_size: size().default(4 * 1024 * 1024),
  'http_server.buffer_max_size': size().optional(),
  buffer_chunk_size: size().default(512 * 1024),
  'http_server.buffer_chunk_size': size().optional(),
  /** 0: no cap of its own (the listener cap of every Sprout server still holds). */
  'http_server.max_connections': int().optional(),
  'http_server.workers': int(1)
    .pipe(
      z.literal(1, {
        error:
          'http_server.workers above 1 cannot be honoured: an input serves from one event loop; run several inputs (or collectors) on their own ports instead',
      }),
    )
    .optional(),
  /** Used only with http_server.workers above 1, as in fluent-bit: checked, no effect. */
  'http_server.ingress_queue_event_limit': int(1).optional(),
  'http_server.ingress_queue_byte_limit': size().optional(),
  'http_server.idle_timeout': duration.optional(),
  'oauth2.validate': onlyBool(
    false,
    'oauth2.validate cannot be on: Sprout does not validate OAuth 2.0 JWTs on inputs; put a proxy that checks tokens in front of the input',
  ),
  ...Object.fromEntries(
    [
      'oauth2.issuer',
      'oauth2.jwks_url',
      'oauth2.allowed_audience',
      'oauth2.allowed_clients',
      'oauth2.jwks_refresh_interval',
    ].map((k) => [k, refused(`${k} needs oauth2.validate, which Sprout does not implement`)]),
  ),
  ...httpNetKeys,
};

export type ServerKeyValues = z.output<z.ZodObject<typeof httpServerKeys>>;

/** The listener settings an HTTP input runs with, `http_server.*` winning over its legacy alias. */
export function listenerOptions(o: ServerKeyValues) {
  return {
    http2: o['http_server.http2'] ?? o.http2,
    maxBytes: o['http_server.buffer_max_size'] ?? o.buffer_max_size,
    chunkBytes: o['http_server.buffer_chunk_size'] ?? o.buffer_chunk_size,
    maxConnections: o['http_server.max_connections'] ?? 0,
    /** A kept-alive connection waits this long for its next request (fluent-bit: 10 s). */
    idleMs: (o['http_server.idle_timeout'] ?? o['net.keepalive_idle_timeout'] ?? 10) * 1000,
  };
}
