import { SproutError } from '@sprout/http';

/**
 * Every error the collector raises, with its stable code and how to fix it. The package README lists
 * the same table; `errors.test.ts` keeps the two in step. Retired codes are never reused.
 */
export const errorCodes = {
  SPROUT_ERR_COLLECTOR_CONFIG_YAML:
    'The config file is not valid YAML. Fix the syntax at the line and column named.',
  SPROUT_ERR_COLLECTOR_CONFIG_INVALID:
    'A config key is missing, unknown, has a value of the wrong type, or is a fluent-bit key Sprout cannot honour (the message says why, see the compatibility tables). Fix the key named (its path is in the message).',
  SPROUT_ERR_COLLECTOR_UNKNOWN_PLUGIN:
    'An input, filter, parser or output names a plugin the collector does not have. Use one of the names listed in the message.',
  SPROUT_ERR_COLLECTOR_LISTEN:
    'An input could not open its socket (port in use, no permission, bad path). Pick a free port or path.',
  SPROUT_ERR_COLLECTOR_DECODE:
    'An input received bytes it could not decode; they were rejected and counted. Fix the sender or its format option.',
  SPROUT_ERR_COLLECTOR_TOO_LARGE:
    'A message or body is larger than the configured limit; it was rejected. Raise the limit (buffer_max_size, payload_limit) or send smaller messages.',
  SPROUT_ERR_COLLECTOR_OUTPUT_FAILED:
    'An output gave up on a batch after its retry limit. Check the destination, or raise retry_limit.',
  SPROUT_ERR_COLLECTOR_BUFFER:
    'The filesystem buffer could not be written or read. Check storage.path exists and is writable.',
  SPROUT_ERR_COLLECTOR_TEST_FAILED:
    'A config test produced records other than the expected ones. Compare the diff in the message with the test file.',
  SPROUT_ERR_COLLECTOR_CLOSED:
    'Records were pushed after the collector was closed. Push only between start() and close().',
  SPROUT_ERR_COLLECTOR_TYPESDB:
    'The collectd types.db file could not be read or parsed. Point typesdb at a valid file.',
  SPROUT_ERR_COLLECTOR_BAD_REQUEST:
    'An HTTP input or the monitoring server refused a request it does not serve (wrong method, unknown path, unsupported content type, a URL path that is not valid percent-encoded UTF-8). Send what the input documents.',
  SPROUT_ERR_COLLECTOR_FILE_NAME:
    "The file output could not use a record's tag as a file name (once made safe, a part is over 255 bytes or the path over 4095, or it names a sub-folder that does not exist while mkdir is off); those records were dropped and counted, the rest written. Set the output's file key, turn mkdir on, or send other tags.",
  SPROUT_ERR_COLLECTOR_BUFFER_FULL:
    "An output's filesystem buffer reached storage.total_limit_size (512M by default) while the output could not deliver: TCP-style inputs stopped reading, HTTP inputs answered 503 (gRPC UNAVAILABLE), UDP inputs dropped and counted datagrams (collector_input_dropped_total). Bring the destination back, or raise storage.total_limit_size.",
  SPROUT_ERR_COLLECTOR_INTERNAL:
    'A server of the collector hit an unexpected error while handling a request; it answered 500 (or gRPC INTERNAL), counted it as internal and kept serving. Report it with the logged error.',
  SPROUT_ERR_COLLECTOR_TLS:
    "An input's TLS keys cannot be used: tls is on without tls.crt_file and tls.key_file, a file cannot be read, or the key does not match the certificate (or needs tls.key_passwd). Fix the key named.",
  SPROUT_ERR_COLLECTOR_NOT_RENDERABLE:
    'A filter, output, parser or option has no Fluent Operator equivalent, so sprout collector render cannot express it. Remove it from the config you render, or change it as the message says.',
} as const;

export type CollectorErrorCode = keyof typeof errorCodes;

/**
 * An error from the collector with a stable code; `field` names the config key or byte offset at
 * fault, and the message starts with it (`pipeline.inputs[0].port: …`).
 *
 * @example
 * throw new CollectorError('SPROUT_ERR_COLLECTOR_CONFIG_INVALID', 'must be a list', 'parsers');
 */
export class CollectorError extends SproutError<CollectorErrorCode> {
  override name = 'CollectorError';
  constructor(
    code: CollectorErrorCode,
    message: string,
    field?: string,
    options: { cause?: unknown; status?: number } = {},
  ) {
    super(code, field ? `${field}: ${message}` : message, { ...options, field });
  }
}
