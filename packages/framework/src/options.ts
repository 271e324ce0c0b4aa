import { parseSize as parseSizeText } from '@sprout/http';
import { FrameworkError } from './errors.js';
import { parseSignatureType, type SignatureType } from './signature.js';

/** Raw option values as flags or environment give them (strings), before validation. */
export interface RawRunOptions {
  port?: string | undefined;
  host?: string | undefined;
  target?: string | undefined;
  signatureType?: string | undefined;
  source?: string | undefined;
  context?: string | undefined;
  timeout?: string | undefined;
  ignoredRoutes?: string | undefined;
  logExecutionId?: boolean | string | undefined;
  bodyLimit?: string | undefined;
}

export interface RunOptions {
  port: number;
  host: string | undefined;
  target: string | undefined;
  signatureType: SignatureType | undefined;
  source: string;
  context: string | undefined;
  timeoutMs: number;
  ignoredRoutes: string[] | undefined;
  logExecutionId: boolean;
  bodyLimit: number | undefined;
}

function invalid(field: string, message: string): FrameworkError {
  return new FrameworkError('SPROUT_ERR_FRAMEWORK_INVALID_OPTION', `${field}: ${message}`, { field });
}

/** Parses a size such as `10mb`, `512kb` or `1048576` (the toolkit's units); `field` names the flag in the error. */
export function parseSize(value: string, field: string): number {
  const n = parseSizeText(value);
  if (n === undefined)
    throw invalid(field, `"${value}" is not a size; use bytes or a number with kb, mb or gb`);
  return n;
}

/**
 * Validates the anchors' options: `--port`/PORT (8080), `--target`/FUNCTION_TARGET,
 * `--signature-type`/FUNCTION_SIGNATURE_TYPE, `--source`/FUNCTION_SOURCE, `--context`/FUNC_CONTEXT,
 * `--timeout`/CLOUD_RUN_TIMEOUT_SECONDS (seconds, 0 = none), `--ignored-routes`/IGNORED_ROUTES
 * (comma-separated; empty to ignore nothing), `--log-execution-id`/LOG_EXECUTION_ID.
 */
export function resolveRunOptions(raw: RawRunOptions): RunOptions {
  const port = raw.port === undefined || raw.port === '' ? 8080 : Number(raw.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw invalid('--port', `"${raw.port}" is not a port number (0-65535)`);
  let timeoutMs = 0;
  if (raw.timeout !== undefined && raw.timeout !== '') {
    const s = Number(raw.timeout);
    if (!Number.isFinite(s) || s < 0)
      throw invalid('--timeout', `"${raw.timeout}" is not a number of seconds (0 or more)`);
    timeoutMs = Math.round(s * 1000);
  }
  const log = raw.logExecutionId;
  return {
    port,
    host: raw.host || undefined,
    target: raw.target || undefined,
    signatureType: raw.signatureType ? parseSignatureType(raw.signatureType) : undefined,
    source: raw.source || '.',
    context: raw.context || undefined,
    timeoutMs,
    ignoredRoutes:
      raw.ignoredRoutes === undefined
        ? undefined
        : raw.ignoredRoutes
            .split(',')
            .map((r) => r.trim())
            .filter(Boolean),
    logExecutionId: log === true || (typeof log === 'string' && log.toLowerCase() === 'true'),
    bodyLimit: raw.bodyLimit ? parseSize(raw.bodyLimit, '--body-limit') : undefined,
  };
}
