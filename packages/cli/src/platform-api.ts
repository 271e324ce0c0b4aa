import { resolve } from 'node:path';
import { readToken } from '@sprout/http';
import { UsageError, type CommandIO, type OptionTable } from './command.js';

/**
 * The options of every command that calls a running `sprout dev`'s API: where it is, and where its
 * token comes from (by default the `api-token` file of the data dir `sprout dev` uses here).
 */
export const API_OPTIONS = {
  'api-url': {
    type: 'string',
    env: 'SPROUT_API_URL',
    default: 'http://127.0.0.1:9090',
    value: 'URL',
    description: "Address of sprout dev's API",
  },
  'data-dir': {
    type: 'string',
    env: 'SPROUT_DATA_DIR',
    default: '.sprout',
    value: 'DIR',
    description: "sprout dev's --data-dir: its api-token file authorizes the calls",
  },
  token: {
    type: 'string',
    env: 'SPROUT_API_TOKEN',
    value: 'TOKEN',
    description: 'The API token, instead of <data-dir>/api-token (prefer the variable: flags show in ps)',
  },
} as const satisfies OptionTable;

interface ApiFlags {
  'api-url': string;
  'data-dir': string;
  token: string | undefined;
}

/**
 * Calls `path` on the platform API with the token; a failed call (unreachable, or an error answer)
 * is a UsageError that says what to do.
 */
export async function callApi(opts: ApiFlags, path: string, io: CommandIO): Promise<Response> {
  const base = opts['api-url'].replace(/\/$/, '');
  const dataDir = resolve(io.cwd, opts['data-dir']);
  const token = opts.token ?? readToken(dataDir);
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  } catch (err) {
    throw new UsageError(
      `cannot reach the platform API at ${opts['api-url']} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is 'sprout dev' running? (--api-url sets where)`,
      1,
    );
  }
  if (res.ok) return res;
  const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  const why = body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`;
  if (res.status !== 401) throw new UsageError(why, 1);
  const where = token
    ? opts.token !== undefined
      ? "the token given (--token or SPROUT_API_TOKEN) is not this API's"
      : `${dataDir}/api-token is not this API's token`
    : `no token: ${dataDir}/api-token does not exist`;
  throw new UsageError(
    `${why} (${where}; run where 'sprout dev' runs, or point --data-dir at its data dir)`,
    1,
  );
}
