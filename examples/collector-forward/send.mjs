// Sends a few events to collector.yaml with the official Fluentd client SDK for Node
// (@fluent-org/logger), in PackedForward mode, with the shared-key handshake, waiting for each ack.
import fluent from '@fluent-org/logger';

const port = Number(process.argv[2] ?? 24224);
const client = new fluent.FluentClient('app', {
  eventMode: 'PackedForward',
  socket: { host: '127.0.0.1', port, timeout: 5000 },
  ack: { ackTimeout: 5000 },
  security: { clientHostname: 'send-mjs', sharedKey: 'change-me' },
  milliseconds: true,
});
await Promise.all([
  client.emit('web', { level: 'info', msg: 'hello over forward' }),
  client.emit('web', { level: 'debug', msg: 'dropped by the grep filter' }),
  client.emit('worker', { level: 'warn', msg: 'queue is long', depth: 120 }),
]);
console.log('3 events acknowledged');
await client.disconnect();
