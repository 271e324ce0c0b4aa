import { format } from 'node:util';

const LEVELS = { log: 'INFO', info: 'INFO', debug: 'DEBUG', warn: 'WARNING', error: 'ERROR' } as const;
/** Where Google's framework (and Cloud Logging) puts the execution id: a label. */
const LABELS = 'logging.googleapis.com/labels';
/** Where Google's framework puts the span id of the request's `X-Cloud-Trace-Context`. */
const SPAN_ID = 'logging.googleapis.com/spanId';
// Terminal colour and cursor sequences, dropped before a line is tried as JSON (as Google's framework does).
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b[[(?);]{0,2}(;?\d)*./g;

/** What a log line written inside a request is tagged with. */
export interface ExecutionTags {
  executionId: string;
  /** The span id of the request's `X-Cloud-Trace-Context` header, when it has one. */
  spanId?: string | undefined;
}

/** pino's numeric levels and the usual level names, as Cloud Logging severities. */
const LEVEL_SEVERITY: Record<string, string> = {
  10: 'DEBUG',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARNING',
  50: 'ERROR',
  60: 'CRITICAL',
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  warning: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

/** The severity a JSON log line's `level` (pino's number or a name) stands for, if any. */
function levelSeverity(level: unknown): string | undefined {
  const key =
    typeof level === 'string' ? level.toLowerCase() : typeof level === 'number' ? String(level) : '';
  return Object.hasOwn(LEVEL_SEVERITY, key) ? LEVEL_SEVERITY[key] : undefined;
}

function asJsonObject(text: string): Record<string, unknown> | undefined {
  const t = text.replace(ANSI, '').trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One log line tagged with the request, in Google's functions framework shape: a text line becomes
 * `{"message", "severity", "logging.googleapis.com/labels": {"execution_id"},
 * "logging.googleapis.com/spanId"}`; a line that is itself a JSON object keeps its fields, gains the
 * label (other labels kept, an existing execution_id replaced), the span id unless it has one and,
 * when it has no `severity`, one from its `level` (pino's numbers or a level name) or, on stderr,
 * `ERROR`.
 */
export function executionLogLine(
  text: string,
  tags: ExecutionTags,
  severity: string,
  stderr: boolean,
): string {
  const json = asJsonObject(text);
  if (!json) {
    const line: Record<string, unknown> = {
      message: text,
      severity,
      [LABELS]: { execution_id: tags.executionId },
    };
    if (tags.spanId !== undefined) line[SPAN_ID] = tags.spanId;
    return JSON.stringify(line);
  }
  const labels = json[LABELS];
  json[LABELS] = {
    ...(labels && typeof labels === 'object' && !Array.isArray(labels) ? labels : {}),
    execution_id: tags.executionId,
  };
  if (json[SPAN_ID] === undefined && tags.spanId !== undefined) json[SPAN_ID] = tags.spanId;
  if (json.severity === undefined) {
    const fromLevel = levelSeverity(json.level);
    if (fromLevel) json.severity = fromLevel;
    else if (stderr) json.severity = 'ERROR';
  }
  return JSON.stringify(json);
}

type Write = NodeJS.WriteStream['write'];

/** The text of a `write(chunk, encoding?)` call, or undefined for a chunk that is not text or bytes. */
function chunkText(chunk: unknown, encoding: unknown): string | undefined {
  if (typeof chunk === 'string') {
    return typeof encoding === 'string' && encoding !== 'utf8' && Buffer.isEncoding(encoding)
      ? Buffer.from(chunk, encoding).toString()
      : chunk;
  }
  if (chunk instanceof Uint8Array)
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString();
  return undefined;
}

/**
 * Replaces `stream.write` so that a chunk written inside a request becomes one tagged JSON line
 * (see executionLogLine; text gets `severity` INFO on stdout and ERROR on stderr). Chunks written
 * outside a request, and empty ones, pass through untouched. Returns the original `write`.
 */
function interceptWrite(
  stream: NodeJS.WriteStream,
  stderr: boolean,
  current: () => ExecutionTags | undefined,
): { original: Write; restore: () => void } {
  const original = stream.write;
  const call = original as (this: NodeJS.WriteStream, ...args: unknown[]) => boolean;
  const wrapped = function (...args: unknown[]): boolean {
    const tags = current();
    const [chunk, encoding, cb] = args;
    const text = tags ? chunkText(chunk, encoding) : undefined;
    if (!tags || !text) return call.apply(stream, args);
    const callback = typeof encoding === 'function' ? encoding : typeof cb === 'function' ? cb : undefined;
    const line = executionLogLine(text.replace(/\r?\n$/, ''), tags, stderr ? 'ERROR' : 'INFO', stderr);
    return call.call(stream, line + '\n', callback);
  } as Write;
  stream.write = wrapped;
  return {
    original,
    restore: () => {
      if (stream.write === wrapped) stream.write = original;
    },
  };
}

/**
 * Makes everything a request writes to stdout and stderr — console.* and raw
 * `process.stdout.write` alike — one JSON line tagged with the request's execution id and span id,
 * as Google's functions framework does under LOG_EXECUTION_ID (see executionLogLine); console
 * lines take their severity from the method. Lines written outside a request are left as they
 * are. Returns a function that restores console and the streams.
 */
export function installExecutionIdLogging(current: () => ExecutionTags | undefined): () => void {
  const out = interceptWrite(process.stdout, false, current);
  const err = interceptWrite(process.stderr, true, current);
  const originals = new Map<keyof typeof LEVELS, (...args: unknown[]) => void>();
  for (const method of Object.keys(LEVELS) as (keyof typeof LEVELS)[]) {
    const original = console[method].bind(console);
    originals.set(method, console[method]);
    const stderr = method === 'warn' || method === 'error';
    const stream = stderr ? process.stderr : process.stdout;
    const write = stderr ? err.original : out.original;
    console[method] = (...args: unknown[]) => {
      const tags = current();
      if (!tags) return original(...args);
      write.call(stream, executionLogLine(format(...args), tags, LEVELS[method], stderr) + '\n');
    };
  }
  return () => {
    for (const [m, fn] of originals) console[m] = fn;
    out.restore();
    err.restore();
  };
}
