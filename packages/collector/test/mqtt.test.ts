import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, startCapture, waitFor } from './helpers.js';

// Real peers: mosquitto_pub (Debian mosquitto-clients) and MQTT.js.
describe('mqtt input with mosquitto_pub and MQTT.js', () => {
  let h: Awaited<ReturnType<typeof startCapture>>;
  beforeAll(async () => {
    h = await startCapture(`
service: { flush: 0.05 }
pipeline:
  inputs:
    - { name: mqtt, listen: 127.0.0.1, port: 0, tag: mq, buffer_size: 64K }
    - { name: mqtt, listen: 127.0.0.1, port: 0, tag: mq.raw, payload_key: data }
  outputs:
    - { name: stdout, match: 'mq*' }
`);
  });
  afterAll(() => h.c.close());
  /** mosquitto_pub at QoS 1 (MQTT 3.1.1). */
  const pub = (port: number, topic: string, message: string) =>
    run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-t', topic, '-m', message]);
  const of = (tag: string) => (h.got.get('stdout.0') ?? []).filter((r) => r.tag === tag).map((r) => r.body);

  it.each([
    [0, '3.1.1', 'mqttv311'],
    [1, '3.1.1', 'mqttv311'],
    [2, '3.1.1', 'mqttv311'],
    [1, '5', 'mqttv5'],
    [2, '5', 'mqttv5'],
    [1, '3.1', 'mqttv31'],
  ])('mosquitto_pub QoS %d, MQTT %s', async (qos, _v, version) => {
    const topic = `sensors/${version}/q${qos}`;
    await run('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(h.port(0)),
      '-V',
      version,
      '-q',
      String(qos),
      '-t',
      topic,
      '-m',
      `{"qos":${qos},"v":"${version}"}`,
    ]);
    await waitFor(() => of('mq').some((b) => b.topic === topic));
    expect(of('mq').filter((b) => b.topic === topic)).toEqual([{ topic, qos, v: version }]);
  });

  it('MQTT.js publishes at QoS 0/1/2 and gets each ack; pings; a subscription is refused', async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${h.port(0)}`, {
      clientId: 'collector-test-js',
      keepalive: 1,
      reconnectPeriod: 0,
    });
    await client.publishAsync('js/q0', JSON.stringify({ n: 0 }), { qos: 0 });
    // MQTT.js settles a QoS 1 publish on PUBACK and a QoS 2 publish on PUBCOMP.
    const acks: string[] = [];
    client.on('packetreceive', (p) => acks.push(p.cmd));
    await client.publishAsync('js/q1', JSON.stringify({ n: 1 }), { qos: 1 });
    await client.publishAsync('js/q2', JSON.stringify({ n: 2 }), { qos: 2 });
    expect(acks.slice(0, 3)).toEqual(['puback', 'pubrec', 'pubcomp']);
    // keepalive 1s: the client pings; the connection must survive it.
    await new Promise((r) => setTimeout(r, 1600));
    expect(client.connected).toBe(true);
    expect(acks).toContain('pingresp');
    // MQTT.js turns a SUBACK failure code (0x80) into an error.
    await expect(client.subscribeAsync('any/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await client.endAsync();
    await waitFor(() => of('mq').filter((b) => String(b.topic).startsWith('js/')).length === 3);
    expect(of('mq').filter((b) => String(b.topic).startsWith('js/'))).toEqual([
      { topic: 'js/q0', n: 0 },
      { topic: 'js/q1', n: 1 },
      { topic: 'js/q2', n: 2 },
    ]);
  });

  it('payload_key keeps the payload as text; non-JSON payloads are kept, not dropped', async () => {
    await pub(h.port(1), 'raw/1', '{"a":1}');
    await pub(h.port(0), 'plain/1', 'just text');
    await waitFor(() => of('mq.raw').length === 1 && of('mq').some((b) => b.topic === 'plain/1'));
    expect(of('mq.raw')).toEqual([{ topic: 'raw/1', data: '{"a":1}' }]);
    expect(of('mq').find((b) => b.topic === 'plain/1')).toEqual({ topic: 'plain/1', payload: 'just text' });
  });

  it('a payload over buffer_size is refused loudly: v5 gets DISCONNECT 0x95, the rejection is counted', async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${h.port(0)}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    const disconnected = new Promise<number | undefined>((r) =>
      client.once('disconnect', (p) => r(p.reasonCode)),
    );
    client.publish('big/1', Buffer.alloc(100 * 1024, 0x61), { qos: 1 });
    expect(await disconnected).toBe(0x95);
    await client.endAsync(true);
    await waitFor(async () =>
      /collector_input_rejected_total\{input="mqtt.0",reason="too_large"\} 1/.test(
        await h.c.metrics.metrics(),
      ),
    );
    // 64K minus headers still passes: the limit is the configured one, not a hidden 1-2 KB.
    await pub(h.port(0), 'big/ok', JSON.stringify({ s: 'x'.repeat(60_000) }));
    await waitFor(() => of('mq').some((b) => b.topic === 'big/ok'));
  });
});
