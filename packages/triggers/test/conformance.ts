// The one conformance suite every pub/sub engine runs against its real broker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery, PubSubEngine, SubscribeOptions, Subscription } from '../src/index.js';

/**
 * The broker's redelivery timer for what stays unsettled (JetStream's ackWait, Redis'
 * processingTimeout). 'short' (~1 s) is for the tests that wait for such a redelivery; 'long' (past
 * any test) is for the tests that hold messages unsettled while they look: a loaded machine can hold
 * them past a second, and the broker's rightful redelivery would then be counted as a second delivery.
 */
type RedeliveryTimer = 'short' | 'long';

export interface EngineFactory {
  /** Opens an engine on the real broker with that redelivery timer; brokers with none ignore it. */
  open(timer: RedeliveryTimer): Promise<PubSubEngine>;
  /** Whether the broker counts deliveries, so a redelivery reports attempt > 1. */
  countsAttempts: boolean;
  /** Whether nack() makes the broker deliver again (MQTT has no nack). */
  redeliversOnNack: boolean;
  /** Whether unsettled messages of a closed subscriber come back to the next one. */
  redeliversAfterClose: boolean;
  /** False where the broker shows no queue (MQTT): lag is then what the subscriber holds. */
  lagCountsWaiting?: boolean;
  /** Drops every connection the engine holds from the broker's side (CLIENT KILL, ...). */
  dropConnections?(engine: PubSubEngine): Promise<void>;
  /** Removes what the suite left on the broker (streams, queues, consumers). */
  cleanup?(topics: string[]): Promise<void>;
}

const text = (d: Delivery) => new TextDecoder().decode(d.data);
const bytes = (s: string) => new TextEncoder().encode(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 15_000,
): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** A subscriber that records what it gets and leaves settling to the test, or acks on arrival. */
class Recorder {
  readonly got: Delivery[] = [];
  sub!: Subscription;
  readonly errors: Error[] = [];
  constructor(private readonly ackOnArrival = false) {}
  options(topic: string, group: string, maxInFlight: number): SubscribeOptions {
    return {
      topic,
      group,
      maxInFlight,
      onMessage: (d) => {
        this.got.push(d);
        if (this.ackOnArrival) void d.ack();
      },
      onError: (e) => this.errors.push(e),
    };
  }
  texts(): string[] {
    return this.got.map(text);
  }
}

