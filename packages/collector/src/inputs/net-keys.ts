import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Http2Server, Http2Session } from 'node:http2';
import type { Server, Socket } from 'node:net';
import { Server as TlsServer, type TlsOptions } from 'node:tls';
import type { Logger } from '@sprout/observe';
import { z } from 'zod';
import { bool, duration, int, onlyBool, refused } from '../config/values.js';

/** A fluent-bit networking key only a client (an output) has a use for. */
const outputOnly = (key: string, what: string) =>
  refused(`${key} ${what}; it applies to outputs, which open connections (an input only accepts them)`);

/** A TCP keepalive knob Node cannot set: only its default (-1, the kernel's) is accepted. */
const kernelDefault = (key: string) =>
  z.coerce
    .number()
    .pipe(
      z.literal(-1, {
        error: `${key} cannot be set: Node sets only the idle time of TCP keepalive (net.tcp_keepalive_time); the kernel's interval and probe count apply`,
      }),
    )
    .optional();

/** The `net.*` keys every TCP-based input takes (fluent-bit administration/networking). */
const common = {
  /** Seconds a TLS handshake may take (a plain TCP connection is established once accepted). */
  'net.accept_timeout': duration.optional(),
  'net.accept_timeout_log_error': bool.optional(),
  'net.backlog': int(1, 65535).optional(),
  /** Seconds a connection may stay idle; 0 never closes it. */
  'net.io_timeout': duration.optional(),
  'net.share_port': onlyBool(
    false,
    'net.share_port cannot be on: Node 20 cannot bind one port from several sockets (SO_REUSEPORT); give each input its own port',
  ),
  'net.tcp_keepalive': bool.optional(),
  'net.tcp_keepalive_time': z.coerce.number().int().min(-1).optional(),
  'net.tcp_keepalive_interval': kernelDefault('net.tcp_keepalive_interval'),
  'net.tcp_keepalive_probes': kernelDefault('net.tcp_keepalive_probes'),
  'net.connect_timeout': outputOnly('net.connect_timeout', 'bounds connecting to a server'),
  'net.connect_timeout_log_error': outputOnly(
    'net.connect_timeout_log_error',
    'logs a timed-out connect to a server',
  ),
  'net.source_address': outputOnly('net.source_address', 'picks the address connections leave from'),
  'net.dns.mode': outputOnly('net.dns.mode', 'sets how a server name is resolved'),
  'net.dns.prefer_ipv4': outputOnly('net.dns.prefer_ipv4', 'orders resolved addresses'),
  'net.dns.prefer_ipv6': outputOnly('net.dns.prefer_ipv6', 'orders resolved addresses'),
  'net.dns.resolver': outputOnly('net.dns.resolver', 'picks the DNS resolver'),
  'net.keepalive_max_recycle': outputOnly(
    'net.keepalive_max_recycle',
    'retires pooled connections to a server',
  ),
  'net.proxy_env_ignore': outputOnly('net.proxy_env_ignore', 'concerns proxies for connections out'),
  'net.max_worker_connections': outputOnly(
    'net.max_worker_connections',
    "caps the connections an output's worker opens (an HTTP input's cap is http_server.max_connections)",
  ),
};

/** `net.*` keys of a stream input (tcp, syslog in tcp modes, mqtt, forward). */
export const streamNetKeys = {
  ...common,
  'net.keepalive': onlyBool(
    true,
    'net.keepalive cannot be off on a stream input: a connection carries records for as long as the sender keeps it; use net.io_timeout to close idle ones',
  ),
  'net.keepalive_idle_timeout': refused(
    'net.keepalive_idle_timeout is the idle time between requests; a stream input has no requests (use net.io_timeout)',
  ),
};

/** `net.*` keys of an HTTP input (http, opentelemetry). */
export const httpNetKeys = {
  ...common,
  /** off: every response closes its connection (HTTP/1.1 `connection: close`, HTTP/2 GOAWAY). */
  'net.keepalive': bool.optional(),
  /** Seconds a kept-alive connection may wait for its next request. */
  'net.keepalive_idle_timeout': duration.optional(),
};

