/**
 * MQTT 3.1.1 and 5.0 control packets a server receives, parsed incrementally: bytes in, packets
 * out, an unfinished packet kept. The packet size limit is enforced from the Remaining Length
 * field (the first bytes that decide it), before the body arrives. v5 properties are read past.
 */

export type MqttPacket =
  | {
      type: 'connect';
      protocolLevel: number;
      clientId: string;
      keepalive: number;
      cleanStart: boolean;
      username?: string;
      password?: Buffer;
      will?: { topic: string; payload: Buffer; qos: number; retain: boolean };
    }
  | {
      type: 'publish';
      topic: string;
      payload: Buffer;
      qos: 0 | 1 | 2;
      dup: boolean;
      retain: boolean;
      packetId?: number;
    }
  | { type: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'; packetId: number }
  | { type: 'subscribe'; packetId: number; topics: Array<{ topic: string; qos: number }> }
  | { type: 'unsubscribe'; packetId: number; topics: string[] }
  | { type: 'pingreq' }
  | { type: 'disconnect' };

export class MqttProtocolError extends Error {
  constructor(
    readonly reason: 'malformed' | 'too_large' | 'protocol',
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export class MqttParser {
  private tail: Buffer = Buffer.alloc(0);
  private consumed = 0;
  /** Protocol level from CONNECT (4 = 3.1.1, 5 = 5.0); decides whether properties are present. */
  level = 4;

  constructor(private readonly maxPacket: number) {}

  /** Parses what it can; throws MqttProtocolError on a packet the connection cannot recover from. */
  push(chunk: Buffer): MqttPacket[] {
    const buf = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    const out: MqttPacket[] = [];
    let p = 0;
    for (;;) {
      if (buf.length - p < 2) break;
      // §2.2.3 Remaining Length: variable byte integer, at most 4 bytes.
      let len = 0;
      let mul = 1;
      let i = p + 1;
      let done = false;
      for (; i < buf.length && i < p + 5; i++) {
        const b = buf[i]!;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          done = true;
          i++;
          break;
        }
      }
      if (!done) {
        if (i >= p + 5)
          throw new MqttProtocolError('malformed', 'remaining length longer than 4 bytes', this.consumed + p);
        break;
      }
      if (len + (i - p) > this.maxPacket) {
        throw new MqttProtocolError(
          'too_large',
          `packet of ${len + (i - p)} bytes over the limit of ${this.maxPacket}`,
          this.consumed + p,
        );
      }
      if (buf.length - i < len) break;
      out.push(this.decode(buf[p]!, buf.subarray(i, i + len), this.consumed + i));
      p = i + len;
    }
    this.consumed += p;
    this.tail = Buffer.from(buf.subarray(p));
    return out;
  }

  pending(): number {
    return this.tail.length;
  }

  private decode(first: number, body: Buffer, offset: number): MqttPacket {
    const type = first >> 4;
    const flags = first & 0x0f;
    const r = new Reader(body, offset);
    const fixedFlags = (want: number) => {
      if (flags !== want)
        throw new MqttProtocolError(
          'malformed',
          `bad fixed header flags ${flags} for packet type ${type}`,
          offset - 2,
        );
    };
    switch (type) {
      case 1: {
        fixedFlags(0);
        const name = r.str();
        const level = r.u8();
        if (!((name === 'MQTT' && (level === 4 || level === 5)) || (name === 'MQIsdp' && level === 3))) {
          throw new MqttProtocolError('protocol', `unsupported protocol ${name} level ${level}`, offset);
        }
        this.level = level;
        const cf = r.u8();
        if (cf & 1) throw new MqttProtocolError('malformed', 'reserved connect flag set', offset);
        const keepalive = r.u16();
        if (level === 5) r.props();
        const clientId = r.str();
        const pkt: Extract<MqttPacket, { type: 'connect' }> = {
          type: 'connect',
          protocolLevel: level,
          clientId,
          keepalive,
          cleanStart: (cf & 2) !== 0,
        };
        if (cf & 4) {
          if (level === 5) r.props();
          pkt.will = { topic: r.str(), payload: r.bin(), qos: (cf >> 3) & 3, retain: (cf & 32) !== 0 };
        }
        if (cf & 128) pkt.username = r.str();
        if (cf & 64) pkt.password = r.bin();
        return pkt;
      }
      case 3: {
        const qosBits = (flags >> 1) & 3;
        if (qosBits === 3) throw new MqttProtocolError('malformed', 'QoS 3 is not a QoS', offset - 2);
        const qos = qosBits as 0 | 1 | 2;
        const topic = r.str();
        if (topic.includes('+') || topic.includes('#'))
          throw new MqttProtocolError('malformed', 'wildcards in a PUBLISH topic', offset);
        const packetId = qos > 0 ? r.u16() : undefined;
        if (this.level === 5) r.props();
        const pkt: Extract<MqttPacket, { type: 'publish' }> = {
          type: 'publish',
          topic,
          payload: r.rest(),
          qos,
          dup: (flags & 8) !== 0,
          retain: (flags & 1) !== 0,
        };
        if (packetId !== undefined) pkt.packetId = packetId;
        return pkt;
      }
      case 4:
      case 5:
      case 7:
        fixedFlags(0);
        return {
          type: (['puback', 'pubrec', '', 'pubcomp'] as const)[type - 4] as 'puback',
          packetId: r.u16(),
        };
      case 6:
        fixedFlags(2);
        return { type: 'pubrel', packetId: r.u16() };
      case 8: {
        fixedFlags(2);
        const packetId = r.u16();
        if (this.level === 5) r.props();
        const topics: Array<{ topic: string; qos: number }> = [];
        while (!r.end()) topics.push({ topic: r.str(), qos: r.u8() & 3 });
        if (!topics.length) throw new MqttProtocolError('malformed', 'SUBSCRIBE without topics', offset);
        return { type: 'subscribe', packetId, topics };
      }
      case 10: {
        fixedFlags(2);
        const packetId = r.u16();
        if (this.level === 5) r.props();
        const topics: string[] = [];
        while (!r.end()) topics.push(r.str());
        return { type: 'unsubscribe', packetId, topics };
      }
      case 12:
        fixedFlags(0);
        return { type: 'pingreq' };
      case 14:
        return { type: 'disconnect' };
      default:
        throw new MqttProtocolError('protocol', `packet type ${type} is not sent to a server`, offset - 2);
    }
  }
}

class Reader {
  private p = 0;
  constructor(
    private readonly b: Buffer,
    private readonly offset: number,
  ) {}
  private need(n: number) {
    if (this.p + n > this.b.length)
      throw new MqttProtocolError('malformed', 'packet shorter than its fields', this.offset + this.p);
  }
  u8() {
    this.need(1);
    return this.b[this.p++]!;
  }
  u16() {
    this.need(2);
    const v = this.b.readUInt16BE(this.p);
    this.p += 2;
    return v;
  }
  bin() {
    const n = this.u16();
    this.need(n);
    const v = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return v;
  }
  str() {
    const v = this.bin();
    const s = v.toString('utf8');
    // §1.5.4: strings must be well-formed UTF-8 without U+0000.
    if (s.includes('\uFFFD') || s.includes('\u0000'))
      throw new MqttProtocolError('malformed', 'string is not valid UTF-8', this.offset + this.p);
    return s;
  }
  varint() {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 4; i++) {
      const b = this.u8();
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return v;
      mul *= 128;
    }
    throw new MqttProtocolError(
      'malformed',
      'variable byte integer longer than 4 bytes',
      this.offset + this.p,
    );
  }
  /** v5 properties: skipped, but their length must fit. */
  props() {
    const n = this.varint();
    this.need(n);
    this.p += n;
  }
  rest() {
    const v = this.b.subarray(this.p);
    this.p = this.b.length;
    return v;
  }
  end() {
    return this.p >= this.b.length;
  }
}

/** Server → client packets. v5 acks carry a reason code (0 = success) and an empty property list. */
export const mqttWrite = {
  connack(level: number, sessionPresent: boolean, code: number): Buffer {
    return level === 5
      ? Buffer.from([0x20, 3, sessionPresent ? 1 : 0, code, 0])
      : Buffer.from([0x20, 2, sessionPresent ? 1 : 0, code]);
  },
  ack(type: 'puback' | 'pubrec' | 'pubcomp', packetId: number): Buffer {
    const t = { puback: 0x40, pubrec: 0x50, pubcomp: 0x70 }[type];
    return Buffer.from([t, 2, packetId >> 8, packetId & 0xff]);
  },
  suback(packetId: number, codes: number[], level: number): Buffer {
    const props = level === 5 ? [0] : [];
    return Buffer.from([
      0x90,
      2 + props.length + codes.length,
      packetId >> 8,
      packetId & 0xff,
      ...props,
      ...codes,
    ]);
  },
  unsuback(packetId: number, count: number, level: number): Buffer {
    if (level !== 5) return Buffer.from([0xb0, 2, packetId >> 8, packetId & 0xff]);
    return Buffer.from([
      0xb0,
      3 + count,
      packetId >> 8,
      packetId & 0xff,
      0,
      ...new Array<number>(count).fill(0x11),
    ]);
  },
  pingresp: () => Buffer.from([0xd0, 0]),
  /** v5 DISCONNECT with a reason code (0x95 packet too large, 0x81 malformed). */
  disconnect: (code: number) => Buffer.from([0xe0, 2, code, 0]),
};
