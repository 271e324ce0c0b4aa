import { z } from 'zod';
import { bool, int, port, seconds, size } from './values.js';

/** `service:` keys (fluent-bit names). Unknown keys are errors: a key that changes behaviour is never ignored. */
export const serviceSchema = z.strictObject({
  flush: seconds.default(1),
  grace: seconds.default(5),
  log_level: z.enum(['off', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  http_server: bool.default(false),
  http_listen: z.string().default('127.0.0.1'),
  http_port: port.default(2020),
  'storage.path': z.string().optional(),
  'storage.sync': z.enum(['normal', 'full']).default('normal'),
  'scheduler.base': seconds.default(5),
  'scheduler.cap': seconds.default(2000),
});
export type ServiceConfig = z.output<typeof serviceSchema>;

/** Keys every input has; the rest go to the plugin's own schema. */
export const inputCommon = z.object({
  name: z.string(),
  tag: z.string().optional(),
  alias: z.string().optional(),
  mem_buf_limit: size().optional(),
  'storage.type': z.enum(['memory', 'filesystem']).default('memory'),
  /** Sprout: answer the sender only after every output accepted the records. */
  ack: bool.default(false),
  /** Accepted; changes nothing (an input runs on the one event loop). */
  threaded: bool.optional(),
  /** This input's log level (the service's when unset). */
  log_level: z.enum(['off', 'error', 'warn', 'info', 'debug', 'trace']).optional(),
});

const retry = z.union([z.number(), z.string(), z.boolean()]).transform((v, ctx) => {
  if (v === false || ['false', 'no_limits', 'no_retries'].includes(String(v).toLowerCase())) {
    return String(v).toLowerCase() === 'no_retries' ? 0 : Infinity;
  }
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    ctx.addIssue({
      code: 'custom',
      message: `'${String(v)}' is not a retry limit (a number, no_limits or no_retries)`,
    });
    return z.NEVER;
  }
  return n;
});

export const outputCommon = z.object({
  name: z.string(),
  match: z.string().optional(),
  match_regex: z.string().optional(),
  alias: z.string().optional(),
  retry_limit: retry.default(1),
  'storage.total_limit_size': size().optional(),
  /** Sprout: over storage.total_limit_size drop the oldest chunk (fluent-bit's way) instead of pausing inputs. */
  'storage.drop_oldest': bool.default(false),
  workers: int(0, 64).optional(),
});

export const filterCommon = z.object({
  name: z.string(),
  match: z.string().optional(),
  match_regex: z.string().optional(),
  alias: z.string().optional(),
});

export const parserSchema = z.strictObject({
  name: z.string(),
  format: z.enum(['json', 'regex', 'logfmt']),
  regex: z.string().optional(),
  time_key: z.string().optional(),
  time_format: z.string().optional(),
  time_keep: bool.default(false),
});

const record = z.record(z.string(), z.unknown());

/** Sprout's config unit tests: records in, the bodies each output should receive out. */
export const testSchema = z.strictObject({
  name: z.string(),
  input: z.strictObject({
    tag: z.string(),
    records: z.array(record).optional(),
    lines: z.array(z.string()).optional(),
    parser: z.string().optional(),
  }),
  expect: z.record(z.string(), z.array(record)),
});
export type ConfigTest = z.output<typeof testSchema>;