type NetValues = Partial<{
  'net.accept_timeout': number;
  'net.accept_timeout_log_error': boolean;
  'net.backlog': number;
  'net.io_timeout': number;
  'net.tcp_keepalive': boolean;
  'net.tcp_keepalive_time': number;
  'net.keepalive': boolean;
}>;

/** fluent-bit's defaults. */
const ACCEPT_TIMEOUT_S = 10;
const BACKLOG = 128;

/** True when any `net.*` key was given (for inputs where they do not apply in some modes). */
export function hasNetKeys(o: object): boolean {
  return Object.entries(o).some(([k, v]) => k.startsWith('net.') && v !== undefined);
}

/** TLS server options with `net.accept_timeout` as the deadline of the handshake (0: none). */
export function withAcceptTimeout(tls: TlsOptions | undefined, o: NetValues): TlsOptions | undefined {
  if (!tls) return undefined;
  return { ...tls, handshakeTimeout: (o['net.accept_timeout'] ?? ACCEPT_TIMEOUT_S) * 1000 };
}

/**
 * Applies the `net.*` keys to a server before it listens and returns the backlog to listen with:
 * `net.io_timeout` closes a connection idle that long (an HTTP server's own socket timeout), TCP
 * keepalive probes with `net.tcp_keepalive` (after `net.tcp_keepalive_time` seconds idle), and a
 * TLS handshake that overran `net.accept_timeout` is logged at error level, or debug with
 * `net.accept_timeout_log_error: off`. For HTTP servers see also applyHttpKeepAlive.
 */
export function applyNetKeys(server: Server | HttpServer, o: NetValues, log: Logger, input: string): number {
  const ioMs = (o['net.io_timeout'] ?? 0) * 1000;
  const tls = server instanceof TlsServer;
  // An HTTP server's own socket timeout covers requests and keep-alive; the raw socket's covers a
  // connection before its protocol is known (HTTP/2 sniffing), a TLS one its secure socket.
  if ('headersTimeout' in server) (server as HttpServer).timeout = ioMs;
  if (ioMs > 0)
    server.on(tls ? 'secureConnection' : 'connection', (s: Socket) => s.setTimeout(ioMs, () => s.destroy()));
  if (o['net.tcp_keepalive']) {
    const idle = o['net.tcp_keepalive_time'] ?? -1;
    server.on('connection', (s: Socket) => {
      if (s.remoteAddress) s.setKeepAlive(true, idle > 0 ? idle * 1000 : 0);
    });
  }
  if (tls) {
    const level = (o['net.accept_timeout_log_error'] ?? true) ? 'error' : 'debug';
    server.on('tlsClientError', (err: NodeJS.ErrnoException, s: Socket) => {
      if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT')
        log[level]({ input, peer: s.remoteAddress }, 'TLS handshake not done within net.accept_timeout');
    });
  }
  return o['net.backlog'] ?? BACKLOG;
}

/**
 * The keep-alive keys of an HTTP input: `idleMs` is how long a kept-alive connection waits for its
 * next request; with `net.keepalive: off` every response closes its connection. `h2` (the input's
 * HTTP/2 server, when it has one) gets the same: an idle session is closed after `idleMs` (or the
 * shorter `net.io_timeout`), and with keepalive off a session ends after its first response (GOAWAY).
 */
export function applyHttpKeepAlive(
  http1: HttpServer,
  h2: Http2Server | undefined,
  o: NetValues,
  idleMs: number,
): void {
  // net.io_timeout bounds the wait between requests too when it is the shorter (0: no bound).
  const ioMs = (o['net.io_timeout'] ?? 0) * 1000;
  const idle = ioMs > 0 && (idleMs === 0 || ioMs < idleMs) ? ioMs : idleMs;
  http1.keepAliveTimeout = idle;
  const keep = o['net.keepalive'] ?? true;
  if (!keep)
    http1.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
      res.shouldKeepAlive = false;
    });
  if (!h2) return;
  h2.on('session', (s: Http2Session) => {
    if (idle > 0) s.setTimeout(idle, () => s.close());
    if (!keep) s.on('stream', (stream) => stream.once('close', () => s.close()));
  });
}
