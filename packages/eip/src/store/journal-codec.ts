import { z } from 'zod';
import type { Allocation, AllocationRequest, PendingReason, Protocol, ServiceState } from '../allocation.js';
import { EipError } from '../errors.js';
import { formatIp, parseIp } from '../ip.js';

// A journal row is a few short columns, not a JSON document (schema version 2):
//   key    namespace/name
//   addrs  held addresses as `ip pool` pairs joined by `,`; NULL when none
//   ports  the request's ports as `port/PROTO` joined by `,` ('' for an empty list, NULL when absent)
//   extra  the request's other fields (pool, ips, sharingKey, ipFamilyPolicy, ipFamilies) as JSON; NULL when none
//   cond   a pending service's condition, `Reason message`; NULL when allocated
// A row with neither addrs nor cond is a release. Each address's ports and sharing key are the
// request's, so they are not stored twice.

/** A journal row as `INSERT INTO journal VALUES (...)` binds it. */
export type Row = [
  seq: number,
  key: string,
  addrs: string | null,
  ports: string | null,
  extra: string | null,
  cond: string | null,
];

/** A journal row as a query returns it. */
export interface StoredRow {
  seq: number;
  key: string;
  addrs: string | null;
  ports: string | null;
  extra: string | null;
  cond: string | null;
}

const EXTRA_FIELDS = ['pool', 'ips', 'sharingKey', 'ipFamilyPolicy', 'ipFamilies'] as const;

/** A service's state as journal columns (see above). */
export function encodeState(seq: number, key: string, state: ServiceState | null): Row {
  if (state === null) return [seq, key, null, null, null, null];
  const req = state.request;
  let addrs: string | null = null;
  for (const a of state.addresses)
    addrs = addrs === null ? `${a.ip} ${a.pool}` : `${addrs},${a.ip} ${a.pool}`;
  let ports: string | null = null;
  if (req.ports) {
    ports = '';
    for (let i = 0; i < req.ports.length; i++) {
      const p = req.ports[i]!;
      ports += i ? `,${p.port}/${p.protocol}` : `${p.port}/${p.protocol}`;
    }
  }
  let extra: string | null = null;
  if (
    req.pool !== undefined ||
    req.ips ||
    req.sharingKey !== undefined ||
    req.ipFamilyPolicy ||
    req.ipFamilies
  ) {
    const e: Record<string, unknown> = {};
    for (const f of EXTRA_FIELDS) if (req[f] !== undefined) e[f] = req[f];
    extra = JSON.stringify(e);
  }
  const cond = state.condition ? `${state.condition.reason} ${state.condition.message}` : null;
  // A pending service with no condition cannot happen; keep the row distinguishable from a release.
  return [seq, key, addrs, ports, extra, cond ?? (addrs === null ? 'Unknown ' : null)];
}

const extraSchema = z.strictObject({
  pool: z.string().optional(),
  ips: z.array(z.string()).max(2).optional(),
  sharingKey: z.string().optional(),
  ipFamilyPolicy: z.enum(['SingleStack', 'PreferDualStack', 'RequireDualStack']).optional(),
  ipFamilies: z
    .array(z.enum(['IPv4', 'IPv6']))
    .max(2)
    .optional(),
});
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/** A canonical dotted quad (no leading zeros), as the allocator writes them. */
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);
const PORT = /^([1-9]\d{0,4})\/(TCP|UDP|SCTP)$/;
const REASONS = new Set<string>([
  'NoPoolForNamespace',
  'PoolNotFound',
  'PoolDisabled',
  'PoolExhausted',
  'IpNotInPool',
  'IpInUse',
  'IpReserved',
  'FamilyUnavailable',
  'Unknown',
]);

/**
 * Journal columns back to a service's state (`null`: released). A row this version cannot read
 * (a damaged file, a foreign writer) is a `SPROUT_ERR_EIP_STORE` naming the entry, never a crash.
 */
export function decodeState(row: StoredRow): ServiceState | null {
  const bad = (what: string): never => {
    throw new EipError(
      'SPROUT_ERR_EIP_STORE',
      `journal entry ${row.seq} (${row.key}) is unreadable: ${what}`,
    );
  };
  if (row.addrs === null && row.cond === null) return null;
  const slash = row.key.indexOf('/');
  if (slash <= 0 || slash === row.key.length - 1) bad('the key is not namespace/name');
  const namespace = row.key.slice(0, slash);
  const name = row.key.slice(slash + 1);
  const request: AllocationRequest = { namespace, name };
  let extra: z.infer<typeof extraSchema> | undefined;
  if (row.extra !== null) {
    let json: unknown;
    try {
      json = JSON.parse(row.extra);
    } catch {
      bad('the request fields are not JSON');
    }
    const r = extraSchema.safeParse(json);
    if (!r.success) bad(`bad request fields: ${r.error.issues[0]!.message}`);
    extra = r.data;
  }
  if (extra?.pool !== undefined) request.pool = extra.pool;
  if (extra?.ips !== undefined) request.ips = extra.ips;
  if (extra?.sharingKey !== undefined) request.sharingKey = extra.sharingKey;
  if (row.ports !== null) {
    request.ports =
      row.ports === ''
        ? []
        : row.ports.split(',').map((p) => {
            const m = PORT.exec(p);
            if (!m || Number(m[1]) > 65535) return bad(`bad port ${JSON.stringify(p)}`);
            return { port: Number(m[1]), protocol: m[2] as Protocol };
          });
  }
  if (extra?.ipFamilyPolicy !== undefined) request.ipFamilyPolicy = extra.ipFamilyPolicy;
  if (extra?.ipFamilies !== undefined) request.ipFamilies = extra.ipFamilies;
  const ports = request.ports ?? [];
  const addresses: Allocation[] = [];
  if (row.addrs !== null) {
    for (const pair of row.addrs.split(',')) {
      const space = pair.indexOf(' ');
      if (space <= 0 || space === pair.length - 1) bad(`bad address ${JSON.stringify(pair)}`);
      const ip = pair.slice(0, space);
      const pool = pair.slice(space + 1);
      let family: 4 | 6 = 4;
      if (!IPV4.test(ip)) {
        // IPv6 (or damage): the general parser, and the text must be canonical as we write it.
        try {
          const parsed = parseIp(ip);
          if (formatIp(parsed) !== ip) throw new Error('not canonical');
          family = parsed.family;
        } catch {
          return bad(`bad address ${JSON.stringify(ip)}`);
        }
      }
      addresses.push(
        request.sharingKey !== undefined
          ? { ip, family, pool, sharingKey: request.sharingKey, ports }
          : { ip, family, pool, ports },
      );
    }
  }
  const base = { key: row.key, namespace, name, request };
  if (row.cond === null) return { ...base, status: 'allocated', addresses };
  const space = row.cond.indexOf(' ');
  const reason = space < 0 ? row.cond : row.cond.slice(0, space);
  if (!REASONS.has(reason)) bad(`unknown pending reason ${JSON.stringify(reason)}`);
  return {
    ...base,
    status: 'pending',
    addresses,
    condition: { reason: reason as PendingReason, message: space < 0 ? '' : row.cond.slice(space + 1) },
  };
}
