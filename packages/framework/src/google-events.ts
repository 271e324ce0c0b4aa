import type { CloudEvent, LegacyEventContext } from './cloudevents.js';

/**
 * Google event sources as Google's functions frameworks map them between the legacy background
 * event shape (`{context: {eventId, timestamp, eventType, resource}, data}`) and CloudEvents.
 * The conformance data under test/fixtures/conformance/ pins every mapping here.
 */
const GOOGLE_SERVICE = {
  firebaseAuth: 'firebaseauth.googleapis.com',
  firebaseDb: 'firebasedatabase.googleapis.com',
  firebase: 'firebase.googleapis.com',
  firebaseRemoteConfig: 'firebaseremoteconfig.googleapis.com',
  firestore: 'firestore.googleapis.com',
  pubsub: 'pubsub.googleapis.com',
  storage: 'storage.googleapis.com',
} as const;

/** CloudEvent type → the legacy type a background function receives. */
const CE_TO_LEGACY: Record<string, string> = {
  'google.cloud.pubsub.topic.v1.messagePublished': 'google.pubsub.topic.publish',
  'google.cloud.storage.object.v1.finalized': 'google.storage.object.finalize',
  'google.cloud.storage.object.v1.deleted': 'google.storage.object.delete',
  'google.cloud.storage.object.v1.archived': 'google.storage.object.archive',
  'google.cloud.storage.object.v1.metadataUpdated': 'google.storage.object.metadataUpdate',
  'google.cloud.firestore.document.v1.written': 'providers/cloud.firestore/eventTypes/document.write',
  'google.cloud.firestore.document.v1.created': 'providers/cloud.firestore/eventTypes/document.create',
  'google.cloud.firestore.document.v1.updated': 'providers/cloud.firestore/eventTypes/document.update',
  'google.cloud.firestore.document.v1.deleted': 'providers/cloud.firestore/eventTypes/document.delete',
  'google.firebase.auth.user.v1.created': 'providers/firebase.auth/eventTypes/user.create',
  'google.firebase.auth.user.v1.deleted': 'providers/firebase.auth/eventTypes/user.delete',
  'google.firebase.analytics.log.v1.written': 'providers/google.firebase.analytics/eventTypes/event.log',
  'google.firebase.database.ref.v1.created': 'providers/google.firebase.database/eventTypes/ref.create',
  'google.firebase.database.ref.v1.written': 'providers/google.firebase.database/eventTypes/ref.write',
  'google.firebase.database.ref.v1.updated': 'providers/google.firebase.database/eventTypes/ref.update',
  'google.firebase.database.ref.v1.deleted': 'providers/google.firebase.database/eventTypes/ref.delete',
  'google.firebase.remoteconfig.remoteConfig.v1.updated': 'google.firebase.remoteconfig.update',
};

/** Legacy type → CloudEvent type: the reverse table plus the older `providers/...` names. */
const LEGACY_TO_CE: Record<string, string> = {
  'providers/cloud.storage/eventTypes/object.change': 'google.cloud.storage.object.v1.finalized',
  'providers/cloud.pubsub/eventTypes/topic.publish': 'google.cloud.pubsub.topic.v1.messagePublished',
  ...Object.fromEntries(Object.entries(CE_TO_LEGACY).map(([ce, legacy]) => [legacy, ce])),
};

/** Legacy type prefix → the CloudEvent service, when the resource does not name one. */
const LEGACY_PREFIX_SERVICE: [string, string][] = [
  ['providers/cloud.firestore/', GOOGLE_SERVICE.firestore],
  ['providers/google.firebase.analytics/', GOOGLE_SERVICE.firebase],
  ['providers/firebase.auth/', GOOGLE_SERVICE.firebaseAuth],
  ['providers/google.firebase.database/', GOOGLE_SERVICE.firebaseDb],
  ['providers/cloud.pubsub/', GOOGLE_SERVICE.pubsub],
  ['providers/cloud.storage/', GOOGLE_SERVICE.storage],
  ['google.pubsub', GOOGLE_SERVICE.pubsub],
  ['google.storage', GOOGLE_SERVICE.storage],
  ['google.firebase.remoteconfig', GOOGLE_SERVICE.firebaseRemoteConfig],
];

