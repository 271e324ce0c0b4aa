/**
 * The floor of a proxy written on Node, for bench/gateway.ts: every client connection gets a
 * connection of its own to the instance and bytes are copied both ways as they come — no parsing,
 * no routing, no pooling, no limits. It is correct only for the benchmark's traffic (one request
 * at a time per connection), and it is no product: it shows what Node's sockets cost on this
 * machine, so the gateway's figures can be read against both nginx and Node itself.
 *
 *   node --import tsx bench/node-pipe-proxy.ts <instancePort>   prints "PIPE <port>" once listening
 */
import { connect, createServer } from 'node:net';

const upstreamPort = Number(process.argv[2]);
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
const server = createServer({ noDelay: true }, (client) => {
  const pending: Buffer[] = [];
  const upstream = connect({
    port: upstreamPort,
    host: '127.0.0.1',
    noDelay: true,
    onread: { buffer: READ_BUFFER, callback: (n, buf) => void client.write(Buffer.from(buf.subarray(0, n))) },
  });
  upstream.on('connect', () => {
    for (const b of pending.splice(0)) upstream.write(b);
  });
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
  client.on('close', () => upstream.destroy());
  client.on('data', (d: Buffer) => {
    if (upstream.connecting) pending.push(d);
    else upstream.write(d);
  });
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`PIPE ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
