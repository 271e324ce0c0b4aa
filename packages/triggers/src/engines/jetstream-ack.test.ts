import { describe, expect, it } from 'vitest';
import { seededRng } from '@sprout/http/testing';
// nats.js's own reading of an ack subject, as its JsMsg.info does: the oracle
import { parseInfo } from 'nats/lib/jetstream/jsmsg.js';
import { parseAckReply } from './jetstream-ack.js';

const oracle = (reply: string) => {
  const i = parseInfo(reply);
  return { id: String(i.streamSequence), attempt: i.redeliveryCount, ms: i.timestampNanos / 1e6 };
};

describe('parseAckReply: a JetStream ack subject (ADR-15)', () => {
  it.each([
    // the 9-token form (servers before 2.9, and today's without a domain)
    '$JS.ACK.orders.workers.1.42.7.1733600000123456789.0',
    '$JS.ACK.ORDERS.durable-orders.3.1000000.999.1733600000000000001.17',
    // the 11- and 12-token forms: domain (or `_`), account hash, then the same, then a random token
    '$JS.ACK._.ACCHASH.orders.workers.2.5.5.1733600000987654321.3',
    '$JS.ACK.hub.ACCHASH.orders.workers.1.9007199254740991.1.1733600000000000000.0.Xy7z',
  ])('%s reads as nats.js reads it', (reply) => {
    const got = parseAckReply(reply)!;
    const want = oracle(reply);
    expect(got.id).toBe(want.id);
    expect(got.attempt).toBe(want.attempt);
    expect(got.ms).toBeCloseTo(want.ms, 3);
  });

  it.each([
    '', // a status message has no reply
    '_INBOX.abc.def', // a request's reply, not an ack subject
    '$JS.ACK.orders.workers.1.42.7.1733600000123456789', // a token short
    '$JS.ACK.orders.workers.x.42.7.1733600000123456789.0', // not a number
    '$JS.ACK.orders.workers.0.42.7.1733600000123456789.0', // delivered 0
    '$JS.ACK.orders.workers.1..7.1733600000123456789.0', // no sequence
    '$JS.ACK.orders.workers.1.42.7.123.0', // a timestamp too short to be nanoseconds
  ])('%j is not an ack subject: undefined', (reply) => {
    expect(parseAckReply(reply)).toBeUndefined();
  });

  it('fuzz: valid subjects cut and changed anywhere never throw, and what reads agrees with nats.js', () => {
    const rng = seededRng();
    const alphabet = '$JSACK._.0123456789abcXYZ-';
    const counts = { read: 0, refused: 0 };
    const until = Date.now() + 300;
    for (let i = 0; i < 8 || Date.now() < until; i++) {
      const base =
        i % 2
          ? `$JS.ACK.s${rng.int(0, 99)}.c.${rng.int(1, 9)}.${rng.int(1, 1e9)}.${rng.int(1, 1e6)}.17336${rng.int(1e12, 1e13)}.${rng.int(0, 99)}`
          : `$JS.ACK._.H.s.c.${rng.int(1, 9)}.${rng.int(1, 1e9)}.1.17336${rng.int(1e12, 1e13)}.0.t`;
      let reply = base;
      const edits = rng.int(0, 3);
      for (let e = 0; e < edits; e++) {
        const at = rng.int(0, reply.length + 1);
        reply =
          rng.next() < 0.5
            ? reply.slice(0, at) + rng.pick([...alphabet]) + reply.slice(at)
            : reply.slice(0, at) + reply.slice(at + 1);
      }
      const got = parseAckReply(reply);
      if (!got) {
        counts.refused++;
        continue;
      }
      counts.read++;
      const want = oracle(reply);
      expect(got.id, `seed ${rng.seed}: ${reply}`).toBe(want.id);
      expect(got.attempt, `seed ${rng.seed}: ${reply}`).toBe(want.attempt);
      // within 1 ms, or within a few units in the last place where an edit made the timestamp
      // too large for a double to hold to the millisecond (both are rounded then)
      const tolerance = Math.max(1, Math.abs(want.ms) * 2 ** -48);
      expect(Math.abs(got.ms - want.ms), `seed ${rng.seed}: ${reply}`).toBeLessThan(tolerance);
    }
    expect(counts.read).toBeGreaterThan(0);
    expect(counts.refused).toBeGreaterThan(0);
  });
});
