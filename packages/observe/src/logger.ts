import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import { replaceRepeatedBindings, uniqueFields } from './bindings.js';
import { prettyStream } from './pretty.js';

export type Logger = PinoLogger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface LoggerOptions {
  /** Component name put on every line as `component`. */
  name?: string;
  level?: LogLevel;
  /** `json` always writes JSON lines; `pretty` writes one readable line a record; `auto` picks pretty on a TTY. */
  format?: 'json' | 'pretty' | 'auto';
  /** Where lines go; standard error by default, so standard output stays the function's own. */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** Fields put on every line. */
  base?: Record<string, unknown>;
}

/**
 * Creates a structured logger: JSON lines (`level`, `time`, `msg`, fields) or pretty on a terminal.
 * Every key appears once on a line: a child's binding replaces its parent's, a call's field replaces
 * a binding, and `level`, `time` (and `msg` beside a message) are the logger's own.
 *
 * @example
 * const log = createLogger({ name: 'framework' });
 * log.info({ port: 8080 }, 'listening');
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const out = options.destination ?? process.stderr;
  const format = options.format ?? (process.env.SPROUT_LOG_FORMAT as LoggerOptions['format']) ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && (out as { isTTY?: boolean }).isTTY === true);
  const log = pino(
    {
      level: options.level ?? (process.env.SPROUT_LOG_LEVEL as LogLevel | undefined) ?? 'info',
      base: { ...(options.name ? { component: options.name } : {}), ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: { logMethod: uniqueFields },
    },
    pretty ? prettyStream(out) : (out as DestinationStream),
  );
  replaceRepeatedBindings(log);
  return log;
}
