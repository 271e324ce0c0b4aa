import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as amqpConnect } from 'amqplib';
import { Redis } from 'ioredis';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTriggersError, openOutputBinding, type OutputBindingEngine } from '../src/index.js';
import { waitFor } from './conformance.js';

const RUN = `sprout_out_${process.pid}`;
const text = (d?: Uint8Array) => new TextDecoder().decode(d);
const bytes = (s: string) => new TextEncoder().encode(s);

async function expectCode(p: Promise<unknown>, code: string, field?: string) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTriggersError(err) ? err.code : err).toBe(code);
  if (field) expect((err as { field: string }).field).toBe(field);
  return err as Error;
}

describe('bindings.http', () => {
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (req.url === '/api/missing') return void res.writeHead(404).end('no such order');
      if (req.url === '/api/big') return void res.end('x'.repeat(4096));
      res.setHeader('x-answer', '42');
      res.end(`${req.method} ${req.url}`);
    });
  });
  let http: OutputBindingEngine;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    http = await openOutputBinding({
      name: 'orders-api',
      type: 'bindings.http',
      metadata: {
        url: `http://127.0.0.1:${port}/api`,
        securityToken: 's3cret',
        securityTokenHeader: 'X-Token',
      },
    });
  });
  afterAll(async () => {
    await http?.close();
    await new Promise((r) => server.close(r));
  });

  it('maps Dapr operations to methods, path onto url, metadata to headers, and answers status and headers', async () => {
    for (const [op, method] of [
      ['create', 'POST'],
      ['post', 'POST'],
      ['put', 'PUT'],
      ['patch', 'PATCH'],
      ['delete', 'DELETE'],
      ['get', 'GET'],
    ] as const) {
      const res = await http.invoke(op, bytes(`{"op":"${op}"}`), { path: '/orders/7', 'X-Trace': op });
      expect(text(res.data)).toBe(`${method} /api/orders/7`);
      expect(res.metadata).toMatchObject({ statusCode: '200', 'x-answer': '42' });
      const last = seen.at(-1)!;
      expect(last.headers['x-trace']).toBe(op);
      expect(last.headers['x-token']).toBe('s3cret');
      expect(last.body).toBe(method === 'GET' ? '' : `{"op":"${op}"}`);
    }
    expect(http.operations).toContain('trace');
  });

  it('a non-2xx answer is an error (errorIfNot2XX) and an oversized body is refused', async () => {
    const err = await expectCode(
      http.invoke('get', new Uint8Array(), { path: 'missing' }),
      'SPROUT_ERR_TRIGGERS_BINDING_FAILED',
    );
    expect(err.message).toContain('404');
    const { port } = server.address() as AddressInfo;
    const lenient = await openOutputBinding({
      name: 'lenient',
      type: 'bindings.http',
      metadata: { url: `http://127.0.0.1:${port}/api`, errorIfNot2XX: 'false', maxResponseBodySize: '1Ki' },
    });
    try {
      const res = await lenient.invoke('get', new Uint8Array(), { path: 'missing' });
      expect(res.metadata?.statusCode).toBe('404');
      expect(text(res.data)).toBe('no such order');
      const big = await expectCode(
        lenient.invoke('get', new Uint8Array(), { path: 'big' }),
        'SPROUT_ERR_TRIGGERS_BINDING_FAILED',
      );
      expect(big.message).toContain('maxResponseBodySize');
    } finally {
      await lenient.close();
    }
  });

  it('refuses an unknown operation, mTLS material and a bad url', async () => {
    await expectCode(
      http.invoke('connect', new Uint8Array()),
      'SPROUT_ERR_TRIGGERS_OPERATION_UNSUPPORTED',
      'operation',
    );
    await expectCode(
      openOutputBinding({
        name: 'x',
        type: 'bindings.http',
        metadata: { url: 'http://h', MTLSRootCA: 'pem' },
      }),
      'SPROUT_ERR_TRIGGERS_METADATA_UNSUPPORTED',
      'metadata.MTLSRootCA',
    );
    await expectCode(
      openOutputBinding({ name: 'x', type: 'bindings.http', metadata: { url: 'ftp://h' } }),
      'SPROUT_ERR_TRIGGERS_METADATA_INVALID',
      'metadata.url',
    );
  });
});

describe('bindings.redis', () => {
  it('create (with ttlInSeconds), get and delete on real Redis', async () => {
    const b = await openOutputBinding({
      name: 'cache',
      type: 'bindings.redis',
      metadata: { redisHost: '127.0.0.1:6379' },
    });
    const admin = new Redis({ host: '127.0.0.1', port: 6379 });
    const key = `${RUN}:k`;
    try {
      await b.invoke('create', bytes('{"total":12}'), { key, ttlInSeconds: '60' });
      expect(await admin.get(key)).toBe('{"total":12}');
      expect(await admin.ttl(key)).toBeGreaterThan(0);
      expect(text((await b.invoke('get', new Uint8Array(), { key })).data)).toBe('{"total":12}');
      await b.invoke('delete', new Uint8Array(), { key });
      expect((await b.invoke('get', new Uint8Array(), { key })).data).toBeUndefined();
      await expectCode(
        b.invoke('get', new Uint8Array(), {}),
        'SPROUT_ERR_TRIGGERS_METADATA_INVALID',
        'metadata.key',
      );
      await expectCode(
        b.invoke('increment', new Uint8Array(), { key }),
        'SPROUT_ERR_TRIGGERS_OPERATION_UNSUPPORTED',
      );
    } finally {
      await admin.del(key);
      admin.disconnect();
      await b.close();
    }
  });
});

