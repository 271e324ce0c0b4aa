// `@sprout/platform/testing`: a real `sprout dev` process for the tests that need one of its own
// (a crash, a kill, a restart on the same data dir), here and in the CLI. It is started with JSON
// logs on free loopback ports, without watching, and read through the lines it logs.
import { spawn, type ChildProcess } from 'node:child_process';

/** One JSON log line of `sprout dev`. */
export type DevLogLine = Record<string, unknown> & { msg?: string };

export interface DevProcessOptions {
  /** The CLI's `bin/sprout.js` (the platform does not know where the CLI is). */
  bin: string;
  /** The working directory (the repository root, where relative paths in `args` start). */
  cwd: string;
  /** What follows `sprout dev`: the functions' folder and any flags beyond the ports, host and --no-watch. */
  args: string[];
  /** In a process group of its own, so a kill of the group takes its builds and instances with it. */
  detached?: boolean;
}

export interface DevProcess {
  child: ChildProcess;
  /** Every JSON line it has logged so far. */
  lines: DevLogLine[];
  /** The platform API's URL and token (from its `platform API` line). */
  api: string;
  token: string;
  /**
   * The first line from index `after` on that `accepts`; rejects when the process exits first, or
   * after `ms` without one.
   */
  waitLog(
    accepts: (l: DevLogLine) => boolean,
    what: string,
    after?: number,
    ms?: number,
  ): Promise<DevLogLine>;
  /** The REST API with the token: status and JSON body. */
  call(path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }>;
}

/** Starts `sprout dev ARGS --port 0 --api-port 0 --host 127.0.0.1 --no-watch`; resolves once its API is up. */
export async function startDevProcess(o: DevProcessOptions): Promise<DevProcess> {
  const child = spawn(
    process.execPath,
    [o.bin, 'dev', ...o.args, '--port', '0', '--api-port', '0', '--host', '127.0.0.1', '--no-watch'],
    {
      cwd: o.cwd,
      detached: o.detached ?? false,
      env: { ...process.env, SPROUT_LOG_FORMAT: 'json', NODE_OPTIONS: '' },
    },
  );
  const lines: DevLogLine[] = [];
  let buf = '';
  child.stderr!.on('data', (c: Buffer) => {
    buf += c.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as DevLogLine);
  });
  const waitLog: DevProcess['waitLog'] = async (accepts, what, after = 0, ms = 60_000) => {
    const end = Date.now() + ms;
    for (;;) {
      const hit = lines.slice(after).find(accepts);
      if (hit) return hit;
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(
          `sprout dev exited (${child.exitCode ?? child.signalCode}) while waiting for ${what}: ` +
            lines.map((l) => l.msg).join('\n'),
        );
      if (Date.now() > end) throw new Error(`no log line for ${what} in ${ms} ms: ${JSON.stringify(lines)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const started = await waitLog((l) => l.msg === 'platform API', 'the platform API').catch((err: unknown) => {
    // Not left behind: with `detached` the whole group.
    try {
      if (o.detached) process.kill(-child.pid!, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      // already gone
    }
    throw err;
  });
  const api = String(started.url);
  const token = String(started.token);
  return {
    child,
    lines,
    api,
    token,
    waitLog,
    async call(path, init = {}) {
      const r = await fetch(`${api}${path}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
      });
      const text = await r.text();
      return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
  };
}
