// A real node:http app for delivery tests: it answers GET /dapr/subscribe like a Dapr app and hands
// every other request to a handler the test sets, recording what came in.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listen } from '@sprout/http/testing';
import type { Delivery, PubSubEngine, Subscription } from '../src/index.js';

export interface Received {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  /** The body as JSON (undefined when it is not JSON). */
  readonly json: any;
}

/** What the app does with a request (its return value, if any, is awaited and ignored). */
export type Answer = (req: Received, res: ServerResponse) => unknown;

export class DeliveryApp {
  readonly received: Received[] = [];
  /** Requests being handled right now, and the most at once. */
  active = 0;
  maxActive = 0;
  subscriptions: unknown[] = [];
  answer: Answer = (_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"SUCCESS"}');
  private readonly server: Server;
  private port = 0;

  constructor() {
    this.server = createServer((req, res) => void this.onRequest(req, res));
  }

  static async start(): Promise<DeliveryApp> {
    return new DeliveryApp().listen();
  }

  /** Listens on a free loopback port. */
  async listen(): Promise<this> {
    this.port = await listen(this.server);
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Holds every request until the returned function is called, then answers 200. */
  hold(): () => void {
    const held = gate();
    this.answer = async (_r, res) => {
      await held.promise;
      res.writeHead(200).end();
    };
    return held.open;
  }

  /** A delivery target that is always ready. */
  target() {
    return { url: async () => this.url };
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method === 'GET' && req.url === '/dapr/subscribe') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.subscriptions));
      return;
    }
    const body = Buffer.concat(chunks);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      json = undefined;
    }
    const r: Received = { path: req.url ?? '', headers: req.headers, body, json };
    this.received.push(r);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      await this.answer(r, res);
    } finally {
      this.active--;
    }
  }
}

/** Resolves when `check()` is true, polling; rejects with `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A promise with its resolve function, for an answer the test releases. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** Subscribes to `topic` and acks and keeps what arrives (a dead-letter reader). */
export async function collect(
  engine: PubSubEngine,
  topic: string,
  group = 'dlq-reader',
): Promise<{ got: Delivery[]; sub: Subscription }> {
  const got: Delivery[] = [];
  const sub = await engine.subscribe({
    topic,
    group,
    maxInFlight: 100,
    onMessage: (d) => {
      got.push(d);
      void d.ack();
    },
    onError: () => {},
  });
  return { got, sub };
}