export function describePubSubConformance(name: string, factory: EngineFactory): void {
  describe(`pub/sub conformance: ${name}`, () => {
    const run = `sprout-conf-${name.replace(/\W/g, '')}-${process.pid}-${Date.now().toString(36)}`;
    const topics: string[] = [];
    const topic = (t: string) => {
      const full = `${run}-${t}`;
      topics.push(full);
      return full;
    };
    /** Redelivers what stays unsettled after ~1 s: for the tests that wait for that. */
    let engine: PubSubEngine;
    /** Redelivers nothing by its timer while a test runs: for the tests that hold messages. */
    let holding: PubSubEngine;
    const opened: PubSubEngine[] = [];
    const subs: Subscription[] = [];
    async function subscribe(e: PubSubEngine, r: Recorder, t: string, group: string, max = 10) {
      r.sub = await e.subscribe(r.options(t, group, max));
      subs.push(r.sub);
      return r;
    }

    beforeAll(async () => {
      engine = await factory.open('short');
      holding = await factory.open('long');
      opened.push(engine, holding);
    });
    afterAll(async () => {
      for (const s of subs) await s.close().catch(() => {});
      for (const e of opened) await e.close().catch(() => {});
      await factory.cleanup?.(topics);
    });

    it('delivers what was published, bytes and metadata intact, attempt 1', async () => {
      const t = topic('deliver');
      const r = await subscribe(holding, new Recorder(), t, 'g');
      const payload = new Uint8Array([0, 1, 2, 255, 0x7b, 0x22]);
      await engine.publish(t, payload, { 'content-type': 'application/octet-stream' });
      await waitFor(() => r.got.length === 1, 'the delivery');
      const d = r.got[0]!;
      expect([...d.data]).toEqual([...payload]);
      expect(d.topic).toBe(t);
      expect(d.attempt).toBe(1);
      expect(d.id).not.toBe('');
      await d.ack();
    });

    it('an acked message is gone: not redelivered, not in the lag', async () => {
      const t = topic('ack');
      // Acked on arrival: the short timer, started at the delivery, cannot run out before the ack.
      const r = await subscribe(engine, new Recorder(true), t, 'g');
      await engine.publish(t, bytes('one'));
      await waitFor(() => r.got.length === 1, 'the delivery');
      await waitFor(async () => (await r.sub.lag()) === 0, 'lag 0 after ack');
      await r.sub.close();
      const again = await subscribe(engine, new Recorder(true), t, 'g');
      await engine.publish(t, bytes('two'));
      await waitFor(() => again.got.length >= 1, 'the second message');
      await sleep(1500); // longer than the short redelivery timer
      expect(again.texts()).toEqual(['two']);
    });

    it('a nacked message is delivered again, with a higher attempt where the broker counts', async () => {
      if (!factory.redeliversOnNack) return void expect(factory.redeliversAfterClose).toBe(true);
      const t = topic('nack');
      // The long timer: the redeliveries can only be the nacks' doing.
      const r = await subscribe(holding, new Recorder(), t, 'g');
      await engine.publish(t, bytes('retry me'));
      await waitFor(() => r.got.length === 1, 'the first delivery');
      await r.got[0]!.nack();
      await waitFor(() => r.got.length === 2, 'the redelivery');
      expect(r.texts()).toEqual(['retry me', 'retry me']);
      if (factory.countsAttempts) expect(r.got[1]!.attempt).toBe(2);
      await r.got[1]!.nack(200);
      await waitFor(() => r.got.length === 3, 'the delayed redelivery');
      if (factory.countsAttempts) expect(r.got[2]!.attempt).toBe(3);
      await r.got[2]!.ack();
    });

    it('never hands out more than maxInFlight unsettled, and resumes as they are settled', async () => {
      const t = topic('inflight');
      const r = await subscribe(holding, new Recorder(), t, 'g', 3);
      for (let i = 0; i < 10; i++) await engine.publish(t, bytes(`m${i}`));
      await waitFor(() => r.got.length === 3, 'three deliveries');
      await sleep(500);
      expect(r.got.length).toBe(3);
      expect(await r.sub.lag()).toBe(factory.lagCountsWaiting === false ? 3 : 10);
      await r.got[0]!.ack();
      await waitFor(() => r.got.length === 4, 'a fourth after one ack');
      await sleep(300);
      expect(r.got.length).toBe(4);
      for (let i = 1; i < 10; i++) {
        await waitFor(() => r.got.length > i, `delivery ${i + 1}`);
        await r.got[i]!.ack();
      }
      expect(new Set(r.texts()).size).toBe(10);
      await waitFor(async () => (await r.sub.lag()) === 0, 'lag 0 when all are acked');
    });

    it('reports lag: waiting and unsettled messages of the group', async () => {
      const t = topic('lag');
      const r = await subscribe(holding, new Recorder(), t, 'g', 1);
      for (let i = 0; i < 5; i++) await engine.publish(t, bytes(`l${i}`));
      await waitFor(() => r.got.length === 1, 'the first delivery');
      const waiting = factory.lagCountsWaiting !== false;
      await waitFor(async () => (await r.sub.lag()) === (waiting ? 5 : 1), 'lag 5 (1 held)');
      await r.got[0]!.ack();
      await waitFor(() => r.got.length === 2, 'the second delivery');
      await waitFor(async () => (await r.sub.lag()) === (waiting ? 4 : 1), 'lag 4 after one ack (1 held)');
      for (let i = 1; i < 5; i++) {
        await waitFor(() => r.got.length > i, `delivery ${i + 1}`);
        await r.got[i]!.ack();
      }
    });

    it('close leaves unsettled messages for redelivery to the next subscriber of the group', async () => {
      if (!factory.redeliversAfterClose) return;
      const t = topic('close');
      const first = await subscribe(engine, new Recorder(), t, 'g', 5);
      await engine.publish(t, bytes('held'));
      await waitFor(() => first.got.length === 1, 'the delivery');
      await first.sub.close();
      await first.got[0]!.ack(); // too late: settling after close must not lose or settle it
      const second = await subscribe(engine, new Recorder(), t, 'g', 5);
      await waitFor(() => second.got.length === 1, 'the redelivery after close');
      expect(second.texts()).toEqual(['held']);
      if (factory.countsAttempts) expect(second.got[0]!.attempt).toBeGreaterThan(1);
      await second.got[0]!.ack();
    });

    it('two subscribers of one group share the messages; another group gets its own copy', async () => {
      const t = topic('group');
      const a = await subscribe(holding, new Recorder(), t, 'shared', 50);
      const other = await factory.open('long');
      opened.push(other);
      const b = await subscribe(other, new Recorder(), t, 'shared', 50);
      const c = await subscribe(holding, new Recorder(), t, 'audit', 50);
      const n = 40;
      for (let i = 0; i < n; i++) await holding.publish(t, bytes(`s${i}`));
      await waitFor(() => a.got.length + b.got.length === n && c.got.length === n, 'all deliveries');
      for (const d of [...a.got, ...b.got, ...c.got]) await d.ack();
      await sleep(500);
      const shared = [...a.texts(), ...b.texts()];
      expect(shared.length).toBe(n);
      expect(new Set(shared).size).toBe(n);
      expect(new Set(c.texts()).size).toBe(n);
    });

    it('reconnects after the broker drops its connections and loses nothing', async () => {
      if (!factory.dropConnections) return;
      const t = topic('reconnect');
      const e = await factory.open('short'); // what was acked on the dropped connection comes back
      opened.push(e);
      const r = await subscribe(e, new Recorder(), t, 'g', 20);
      r.got.length = 0;
      const acked = new Set<string>();
      const settle = async () => {
        for (const d of r.got.splice(0)) {
          acked.add(text(d));
          await d.ack().catch(() => {});
        }
      };
      for (let i = 0; i < 5; i++) await e.publish(t, bytes(`before${i}`));
      await waitFor(async () => (await settle(), acked.size === 5), 'the first five');
      await factory.dropConnections(e);
      for (let i = 0; i < 5; i++) {
        // The engine may still be reconnecting: a refused publish is retried, as a caller would.
        await waitFor(
          () =>
            e.publish(t, bytes(`after${i}`)).then(
              () => true,
              () => false,
            ),
          `publish after${i}`,
        );
      }
      await waitFor(async () => (await settle(), acked.size === 10), 'the five after the drop', 30_000);
      expect([...acked].sort()).toEqual([...Array(5)].flatMap((_, i) => [`after${i}`, `before${i}`]).sort());
    });
  });
}
