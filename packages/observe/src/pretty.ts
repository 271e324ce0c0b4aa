import type { DestinationStream } from 'pino';

const colours: Record<string, string> = {
  trace: '\x1b[90m',
  debug: '\x1b[36m',
  info: '\x1b[32m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
  fatal: '\x1b[35m',
};
const skip = new Set(['level', 'time', 'msg', 'component', 'pid', 'hostname']);

/** Turns pino's JSON lines into `HH:MM:SS level component message key=value` lines. */
export function prettyStream(out: NodeJS.WritableStream | DestinationStream): DestinationStream {
  return {
    write(line: string) {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      const level = String(rec.level ?? 'info');
      const time = typeof rec.time === 'string' ? rec.time.slice(11, 19) : '';
      const fields = Object.entries(rec)
        .filter(([k]) => !skip.has(k))
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      const comp = rec.component ? `[${String(rec.component)}] ` : '';
      out.write(
        `${time} ${colours[level] ?? ''}${level.padEnd(5)}\x1b[0m ${comp}${String(rec.msg ?? '')}${fields ? ' ' + fields : ''}\n`,
      );
    },
  };
}
