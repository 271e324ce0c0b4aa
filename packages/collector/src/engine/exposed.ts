import { isIPv4 } from 'node:net';

/** An input as `Collector.inputs()` reports it after start. */
interface ListeningInput {
  id: string;
  address?: { host?: string; port?: number; path?: string; grpcPort?: number };
}

/** Whether `host` is on this machine only: 127.0.0.0/8, ::1 (or ::ffff:127.x), localhost. */
function loopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIPv4(v4) && v4.startsWith('127.');
}

/**
 * The inputs that take records from other machines (they listen on every interface, fluent-bit's
 * default, or on an address that is not loopback), each with the line that says so at start: they
 * are unauthenticated. Unix sockets and loopback addresses are not listed.
 */
export function exposedInputs(
  inputs: readonly ListeningInput[],
): { input: string; host: string; port: number | undefined; msg: string }[] {
  return inputs
    .filter((i) => i.address?.host !== undefined && !loopback(i.address.host))
    .map((i) => {
      const { host, port, grpcPort } = i.address as { host: string; port?: number; grpcPort?: number };
      const ports = grpcPort === undefined ? `port ${port}` : `ports ${port} and ${grpcPort}`;
      return {
        input: i.id,
        host,
        port,
        msg: `input ${i.id} accepts records from other machines on ${ports} (${host}), unauthenticated; set listen: 127.0.0.1 to keep it on this one`,
      };
    });
}