/** How a legacy resource splits into CloudEvent source path and subject, per service. */
const RESOURCE_SPLIT = new Map<string, RegExp>([
  [GOOGLE_SERVICE.firebase, /^(projects\/[^/]+)\/(events\/[^/]+)$/],
  [GOOGLE_SERVICE.firebaseDb, /^projects\/[^/]+\/(instances\/[^/]+)\/(refs\/.+)$/],
  [GOOGLE_SERVICE.firestore, /^(projects\/[^/]+\/databases\/\(default\))\/(documents\/.+)$/],
  [GOOGLE_SERVICE.storage, /^(projects\/[^/]+\/buckets\/[^/]+)\/(objects\/.+)$/],
]);

const PUBSUB_MESSAGE_TYPE = 'type.googleapis.com/google.pubsub.v1.PubsubMessage';
const AUTH_METADATA_TO_CE: Record<string, string> = {
  createdAt: 'createTime',
  lastSignedInAt: 'lastSignInTime',
};
const AUTH_METADATA_TO_LEGACY: Record<string, string> = {
  createTime: 'createdAt',
  lastSignInTime: 'lastSignedInAt',
};

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/**
 * A value of an untrusted event as text: strings as they are, numbers and booleans printed, objects
 * as JSON, nothing as ''. Never throws, unlike `String(v)` on an object whose `toString` is not a
 * function (`{"eventId": {"toString": 1}}`).
 */
export function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v !== 'object' && typeof v !== 'function') return String(v);
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '';
  }
}

function renameKeys(v: unknown, names: Record<string, string>): unknown {
  if (!isObject(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [names[k] ?? k, x]));
}

/** The CloudEvent type a Google legacy event type maps to, if it is one. */
function googleCloudEventType(legacyType: string): string | undefined {
  return Object.hasOwn(LEGACY_TO_CE, legacyType) ? LEGACY_TO_CE[legacyType] : undefined;
}

/** The legacy type a Google CloudEvent type maps to, if it is one. */
function googleLegacyType(ceType: string): string | undefined {
  return Object.hasOwn(CE_TO_LEGACY, ceType) ? CE_TO_LEGACY[ceType] : undefined;
}

function serviceOf(context: LegacyEventContext): { service: string; resource: string } {
  const r = context.resource;
  let service = '';
  let resource = '';
  if (typeof r === 'string') resource = r;
  else if (isObject(r)) {
    resource = typeof r.name === 'string' ? r.name : '';
    service = typeof r.service === 'string' ? r.service : '';
  }
  if (!service) {
    for (const [prefix, s] of LEGACY_PREFIX_SERVICE) {
      if (context.eventType.startsWith(prefix)) service = s;
    }
  }
  return { service, resource };
}

/**
 * A Google legacy event as the CloudEvent Google's frameworks deliver, or undefined when the type
 * or resource is not one they convert (the caller then applies the generic conversion).
 * `extra` is the rest of the legacy body (Firebase Realtime Database sends `domain` there).
 */
