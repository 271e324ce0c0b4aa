import { describe, expect, it } from 'vitest';
import {
  cloudEventToLegacy,
  legacyToCloudEvent,
  readCloudEvent,
  readLegacyEvent,
  writeCloudEventHeaders,
} from './cloudevents.js';
import { HttpError } from './errors.js';
import { fuzzBytes, prng } from './fuzz.js';

describe('CloudEvents', () => {
  it('reads binary mode: ce-* headers are attributes and extensions, the body is data', () => {
    const e = readCloudEvent(
      {
        'ce-specversion': '1.0',
        'ce-id': 'a',
        'ce-source': '/s',
        'ce-type': 't',
        'ce-traceparent': 'tp',
        'ce-subject': 'caf%C3%A9',
        'content-type': 'application/json',
      },
      { x: 1 },
    );
    expect(e).toEqual({
      specversion: '1.0',
      id: 'a',
      source: '/s',
      type: 't',
      traceparent: 'tp',
      subject: 'café',
      datacontenttype: 'application/json',
      data: { x: 1 },
    });
  });

  it('reads structured mode and decodes data_base64', () => {
    const e = readCloudEvent(
      { 'content-type': 'application/cloudevents+json' },
      {
        specversion: '1.0',
        id: 'b',
        source: '/s',
        type: 't',
        data_base64: Buffer.from('hi').toString('base64'),
      },
    );
    expect(Buffer.isBuffer(e.data) && e.data.toString()).toBe('hi');
  });

  it.each([
    [{ 'ce-specversion': '1.0', 'ce-source': '/s', 'ce-type': 't' }, undefined, /"id"/],
    [{ 'ce-specversion': '2.0', 'ce-id': 'a', 'ce-source': '/s', 'ce-type': 't' }, undefined, /specversion/],
    [{ 'content-type': 'application/cloudevents+json' }, 'not an object', /JSON object/],
    [{ 'content-type': 'application/cloudevents-batch+json' }, [], /batched/],
    [{ 'content-type': 'application/json' }, {}, /not a CloudEvent/],
  ])('refuses %j with a 400 naming the problem', (headers, body, message) => {
    expect(() => readCloudEvent(headers as Record<string, string>, body)).toThrowError(message);
  });

  it('round-trips binary headers', () => {
    const event = {
      specversion: '1.0',
      id: 'r',
      source: '/x',
      type: 'y',
      datacontenttype: 'application/json',
      data: { z: 1 },
    };
    const { headers, body } = writeCloudEventHeaders(event);
    expect(readCloudEvent(headers, body)).toEqual(event);
  });

  it('converts a Google legacy event as Google does, both directions', () => {
    const legacy = readLegacyEvent({
      eventId: 'e',
      timestamp: '2026-01-01T00:00:00Z',
      eventType: 'google.pubsub.topic.publish',
      resource: 'projects/p/topics/t',
      data: { d: 1 },
    });
    const ce = legacyToCloudEvent(legacy);
    expect(ce).toMatchObject({
      id: 'e',
      type: 'google.cloud.pubsub.topic.v1.messagePublished',
      source: '//pubsub.googleapis.com/projects/p/topics/t',
      data: { message: { d: 1, messageId: 'e', publishTime: '2026-01-01T00:00:00Z' } },
    });
    expect(cloudEventToLegacy(ce)).toEqual({
      data: { d: 1 },
      context: {
        eventId: 'e',
        timestamp: '2026-01-01T00:00:00Z',
        eventType: 'google.pubsub.topic.publish',
        resource: {
          service: 'pubsub.googleapis.com',
          name: 'projects/p/topics/t',
          type: 'type.googleapis.com/google.pubsub.v1.PubsubMessage',
        },
      },
    });
  });

  it('converts any other legacy event field by field, both directions', () => {
    const legacy = readLegacyEvent({
      eventId: 'e',
      timestamp: '2026-01-01T00:00:00Z',
      eventType: 'com.example.thing',
      resource: 'things/1',
      data: { d: 1 },
    });
    const ce = legacyToCloudEvent(legacy);
    expect(ce).toMatchObject({ id: 'e', type: 'com.example.thing', source: 'things/1', data: { d: 1 } });
    expect(cloudEventToLegacy(ce).context).toMatchObject({
      eventId: 'e',
      eventType: 'com.example.thing',
      resource: 'things/1',
    });
  });

  it('reads fields whose value is an object with a non-function toString as JSON text, never throwing', () => {
    const legacy = readLegacyEvent({
      eventId: { toString: 1 },
      eventType: { valueOf: {} },
      resource: { service: { toString: 'x' }, name: 'n' },
      data: {},
    });
    expect(legacy.context).toMatchObject({ eventId: '{"toString":1}', eventType: '{"valueOf":{}}' });
    expect(legacyToCloudEvent(legacy).source).toBe('{"toString":"x"}/n');
    const ce = { specversion: '1.0', id: 'i', source: '/s', type: 't', subject: { toString: 2 }, time: 5 };
    expect(cloudEventToLegacy(ce).context).toMatchObject({ resource: '/s/{"toString":2}', timestamp: '5' });
  });

  it('reads binary mode when the content type is application/cloudevents+json', () => {
    const e = readCloudEvent(
      {
        'ce-specversion': '1.0',
        'ce-id': 'a',
        'ce-source': '/s',
        'ce-type': 't',
        'content-type': 'application/cloudevents+json',
      },
      { x: 1 },
    );
    expect(e).toMatchObject({ id: 'a', data: { x: 1 }, datacontenttype: 'application/cloudevents+json' });
  });

  it('carries the traceparent header into the event unless it has its own', () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const headers = { 'ce-specversion': '1.0', 'ce-id': 'a', 'ce-source': '/s', 'ce-type': 't' };
    expect(readCloudEvent({ ...headers, traceparent: tp }, {}).traceparent).toBe(tp);
    expect(readCloudEvent({ ...headers, traceparent: tp, 'ce-traceparent': 'own' }, {}).traceparent).toBe(
      'own',
    );
    const structured = { specversion: '1.0', id: 'a', source: '/s', type: 't' };
    expect(
      readCloudEvent({ 'content-type': 'application/cloudevents+json', traceparent: tp }, structured)
        .traceparent,
    ).toBe(tp);
  });

  it('fuzz: structured bodies either read or raise a coded 400', () => {
    const seed = Date.now() & 0xffff;
    const rnd = prng(seed);
    const base = Buffer.from(
      JSON.stringify({ specversion: '1.0', id: '1', source: '/s', type: 't', data: { a: [1] } }),
    );
    for (let i = 0; i < 3000; i++) {
      let body: unknown;
      try {
        body = JSON.parse(fuzzBytes(rnd, base).toString());
      } catch {
        continue;
      }
      try {
        readCloudEvent({ 'content-type': 'application/cloudevents+json' }, body);
      } catch (err) {
        expect(err, `seed ${seed}`).toBeInstanceOf(HttpError);
      }
    }
  });
});
