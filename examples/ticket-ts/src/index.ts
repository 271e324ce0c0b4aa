// The `ticket` function: GET /?name=Ada&event=NodeConf&date=2030-05-01[&format=yaml] issues a
// ticket. Each of the twenty runtime dependencies does one real job in it.
import { kebabCase } from 'change-case';
import { serialize } from 'cookie';
import { addDays, differenceInMilliseconds, formatISO, parseISO } from 'date-fns';
import deepmerge from 'deepmerge';
import { htmlEscape } from 'escape-goat';
import equal from 'fast-deep-equal';
import ipaddr from 'ipaddr.js';
import { Base64 } from 'js-base64';
import mime from 'mime';
import { customAlphabet } from 'nanoid';
import pLimit from 'p-limit';
import prettyBytes from 'pretty-bytes';
import prettyMs from 'pretty-ms';
import queryString from 'query-string';
import semver from 'semver';
import slugify from 'slugify';
import invariant from 'tiny-invariant';
import { v5 as uuidv5 } from 'uuid';
import YAML from 'yaml';
import { z } from 'zod';
import { seatFor } from './seat.js';

/** The part of the framework's request this function reads (the framework's own type is not installed here). */
export interface TicketRequest {
  url?: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  socket?: { remoteAddress?: string };
}

const Query = z.object({
  name: z.string().min(1).max(80).default('guest'),
  event: z.string().min(1).max(80).default('Sprout Day'),
  date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
  format: z.enum(['json', 'yaml']).default('json'),
  client: z.string().optional(),
});

const NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8'; // the URL namespace of RFC 4122
const code = customAlphabet('ABCDEFGHJKLMNPQRSTUVWXYZ23456789', 8);
const defaults = { ticket: { kind: 'standard', perks: ['entry'] } };

export async function ticket(req: TicketRequest): Promise<string> {
  const raw = req.url ? queryString.parseUrl(req.url).query : req.query;
  const query = Query.parse(raw);
  const when = query.date ? parseISO(query.date) : addDays(new Date(), 30);
  invariant(!Number.isNaN(when.getTime()), 'date is not a calendar date');
  const slug = slugify(`${query.event} ${query.name}`, { lower: true, strict: true });
  const limit = pLimit(2);
  const [seat, id] = await Promise.all([
    limit(() => seatFor(slug)),
    limit(async () => uuidv5(`https://sprout.example/tickets/${slug}`, NAMESPACE)),
  ]);
  const remote = req.socket?.remoteAddress ?? '127.0.0.1';
  const client =
    query.client && semver.valid(semver.coerce(query.client)) ? semver.coerce(query.client)!.version : null;
  const body = deepmerge(defaults, {
    ticket: {
      id,
      code: code(),
      holder: htmlEscape(query.name),
      event: kebabCase(query.event),
      slug,
      seat,
      date: formatISO(when, { representation: 'date' }),
      startsIn: prettyMs(Math.max(0, differenceInMilliseconds(when, new Date())), { compact: true }),
      perks: ['badge'],
    },
    request: {
      from: ipaddr.process(remote).kind(),
      client,
      contentType: mime.getType(query.format),
      cookie: serialize('ticket', Base64.encodeURI(slug), { httpOnly: true, sameSite: 'strict' }),
    },
  });
  invariant(!equal(body.ticket, defaults.ticket), 'the ticket was not filled in');
  const text = query.format === 'yaml' ? YAML.stringify(body) : `${JSON.stringify(body, null, 2)}\n`;
  return `${text}# ${prettyBytes(new TextEncoder().encode(text).length)}\n`;
}