export function googleLegacyToCloudEvent(
  legacy: { data: unknown; context: LegacyEventContext },
  extra: Obj = {},
): CloudEvent | undefined {
  const { context } = legacy;
  const type = googleCloudEventType(context.eventType);
  if (!type) return undefined;
  const { service, resource: name } = serviceOf(context);
  if (!service) return undefined;
  let resource = name;
  let subject = '';
  const split = RESOURCE_SPLIT.get(service);
  if (split) {
    const m = split.exec(name);
    if (!m) return undefined;
    resource = m[1]!;
    subject = m[2]!;
  }
  let data = legacy.data;
  if (service === GOOGLE_SERVICE.pubsub && isObject(data)) {
    const message: Obj = { ...data };
    message.publishTime ||= context.timestamp;
    message.messageId ||= context.eventId;
    data = { message };
  }
  if (service === GOOGLE_SERVICE.firebaseAuth && isObject(data) && 'metadata' in data) {
    data = { ...data, metadata: renameKeys(data.metadata, AUTH_METADATA_TO_CE) };
    if ((data as Obj).uid !== undefined) subject = `users/${textOf((data as Obj).uid)}`;
  }
  if (service === GOOGLE_SERVICE.firebaseDb) {
    const domain = typeof extra.domain === 'string' ? extra.domain : '';
    const location =
      domain === 'firebaseio.com' ? 'us-central1' : /^([\w-]+)\.firebasedatabase\.app$/.exec(domain)?.[1];
    if (!location) return undefined;
    resource = `projects/_/locations/${location}/${resource}`;
  }
  const event: CloudEvent = {
    specversion: '1.0',
    id: context.eventId,
    source: `//${service}/${resource}`,
    type,
    time: context.timestamp,
    datacontenttype: 'application/json',
    data,
  };
  if (subject) event.subject = subject;
  return event;
}

/**
 * A Google CloudEvent as the legacy `(data, context)` pair Google's frameworks deliver, or
 * undefined when its type or source is not a Google one.
 */
export function googleCloudEventToLegacy(
  event: CloudEvent,
): { data: unknown; context: LegacyEventContext } | undefined {
  const eventType = googleLegacyType(event.type);
  const m = /^\/\/([^/]+)\/(.+)$/.exec(event.source);
  if (!eventType || !m) return undefined;
  const service = m[1]!;
  const name = m[2]!;
  let data = event.data;
  let resource: unknown = event.subject ? `${name}/${textOf(event.subject)}` : name;
  switch (service) {
    case GOOGLE_SERVICE.pubsub: {
      resource = { service, name, type: PUBSUB_MESSAGE_TYPE };
      if (isObject(data)) {
        const message: Obj = isObject(data.message) ? { ...data.message } : { ...data };
        delete message.messageId;
        delete message.publishTime;
        data = message;
      }
      break;
    }
    case GOOGLE_SERVICE.firebaseAuth:
      resource = name;
      if (isObject(data) && 'metadata' in data) {
        data = { ...data, metadata: renameKeys(data.metadata, AUTH_METADATA_TO_LEGACY) };
      }
      break;
    case GOOGLE_SERVICE.firebaseDb:
      resource = (resource as string).replace(/\/locations\/[^/]+/, '');
      break;
    case GOOGLE_SERVICE.storage:
      resource = {
        name: `${name}/${textOf(event.subject)}`,
        service,
        type: isObject(data) ? data.kind : undefined,
      };
      break;
  }
  return {
    data,
    context: { eventId: event.id, timestamp: textOf(event.time), eventType, resource },
  };
}

/**
 * A Pub/Sub push-subscription body (`{subscription, message: {data, messageId, ...}}`) as the
 * legacy Pub/Sub event, the topic taken from the request path (`.../projects/P/topics/T`), or
 * undefined when the body is not one.
 */
export function pubsubPushToLegacy(
  body: Obj,
  path: string,
): { data: unknown; context: LegacyEventContext } | undefined {
  const message = body.message;
  if (body.context !== undefined || !body.subscription || !isObject(message)) return undefined;
  if (!message.data || !message.messageId) return undefined;
  const topic = /projects\/[^/?]+\/topics\/[^/?]+/.exec(path)?.[0] ?? null;
  return {
    context: {
      eventId: textOf(message.messageId),
      timestamp: typeof message.publishTime === 'string' ? message.publishTime : new Date().toISOString(),
      eventType: 'google.pubsub.topic.publish',
      resource: { service: GOOGLE_SERVICE.pubsub, type: PUBSUB_MESSAGE_TYPE, name: topic },
    },
    data: {
      '@type': PUBSUB_MESSAGE_TYPE,
      data: message.data,
      attributes: isObject(message.attributes) ? message.attributes : {},
    },
  };
}
