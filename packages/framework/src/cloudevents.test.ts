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

  it('converts between legacy events and CloudEvents', () => {
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
      type: 'google.pubsub.topic.publish',
      source: 'projects/p/topics/t',
      data: { d: 1 },
    });
    expect(cloudEventToLegacy(ce).context).toMatchObject({
      eventId: 'e',
      eventType: 'google.pubsub.topic.publish',
      resource: 'projects/p/topics/t',
    });
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
