import { format } from 'node:util';

const LEVELS = { log: 'INFO', info: 'INFO', debug: 'DEBUG', warn: 'WARNING', error: 'ERROR' } as const;
/** Where Google's framework (and Cloud Logging) puts the execution id: a label. */
const LABELS = 'logging.googleapis.com/labels';
// Terminal colour and cursor sequences, dropped before a line is tried as JSON (as Google's framework does).
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b[[(?);]{0,2}(;?\d)*./g;

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
 * One log line with the execution id, in Google's functions framework shape: a text line becomes
 * `{"message", "severity", "logging.googleapis.com/labels": {"execution_id"}}`; a line that is
 * itself a JSON object keeps its fields and gains the label (other labels kept, an existing
 * execution_id replaced) and, on stderr, `severity: "ERROR"` when it has none.
 */
export function executionLogLine(
  text: string,
  executionId: string,
  severity: string,
  stderr: boolean,
): string {
  const json = asJsonObject(text);
  if (!json) return JSON.stringify({ message: text, severity, [LABELS]: { execution_id: executionId } });
  const labels = json[LABELS];
  json[LABELS] = {
    ...(labels && typeof labels === 'object' && !Array.isArray(labels) ? labels : {}),
    execution_id: executionId,
  };
  if (stderr && json.severity === undefined) json.severity = 'ERROR';
  return JSON.stringify(json);
}

/**
 * Makes console.* inside a request write one JSON line with the request's execution id, as
 * Google's functions framework does under LOG_EXECUTION_ID (see executionLogLine). Lines written
 * outside a request are left as they are. Returns a function that restores console.
 */
export function installExecutionIdLogging(current: () => string | undefined): () => void {
  const originals = new Map<keyof typeof LEVELS, (...args: unknown[]) => void>();
  for (const method of Object.keys(LEVELS) as (keyof typeof LEVELS)[]) {
    const original = console[method].bind(console);
    originals.set(method, console[method]);
    const stderr = method === 'warn' || method === 'error';
    const stream = stderr ? process.stderr : process.stdout;
    console[method] = (...args: unknown[]) => {
      const id = current();
      if (!id) return original(...args);
      stream.write(executionLogLine(format(...args), id, LEVELS[method], stderr) + '\n');
    };
  }
  return () => {
    for (const [m, fn] of originals) console[m] = fn;
  };
}
