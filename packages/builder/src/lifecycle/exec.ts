import { spawn } from 'node:child_process';

/** Where the lifecycle's progress and the buildpacks' output go, one line at a time. */
export interface Logs {
  line(text: string, stream?: 'stdout' | 'stderr'): void;
}

/** The last lines a process wrote, kept for the error when it fails. */
const TAIL_LINES = 20;

export interface ExecResult {
  code: number;
  signal: NodeJS.Signals | null;
  /** Its last lines of output (stdout and stderr interleaved). */
  tail: string[];
}

export interface ExecOptions {
  cwd: string;
  env: Record<string, string>;
  logs: Logs;
  /** Prefix of every line streamed, e.g. `[sprout/node] `. */
  prefix: string;
  signal?: AbortSignal;
}

/**
 * Runs a program without a shell, streaming its stdout and stderr line by line (prefixed) as they
 * come, and settles with its exit code and the tail of its output.
 */
export function execStreaming(file: string, args: string[], opts: ExecOptions): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const tail: string[] = [];
    const pipe = (stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr') => {
      let rest = '';
      const emit = (text: string) => {
        opts.logs.line(`${opts.prefix}${text}`, name);
        tail.push(text);
        if (tail.length > TAIL_LINES) tail.shift();
      };
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        rest += chunk;
        let nl;
        while ((nl = rest.indexOf('\n')) >= 0) {
          emit(rest.slice(0, nl).replace(/\r$/, ''));
          rest = rest.slice(nl + 1);
        }
        // A line with no end is still shown once it is long.
        if (rest.length > 64 * 1024) {
          emit(rest);
          rest = '';
        }
      });
      stream.on('end', () => {
        if (rest) emit(rest);
      });
    };
    pipe(child.stdout, 'stdout');
    pipe(child.stderr, 'stderr');
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? -1, signal, tail }));
  });
}
