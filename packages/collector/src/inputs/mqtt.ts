import type { Socket } from 'node:net';
import { z } from 'zod';
import { port, size } from '../config/values.js';
import { MqttParser, MqttProtocolError, mqttWrite, type MqttPacket } from '../parsers/mqtt.js';
import type { InputContext, InputPlugin } from '../plugin.js';
import { nowNs } from '../types.js';
import { addressOf, closeServer, listen, pumpSocket, trackedServer } from './net.js';
import { applyNetKeys, streamNetKeys, withAcceptTimeout } from './net-keys.js';
import { serverTlsOptions, tlsKeys } from './tls.js';

const schema = z.strictObject({
  listen: z.string().default('0.0.0.0'),
  /** fluent-bit listens on 1883; the default here leaves 1883 to a broker on the same machine. */
  port: port.default(1884),
  payload_key: z.string().optional(),
  /** Largest MQTT packet accepted; a larger one is refused (v5: DISCONNECT 0x95) and counted, never dropped silently. */
  buffer_size: size().default(1024 * 1024),
  ...tlsKeys,
  ...streamNetKeys,
});

/** Writes honouring backpressure: resolves once the socket drained when write() said so. */
function send(s: Socket, b: Buffer): Promise<void> | undefined {
  if (s.destroyed) return undefined;
  return s.write(b) ? undefined : new Promise((r) => s.once('drain', r));
}

/** Record body: a JSON object payload merged with `topic`; anything else kept as text under `payload_key` (default `payload`). */
function bodyOf(topic: string, payload: Buffer, payloadKey?: string): Record<string, unknown> {
  const text = payload.toString('utf8');
  if (!payloadKey) {
    try {
      const v = JSON.parse(text) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v))
        return { topic, ...(v as Record<string, unknown>) };
    } catch {
      // not JSON: kept as text below
    }
  }
  return { topic, [payloadKey ?? 'payload']: text };
}

function session(s: Socket, o: z.output<typeof schema>, ctx: InputContext) {
  const parser = new MqttParser(o.buffer_size);
  let connected = false;
  let keepTimer: NodeJS.Timeout | undefined;
  /** QoS 2 packet ids received and answered with PUBREC but not yet released (exactly once). */
  const inflight2 = new Set<number>();
  const fail = (reason: string, message: string, code?: number) => {
    ctx.reject(reason, { client: `${s.remoteAddress}:${s.remotePort}`, error: message });
    if (code !== undefined && parser.level === 5 && connected) s.end(mqttWrite.disconnect(code));
    else s.destroy();
  };
  const touch = (keepalive: number) => {
    if (!keepalive) return;
    clearTimeout(keepTimer);
    // §3.1.2.10: one and a half keep-alive periods without a packet closes the connection.
    keepTimer = setTimeout(() => fail('keepalive', 'keep-alive expired'), keepalive * 1500);
  };
  let keepalive = 0;
  s.on('close', () => clearTimeout(keepTimer));

  const handle = async (p: MqttPacket): Promise<void> => {
    if (!connected && p.type !== 'connect') return fail('protocol', `${p.type} before CONNECT`);
    switch (p.type) {
      case 'connect':
        if (connected) return fail('protocol', 'second CONNECT');
        connected = true;
        keepalive = p.keepalive;
        return send(s, mqttWrite.connack(p.protocolLevel, false, 0));
      case 'publish': {
        if (p.qos === 2 && p.packetId !== undefined && inflight2.has(p.packetId)) {
          return send(s, mqttWrite.ack('pubrec', p.packetId)); // duplicate: already taken
        }
        // The ack goes out only after the pipeline accepted the message.
        await ctx.emit(
          [{ time: nowNs(), tag: ctx.tag, body: bodyOf(p.topic, p.payload, o.payload_key) }],
          p.payload.length,
        );
        if (p.qos === 1) return send(s, mqttWrite.ack('puback', p.packetId!));
        if (p.qos === 2) {
          inflight2.add(p.packetId!);
          return send(s, mqttWrite.ack('pubrec', p.packetId!));
        }
        return;
      }
      case 'pubrel':
        inflight2.delete(p.packetId);
        return send(s, mqttWrite.ack('pubcomp', p.packetId));
      case 'subscribe':
        // An ingestion endpoint has nothing to deliver: every subscription is refused (0x80).
        return send(
          s,
          mqttWrite.suback(
            p.packetId,
            p.topics.map(() => 0x80),
            parser.level,
          ),
        );
      case 'unsubscribe':
        return send(s, mqttWrite.unsuback(p.packetId, p.topics.length, parser.level));
      case 'pingreq':
        return send(s, mqttWrite.pingresp());
      case 'disconnect':
        s.end();
        return;
      default:
        return fail('protocol', `unexpected ${p.type}`);
    }
  };

  pumpSocket(s, async (chunk) => {
    let packets: MqttPacket[];
    try {
      packets = parser.push(chunk);
    } catch (err) {
      if (err instanceof MqttProtocolError)
        return fail(
          err.reason,
          `${err.message} at byte ${err.offset}`,
          err.reason === 'too_large' ? 0x95 : 0x81,
        );
      throw err;
    }
    touch(keepalive);
    for (const p of packets) {
      if (s.destroyed) return;
      await handle(p);
    }
    touch(keepalive);
  });
}

/**
 * `mqtt`: an MQTT 3.1.1 / 5.0 server endpoint that clients publish to. CONNECT, PUBLISH at QoS
 * 0/1/2 with PUBACK / PUBREC–PUBREL–PUBCOMP sent after the pipeline accepted the message, PINGREQ,
 * SUBSCRIBE (refused), DISCONNECT, keep-alive. No sessions persist past a connection.
 */
export const mqttInput: InputPlugin<typeof schema> = {
  name: 'mqtt',
  schema,
  create(o, ctx) {
    const tls = withAcceptTimeout(serverTlsOptions(o, 'mqtt'), o);
    const { server, sockets } = trackedServer((s) => session(s, o, ctx), tls);
    const backlog = applyNetKeys(server, o, ctx.log, 'mqtt');
    return {
      start: () => listen(server, 'mqtt.port', { port: o.port, host: o.listen }, backlog),
      close: () => closeServer(server, sockets),
      address: () => addressOf(server),
    };
  },
};
