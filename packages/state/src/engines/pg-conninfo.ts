import type pg from 'pg';
import { StateError } from '../errors.js';

// PostgreSQL connection strings as Dapr's postgresql store takes them (through pgx): a URL
// (`postgres://` or `postgresql://`), or libpq's keyword/value form
// `host=localhost user=postgres password='a b' port=5432 connect_timeout=10 database=test`.
// Values may be single-quoted; inside quotes `\'` and `\\` escape. Spaces around `=` are allowed.

/** The pg pool settings a libpq keyword/value string names; the URL form is passed to pg as is. */
export type PgConnectionConfig = Pick<
  pg.PoolConfig,
  'host' | 'port' | 'user' | 'password' | 'database' | 'ssl' | 'application_name' | 'connectionTimeoutMillis'
>;

function invalid(message: string): never {
  throw new StateError('SPROUT_ERR_STATE_COMPONENT_INVALID', `connectionString: ${message}`);
}

/** Splits libpq `keyword=value` pairs; throws SPROUT_ERR_STATE_COMPONENT_INVALID on malformed text. */
export function splitConnInfo(text: string): [string, string][] {
  const pairs: [string, string][] = [];
  let i = 0;
  const n = text.length;
  const space = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
  while (i < n) {
    while (space(text[i])) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && text[i] !== '=' && !space(text[i])) i++;
    const key = text.slice(start, i);
    while (space(text[i])) i++;
    if (text[i] !== '=' || key === '') invalid(`expected keyword=value at offset ${start}`);
    i++;
    while (space(text[i])) i++;
    let value = '';
    if (text[i] === "'") {
      i++;
      for (;;) {
        if (i >= n) invalid(`unterminated quoted value of "${key}"`);
        const c = text[i]!;
        if (c === '\\' && i + 1 < n) {
          value += text[i + 1];
          i += 2;
        } else if (c === "'") {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
    } else {
      while (i < n && !space(text[i])) {
        if (text[i] === '\\' && i + 1 < n) i++;
        value += text[i];
        i++;
      }
    }
    pairs.push([key, value]);
  }
  return pairs;
}

const SSL: Record<string, PgConnectionConfig['ssl']> = {
  disable: false,
  allow: false,
  prefer: false,
  require: { rejectUnauthorized: false },
  'verify-ca': { rejectUnauthorized: true },
  'verify-full': { rejectUnauthorized: true },
};

// pgx pool settings Dapr's docs show inside connection strings; Sprout's pool has its own.
const POOL_KEYS = new Set([
  'pool_max_conns',
  'pool_min_conns',
  'pool_max_conn_lifetime',
  'pool_max_conn_idle_time',
  'pool_health_check_period',
]);

/**
 * The pg settings of a connection string: `{ connectionString }` for a URL, the parsed keywords
 * for libpq's keyword/value form. Unknown keywords are refused, naming them.
 */
export function pgConnectionConfig(text: string): PgConnectionConfig | { connectionString: string } {
  if (/^postgres(ql)?:\/\//i.test(text.trim())) return { connectionString: text.trim() };
  const out: PgConnectionConfig = {};
  for (const [key, value] of splitConnInfo(text)) {
    switch (key) {
      case 'host':
      case 'hostaddr':
        out.host = value;
        break;
      case 'port':
        if (!/^\d{1,5}$/.test(value) || Number(value) > 65535)
          invalid(`port must be a number from 1 to 65535, not "${value}"`);
        out.port = Number(value);
        break;
      case 'user':
        out.user = value;
        break;
      case 'password':
        out.password = value;
        break;
      case 'dbname':
      case 'database':
        out.database = value;
        break;
      case 'connect_timeout':
        if (!/^\d{1,6}$/.test(value)) invalid(`connect_timeout must be whole seconds, not "${value}"`);
        out.connectionTimeoutMillis = Number(value) * 1000;
        break;
      case 'sslmode':
        if (!(value in SSL)) invalid(`sslmode must be one of ${Object.keys(SSL).join(', ')}, not "${value}"`);
        out.ssl = SSL[value];
        break;
      case 'application_name':
        out.application_name = value;
        break;
      default:
        if (!POOL_KEYS.has(key))
          invalid(
            `keyword "${key}" is not supported (use host, hostaddr, port, user, password, dbname/database, connect_timeout, sslmode, application_name)`,
          );
    }
  }
  if (!out.host && !out.database && !out.user)
    invalid('is neither a postgres:// URL nor keyword=value pairs naming host, user or database');
  return out;
}
