import { randomInt } from 'node:crypto';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { mutate, noise, splitRandomly, timeBox } from '../../test/fuzz.js';
import { MqttParser, MqttProtocolError, mqttWrite } from './mqtt.js';

// Bytes come from mqtt-packet's generate() (MQTT.js's own encoder), so every fixture is a
// round trip between an independent encoder and our parser.
const gen = (p: object, protocolVersion = 4) =>
  mqttPacket.generate(p as mqttPacket.Packet, { protocolVersion });

const connect = (v: number, extra: object = {}) =>
  gen(
    {
      cmd: 'connect',
      protocolId: v === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: v,
      clientId: 'c1',
      keepalive: 30,
      clean: true,
      ...extra,
    },
    v,
  );

describe('MqttParser', () => {
  const table: Array<[string, Buffer, number, unknown]> = [
    // §3.1 CONNECT, 3.1.1 and 3.1 and 5.0 (with properties), with will, user name and password
    [
      'connect 3.1.1',
      connect(4),
      4,
      { type: 'connect', protocolLevel: 4, clientId: 'c1', keepalive: 30, cleanStart: true },
    ],
    [
      'connect 3.1',
      connect(3),
      3,
      { type: 'connect', protocolLevel: 3, clientId: 'c1', keepalive: 30, cleanStart: true },
    ],
    [
      'connect 5.0 with will and credentials',
      connect(5, {
        properties: { sessionExpiryInterval: 10 },
        will: {
          topic: 'w',
          payload: Buffer.from('bye'),
          qos: 1,
          retain: true,
          properties: { willDelayInterval: 1 },
        },
        username: 'u',
        password: Buffer.from('p'),
      }),
      5,
      {
        type: 'connect',
        protocolLevel: 5,
        clientId: 'c1',
        keepalive: 30,
        cleanStart: true,
        username: 'u',
        password: Buffer.from('p'),
        will: { topic: 'w', payload: Buffer.from('bye'), qos: 1, retain: true },
      },
    ],
    // §3.3 PUBLISH at each QoS
    [
      'publish qos0',
      gen({ cmd: 'publish', topic: 'a/b', payload: 'hi', qos: 0, dup: false, retain: false }),
      4,
      { type: 'publish', topic: 'a/b', payload: Buffer.from('hi'), qos: 0, dup: false, retain: false },
    ],
    [
      'publish qos1 retain',
      gen({ cmd: 'publish', topic: 't', payload: '{}', qos: 1, messageId: 7, dup: false, retain: true }),
      4,
      {
        type: 'publish',
        topic: 't',
        payload: Buffer.from('{}'),
        qos: 1,
        dup: false,
        retain: true,
        packetId: 7,
      },
    ],
    [
      'publish qos2 dup',
      gen({ cmd: 'publish', topic: 't', payload: 'x', qos: 2, messageId: 65535, dup: true, retain: false }),
      4,
      {
        type: 'publish',
        topic: 't',
        payload: Buffer.from('x'),
        qos: 2,
        dup: true,
        retain: false,
        packetId: 65535,
      },
    ],
    [
      'publish v5 with properties',
      gen(
        {
          cmd: 'publish',
          topic: 't',
          payload: 'x',
          qos: 1,
          messageId: 3,
          dup: false,
          retain: false,
          properties: { contentType: 'text/plain', userProperties: { a: 'b' } },
        },
        5,
      ),
      5,
      {
        type: 'publish',
        topic: 't',
        payload: Buffer.from('x'),
        qos: 1,
        dup: false,
        retain: false,
        packetId: 3,
      },
    ],
    // §3.6 PUBREL, §3.12 PINGREQ, §3.14 DISCONNECT, §3.8 SUBSCRIBE, §3.10 UNSUBSCRIBE
    ['pubrel', gen({ cmd: 'pubrel', messageId: 9 }), 4, { type: 'pubrel', packetId: 9 }],
    ['pingreq', gen({ cmd: 'pingreq' }), 4, { type: 'pingreq' }],
    ['disconnect', gen({ cmd: 'disconnect' }), 4, { type: 'disconnect' }],
    [
      'subscribe',
      gen({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'x/#', qos: 1 }] }),
      4,
      { type: 'subscribe', packetId: 2, topics: [{ topic: 'x/#', qos: 1 }] },
    ],
    [
      'unsubscribe',
      gen({ cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['x/#', 'y'] }),
      4,
      { type: 'unsubscribe', packetId: 4, topics: ['x/#', 'y'] },
    ],
  ];
  it.each(table)('%s', (_name, bytes, level, want) => {
    const p = new MqttParser(1 << 20);
    p.level = level;
    expect(p.push(bytes)).toEqual([want]);
    expect(p.pending()).toBe(0);
  });

  it('a large payload with a 3-byte remaining length', () => {
    const payload = Buffer.alloc(200_000, 7);
    const [pkt] = new MqttParser(1 << 20).push(
      gen({ cmd: 'publish', topic: 'big', payload, qos: 0, dup: false, retain: false }),
    );
    expect(pkt).toMatchObject({ type: 'publish', topic: 'big' });
    expect((pkt as { payload: Buffer }).payload.equals(payload)).toBe(true);
  });

  // [name, bytes, reason]
  const bad: Array<[string, Buffer, string]> = [
    ['remaining length over 4 bytes', Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 'malformed'],
    [
      'over the size limit, refused from the header alone',
      Buffer.from([0x30, 0xff, 0xff, 0x7f]),
      'too_large',
    ],
    ['QoS 3', Buffer.from([0x36, 0x04, 0x00, 0x01, 0x74, 0x00]), 'malformed'],
    [
      'wildcard in a publish topic',
      gen({ cmd: 'publish', topic: 'a/+', payload: '', qos: 0, dup: false, retain: false }),
      'malformed',
    ],
    [
      'wrong protocol name',
      Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x48, 0x54, 0x54, 0x50, 0x04, 0x02, 0x00, 0x1e, 0x00, 0x00]),
      'protocol',
    ],
    ['string longer than the packet', Buffer.from([0x30, 0x03, 0x00, 0x09, 0x61]), 'malformed'],
    ['CONNACK is not sent to a server', Buffer.from([0x20, 0x02, 0x00, 0x00]), 'protocol'],
    ['PUBREL with wrong flags', Buffer.from([0x60, 0x02, 0x00, 0x01]), 'malformed'],
  ];
  it.each(bad)('rejects %s', (_name, bytes, reason) => {
    const p = new MqttParser(100_000);
    let err: unknown;
    try {
      p.push(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MqttProtocolError);
    expect((err as MqttProtocolError).reason).toBe(reason);
  });

  it('writes acks a real client decodes', () => {
    const decoded: unknown[] = [];
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) =>
      decoded.push({ cmd: p.cmd, messageId: (p as { messageId?: number }).messageId }),
    );
    parser.parse(
      Buffer.concat([
        mqttWrite.connack(4, false, 0),
        mqttWrite.ack('puback', 5),
        mqttWrite.ack('pubrec', 6),
        mqttWrite.ack('pubcomp', 6),
        mqttWrite.pingresp(),
        mqttWrite.suback(8, [0x80], 4),
      ]),
    );
    expect(decoded).toEqual([
      { cmd: 'connack', messageId: undefined },
      { cmd: 'puback', messageId: 5 },
      { cmd: 'pubrec', messageId: 6 },
      { cmd: 'pubcomp', messageId: 6 },
      { cmd: 'pingresp', messageId: undefined },
      { cmd: 'suback', messageId: 8 },
    ]);
  });

  it('fuzz: random and mutated bytes either parse or throw MqttProtocolError, never anything else', () => {
    const valid = Buffer.concat([
      connect(4),
      gen({ cmd: 'publish', topic: 'a', payload: 'b', qos: 1, messageId: 1, dup: false, retain: false }),
      gen({ cmd: 'pingreq' }),
    ]);
    let errors = 0;
    timeBox(400, (i) => {
      const p = new MqttParser(4096);
      try {
        for (const piece of splitRandomly(i % 2 ? noise(300) : mutate(valid, 4))) p.push(piece);
        expect(p.pending()).toBeLessThanOrEqual(4096);
      } catch (e) {
        if (!(e instanceof MqttProtocolError)) throw e;
        errors++;
      }
    });
    expect(errors).toBeGreaterThan(0);
  });

  it('fuzz: valid packet streams split at random points parse the same as whole', () => {
    timeBox(300, () => {
      const pkts = Array.from({ length: randomInt(1, 12) }, (_, i) =>
        gen({
          cmd: 'publish',
          topic: `t/${i}`,
          payload: Buffer.alloc(randomInt(0, 300), i),
          qos: (i % 3) as 0 | 1 | 2,
          messageId: i + 1,
          dup: false,
          retain: false,
        }),
      );
      const whole = Buffer.concat(pkts);
      const once = new MqttParser(1 << 20).push(whole);
      const p = new MqttParser(1 << 20);
      const split = splitRandomly(whole, 20).flatMap((x) => p.push(x));
      expect(split).toEqual(once);
      expect(once).toHaveLength(pkts.length);
    });
  });
});
