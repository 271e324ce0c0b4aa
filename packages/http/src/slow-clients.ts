import { connect, type Socket } from 'node:net';

/** A set of slowloris connections opened by `openSlowClients`. */
export interface SlowClients {
  /** Connections opened (some may have been refused or closed at once). */
  readonly opened: number;
  /** Connections the server has closed so far. */
  readonly closed: number;
  /** Ms from open to close of every connection the server closed, in the order they closed. */
  readonly lifetimes: readonly number[];
  /** Resolves once every connection is closed by the server, or after `timeoutMs` (false then). */
  allClosed(timeoutMs: number): Promise<boolean>;
  /** Destroys the connections still open and stops writing. */
  close(): void;
}

/**
 * Opens `count` connections to `port` that each send a request line and then one header byte every
 * `intervalMs` without ever finishing the head: the slowloris attack. For tests and benches of
 * listener limits; opens at most `batch` connections at a time so the client machine keeps up.
 */
export async function openSlowClients(
  port: number,
  count: number,
  o: { host?: string; intervalMs?: number; batch?: number } = {},
): Promise<SlowClients> {
  const host = o.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  const lifetimes: number[] = [];
  let opened = 0;
  let closed = 0;
  let waiter: (() => void) | undefined;
  const open = (): Promise<void> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const s = connect(port, host);
      s.setNoDelay(true);
      s.on('error', () => {});
      s.on('data', () => {});
      s.once('connect', () => {
        opened++;
        sockets.add(s);
        s.write(`GET /slow HTTP/1.1\r\nhost: ${host}\r\nx-slow: `);
        resolve();
      });
      s.once('close', () => {
        if (sockets.delete(s)) {
          closed++;
          lifetimes.push(performance.now() - t0);
          if (sockets.size === 0) waiter?.();
        } else resolve();
      });
    });
  const batch = o.batch ?? 200;
  for (let i = 0; i < count; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, count - i) }, open));
  }
  const timer = setInterval(() => {
    for (const s of sockets) if (s.writable) s.write('a');
  }, o.intervalMs ?? 2_000);
  return {
    get opened() {
      return opened;
    },
    get closed() {
      return closed;
    },
    lifetimes,
    allClosed(timeoutMs) {
      if (sockets.size === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const t = setTimeout(() => resolve(false), timeoutMs);
        waiter = () => {
          clearTimeout(t);
          resolve(true);
        };
      });
    },
    close() {
      clearInterval(timer);
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
  };
}
