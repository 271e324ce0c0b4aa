import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fuzzBytes, prng } from './fuzz.js';
import { googleCloudEventToLegacy, googleLegacyToCloudEvent, pubsubPushToLegacy } from './google-events.js';

const ctx = { eventId: 'e1', timestamp: '2020-09-29T11:32:00.123Z' };

/** The rows of the README's "Google event types" table: CloudEvent type, legacy types, example, source/subject. */
function readmeRows(): {
  ceType: string;
  legacy: string[];
  aliases: string[];
  resource: string;
  source: string;
  subject?: string;
}[] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Google event types'));
  const table = section.slice(section.indexOf('\n|'), section.indexOf('\n\n', section.indexOf('\n|')));
  const code = (cell: string) =>
    [...cell.matchAll(/(_?)`([^`]+)`_?/g)].map((m) => ({ text: m[2]!, alias: m[1] === '_' }));
  return table
    .trim()
    .split('\n')
    .slice(2)
    .map((line) => {
      const [ce, legacy, resource, sourceSubject] = line.split('|').slice(1, 5).map(code);
      const types = legacy!;
      return {
        ceType: ce![0]!.text,
        legacy: types.filter((t) => !t.alias).map((t) => t.text),
        aliases: types.filter((t) => t.alias).map((t) => t.text),
        resource: resource![0]!.text,
        source: sourceSubject![0]!.text,
        ...(sourceSubject![1] ? { subject: sourceSubject![1].text } : {}),
      };
    });
}

describe('Google event conversion', () => {
  it('converts every row of the README table both ways, as the row says', () => {
    const rows = readmeRows();
    expect(rows.length).toBeGreaterThanOrEqual(17);
    for (const row of rows) {
      expect(row.legacy, row.ceType).toHaveLength(1);
      const data = { uid: 'u1', kind: 'storage#object', metadata: { createdAt: 'c' } };
      for (const eventType of [...row.legacy, ...row.aliases]) {
        const ce = googleLegacyToCloudEvent(
          { data, context: { ...ctx, eventType, resource: row.resource } },
          { domain: 'firebaseio.com' },
        );
        expect(ce, eventType).toMatchObject({
          type: row.ceType,
          source: row.source,
          id: 'e1',
          time: ctx.timestamp,
        });
        expect(ce!.subject, eventType).toBe(row.subject?.replace('<data.uid>', 'u1'));
        const back = googleCloudEventToLegacy(ce!);
        expect(back?.context.eventType, row.ceType).toBe(row.legacy[0]);
        const r = back!.context.resource;
        expect(typeof r === 'string' ? r : (r as { name: string }).name, row.ceType).toBe(row.resource);
      }
    }
  });

  it('maps Firebase Remote Config both ways (resource is the whole source path, no subject)', () => {
    const legacy = {
      data: { versionNumber: '2' },
      context: { ...ctx, eventType: 'google.firebase.remoteconfig.update', resource: 'projects/p' },
    };
    const ce = googleLegacyToCloudEvent(legacy);
    expect(ce).toMatchObject({
      type: 'google.firebase.remoteconfig.remoteConfig.v1.updated',
      source: '//firebaseremoteconfig.googleapis.com/projects/p',
      data: { versionNumber: '2' },
    });
    expect(ce?.subject).toBeUndefined();
    expect(googleCloudEventToLegacy(ce!)).toEqual(legacy);
  });

  it('maps the legacy storage and pubsub type names to the new ones', () => {
    const storage = googleLegacyToCloudEvent({
      data: { kind: 'storage#object' },
      context: {
        ...ctx,
        eventType: 'providers/cloud.storage/eventTypes/object.change',
        resource: 'projects/_/buckets/b/objects/o.txt',
      },
    });
    expect(storage).toMatchObject({
      type: 'google.cloud.storage.object.v1.finalized',
      source: '//storage.googleapis.com/projects/_/buckets/b',
      subject: 'objects/o.txt',
    });
  });

  it('renames Firebase Auth metadata and takes the subject from the uid', () => {
    const ce = googleLegacyToCloudEvent({
      data: { uid: 'u1', metadata: { createdAt: 'c', lastSignedInAt: 'l' } },
      context: {
        ...ctx,
        eventType: 'providers/firebase.auth/eventTypes/user.create',
        resource: 'projects/p',
      },
    });
    expect(ce).toMatchObject({
      subject: 'users/u1',
      data: { metadata: { createTime: 'c', lastSignInTime: 'l' } },
    });
    expect(googleCloudEventToLegacy(ce!)?.data).toEqual({
      uid: 'u1',
      metadata: { createdAt: 'c', lastSignedInAt: 'l' },
    });
  });

  it('leaves a Realtime Database event with an unknown domain, or an unmatched resource, unconverted', () => {
    const db = {
      data: {},
      context: {
        ...ctx,
        eventType: 'providers/google.firebase.database/eventTypes/ref.write',
        resource: 'projects/_/instances/i/refs/a',
      },
    };
    expect(googleLegacyToCloudEvent(db, { domain: 'example.com' })).toBeUndefined();
    expect(googleLegacyToCloudEvent(db, { domain: 'firebaseio.com' })?.source).toBe(
      '//firebasedatabase.googleapis.com/projects/_/locations/us-central1/instances/i',
    );
    expect(googleLegacyToCloudEvent({ ...db, context: { ...db.context, resource: 'nope' } })).toBeUndefined();
  });

  it('reads a Pub/Sub push-subscription body, the topic from the path', () => {
    const body = {
      subscription: 'projects/p/subscriptions/s',
      message: { data: 'aGk=', messageId: 'm1', publishTime: '2020-01-01T00:00:00Z', attributes: { a: 'b' } },
    };
    expect(pubsubPushToLegacy(body, '/projects/p/topics/t?x=1')).toEqual({
      context: {
        eventId: 'm1',
        timestamp: '2020-01-01T00:00:00Z',
        eventType: 'google.pubsub.topic.publish',
        resource: {
          service: 'pubsub.googleapis.com',
          type: 'type.googleapis.com/google.pubsub.v1.PubsubMessage',
          name: 'projects/p/topics/t',
        },
      },
      data: {
        '@type': 'type.googleapis.com/google.pubsub.v1.PubsubMessage',
        data: 'aGk=',
        attributes: { a: 'b' },
      },
    });
    expect(pubsubPushToLegacy(body, '/')?.context.resource).toMatchObject({ name: null });
    expect(pubsubPushToLegacy({ ...body, context: {} }, '/')).toBeUndefined();
    expect(pubsubPushToLegacy({ subscription: 's', message: { data: 'x' } }, '/')).toBeUndefined();
  });

  it('fuzz: random legacy bodies and CloudEvents convert or are left alone, never throw', () => {
    const seed = Date.now() & 0xffff;
    const rnd = prng(seed);
    const types = ['google.pubsub.topic.publish', 'providers/firebase.auth/eventTypes/user.create', 'x'];
    const ceTypes = ['google.cloud.storage.object.v1.finalized', 'google.firebase.database.ref.v1.written'];
    const until = Date.now() + 300;
    let n = 0;
    while (Date.now() < until || n < 200) {
      n++;
      const junk = fuzzBytes(rnd).toString('latin1').slice(0, 40);
      const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const data = pick<unknown>([null, junk, { metadata: junk, uid: junk }, { message: junk }, [1], 3]);
      const resource = pick<unknown>([junk, { name: junk }, { service: junk }, undefined, 7]);
      const legacy = { data, context: { ...ctx, eventType: pick(types), resource } };
      const ce = {
        specversion: '1.0',
        id: 'e',
        source: pick([junk, `//${junk}/${junk}`]),
        type: pick(ceTypes),
        data,
      };
      try {
        const out = googleLegacyToCloudEvent(legacy, { domain: junk });
        if (out) expect(out.source.startsWith('//')).toBe(true);
        const back = googleCloudEventToLegacy(ce);
        if (back) expect(typeof back.context.eventType).toBe('string');
      } catch (err) {
        throw new Error(`seed ${seed}, case ${n}: ${String(err)}`);
      }
    }
  });
});
