import { connect } from 'node:net';

/** The first answer on a raw connection, and all the server sent. */
export interface RawAnswer {
  /** The first answer's status (0 when none came). */
  status: number;
  /** The first answer's header fields, names lower-cased. */
  headers: Record<string, string>;
  /** Everything received (latin1), heads and bodies. */
  text: string;
  /** The server closed the connection (else it was still open after `timeoutMs`). */
  closed: boolean;
}

/**
 * Writes `bytes` as they are on a fresh TCP connection (no client library to fix them up) and
 * resolves once the server closed it, or after `timeoutMs` with `closed: false`, with the first
 * answer's status and headers.
 */
export function rawExchange(port: number, bytes: string, timeoutMs = 5_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    let text = '';
    let closed = true;
    const s = connect(port, '127.0.0.1', () => s.write(bytes));
    const timer = setTimeout(() => {
      closed = false;
      s.destroy();
    }, timeoutMs);
    s.on('data', (c: Buffer) => (text += c.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      const head = text.slice(0, Math.max(0, text.indexOf('\r\n\r\n'))).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const status = Number(/^HTTP\/1\.[01] (\d{3}) /.exec(head[0]!)?.[1] ?? 0);
      resolve({ status, headers, text, closed });
    });
  });
}

/**
 * The HTTP/1.1 request without Host a fuzz run sent to `path`: a head cut right after its request
 * line, then a chunked body whose empty size line ends the head. Node's `requireHostHeader` answers
 * it with a bare 400 (no `x-sprout-error-code`); `refuseHostless` with a coded one.
 */
export const hostlessRequest = (path: string): string =>
  `POST ${path} HTTP/1.1\r\n\r\n{"a":11111,\r\n0\r\n\r\n`;

/**
 * Sends `hostlessRequest(path)` and tells how it was answered: the first answer's status,
 * `x-sprout-error-code` and `connection`, and whether the server closed the connection.
 *
 * @example
 * expect(await askHostless(port, '/x')).toEqual(HOSTLESS_REFUSED);
 */
export async function askHostless(
  port: number,
  path: string,
): Promise<{ status: number; code: string | undefined; connection: string | undefined; closed: boolean }> {
  const a = await rawExchange(port, hostlessRequest(path));
  return {
    status: a.status,
    code: a.headers['x-sprout-error-code'],
    connection: a.headers.connection?.toLowerCase(),
    closed: a.closed,
  };
}

/** What `askHostless` resolves with for a server that refuses the request coded (`refuseHostless`). */
export const HOSTLESS_REFUSED = {
  status: 400,
  code: 'SPROUT_ERR_HTTP_MALFORMED_REQUEST',
  connection: 'close',
  closed: true,
};