describe('bindings.postgresql', () => {
  it('exec and query with params, rows as arrays, rows-affected, libpq and URL connection strings', async () => {
    for (const connectionString of [
      'postgres://postgres@127.0.0.1:5432/test',
      'host=127.0.0.1 port=5432 user=postgres dbname=test',
    ]) {
      const b = await openOutputBinding({
        name: 'db',
        type: 'bindings.postgresql',
        metadata: { connectionString },
      });
      const table = `${RUN}_orders`;
      try {
        await b.invoke('exec', new Uint8Array(), {
          sql: `CREATE TABLE IF NOT EXISTS ${table} (id int primary key, note text)`,
        });
        const ins = await b.invoke('exec', new Uint8Array(), {
          sql: `INSERT INTO ${table} (id, note) VALUES ($1, $2), ($3, $4)`,
          params: JSON.stringify([1, 'first', 2, 'zweite ü']),
        });
        expect(ins.metadata).toMatchObject({ operation: 'exec', 'rows-affected': '2' });
        const q = await b.invoke('query', new Uint8Array(), {
          sql: `SELECT id, note FROM ${table} WHERE id >= $1 ORDER BY id`,
          params: '[1]',
        });
        expect(JSON.parse(text(q.data))).toEqual([
          [1, 'first'],
          [2, 'zweite ü'],
        ]);
        expect(Object.keys(q.metadata ?? {})).toEqual(
          expect.arrayContaining(['start-time', 'end-time', 'duration', 'sql']),
        );
        await expectCode(
          b.invoke('query', new Uint8Array(), { sql: 'SELECT 1', params: '{"a":1}' }),
          'SPROUT_ERR_TRIGGERS_METADATA_INVALID',
          'metadata.params',
        );
        await expectCode(
          b.invoke('query', new Uint8Array(), { sql: 'SELEC nonsense' }),
          'SPROUT_ERR_TRIGGERS_BINDING_FAILED',
        );
        expect(await b.invoke('close', new Uint8Array())).toEqual({});
      } finally {
        await b.invoke('exec', new Uint8Array(), { sql: `DROP TABLE IF EXISTS ${table}` }).catch(() => {});
        await b.close();
      }
    }
  });

  it('refuses cloud IAM and says when the database cannot be reached', async () => {
    await expectCode(
      openOutputBinding({
        name: 'db',
        type: 'bindings.postgresql',
        metadata: { connectionString: 'postgres://x@h/db', useAWSIAM: 'true' },
      }),
      'SPROUT_ERR_TRIGGERS_METADATA_UNSUPPORTED',
    );
    await expectCode(
      openOutputBinding({
        name: 'db',
        type: 'bindings.postgresql',
        metadata: { connectionString: 'postgres://postgres@127.0.0.1:1/test', timeout: '2s' },
      }),
      'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE',
    );
  });
});

describe('bindings.mqtt3', () => {
  it('create publishes to the component topic or the request topic (bindings.mqtt alias)', async () => {
    const topic = `${RUN}/out`;
    const sub = await connectAsync('mqtt://127.0.0.1:1883');
    const got: string[] = [];
    sub.on('message', (t, m) => got.push(`${t}=${m.toString()}`));
    await sub.subscribeAsync(`${RUN}/#`, { qos: 1 });
    const b = await openOutputBinding({
      name: 'mq',
      type: 'bindings.mqtt',
      metadata: { url: 'tcp://127.0.0.1:1883', topic },
    });
    try {
      expect(b.type).toBe('bindings.mqtt3');
      await b.invoke('create', bytes('a'));
      await b.invoke('create', bytes('b'), { topic: `${RUN}/other` });
      await waitFor(() => got.length === 2, 'two messages');
      expect(got.sort()).toEqual([`${RUN}/other=b`, `${topic}=a`]);
    } finally {
      await b.close();
      await sub.endAsync();
    }
  });
});

describe('bindings.rabbitmq', () => {
  it('create sends to queueName, confirmed, with per-message ttl, content type and the publish time', async () => {
    const queue = `${RUN}-queue`;
    const b = await openOutputBinding({
      name: 'rq',
      type: 'bindings.rabbitmq',
      metadata: { host: 'amqp://guest:guest@127.0.0.1:5672', queueName: queue, durable: 'true' },
    });
    const conn = await amqpConnect('amqp://guest:guest@127.0.0.1:5672');
    const ch = await conn.createChannel();
    try {
      const before = Date.now();
      await b.invoke('create', bytes('{"id":1}'), { contentType: 'application/json', ttlInSeconds: '60' });
      const m = await ch.get(queue, { noAck: true });
      expect(m && m.content.toString()).toBe('{"id":1}');
      // Dated for the end-to-end latency: AMQP's timestamp (s) and the ms in timestamp_in_ms.
      expect(m && m.properties.headers?.timestamp_in_ms).toBeGreaterThanOrEqual(before);
      expect(m && m.properties.timestamp).toBe(
        Math.floor((m ? m.properties.headers!.timestamp_in_ms : 0) / 1000),
      );
      expect(m && m.properties.contentType).toBe('application/json');
      expect(m && m.properties.expiration).toBe('60000');
      expect(m && m.properties.deliveryMode).toBe(2);
    } finally {
      await ch.deleteQueue(queue);
      await conn.close();
      await b.close();
    }
  });

  it('a type with no local engine is refused naming those that run', async () => {
    const err = await expectCode(
      openOutputBinding({ name: 'k', type: 'bindings.kafka', metadata: {} }),
      'SPROUT_ERR_TRIGGERS_COMPONENT_UNSUPPORTED',
      'spec.type',
    );
    expect(err.message).toContain('bindings.postgresql');
  });
});
