// A broker of the test's own (Redis, NATS JetStream, Mosquitto, RabbitMQ) on a free port with its data
// in a temp folder, so a test can stop and restart it mid-stream without touching the machine's shared
// brokers that other test files use. The data folder outlives a restart: what the broker persisted
// comes back.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@sprout/http/testing';

export type BrokerKind = 'redis' | 'nats' | 'mosquitto' | 'rabbitmq';

interface Launch {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

/** What a test adds to a broker's configuration (Mosquitto: lines of its listener, such as TLS). */
export interface BrokerExtras {
  mosquittoListener?: string[];
  /** Lines added to the RabbitMQ node's rabbitmq.conf for a TLS listener on `tlsPort` (picked free). */
  rabbitmqTls?: (tlsPort: number) => string[];
}

/** How each broker is started on `port` with its data in `dir` (persistence on). */
const launchers: Record<
  BrokerKind,
  (port: number, dir: string, extras: BrokerExtras, tlsPort: number) => Launch
> = {
  // appendonly: a restarted Redis without persistence starts empty (streams, groups and all).
  redis: (port, dir) => ({
    command: 'redis-server',
    args: ['--port', `${port}`, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir],
  }),
  nats: (port, dir) => ({
    command: 'nats-server',
    args: ['-a', '127.0.0.1', '-p', `${port}`, '-js', '-sd', dir],
  }),
  mosquitto: (port, dir, extras) => {
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [
        `listener ${port} 127.0.0.1`,
        ...(extras.mosquittoListener ?? []),
        'allow_anonymous true',
        'persistence true',
        `persistence_location ${dir}/`,
        'autosave_interval 1',
        // Mosquitto started as root drops to the user `mosquitto`, which could not write this folder.
        `user ${userInfo().username}`,
        '',
      ].join('\n'),
    );
    return { command: 'mosquitto', args: ['-c', conf] };
  },
  // A second node beside the machine's: its own name, ports, config and data; no plugins.
  rabbitmq: (port, dir, extras, tlsPort) => {
    const conf = join(dir, 'rabbitmq.conf');
    const lines = [
      `listeners.tcp.local = 127.0.0.1:${port}`,
      'loopback_users = none',
      ...(extras.rabbitmqTls?.(tlsPort) ?? []),
    ];
    writeFileSync(conf, `${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
    return {
      command: 'rabbitmq-server',
      args: [],
      env: {
        RABBITMQ_NODENAME: `sprout-test-${port}@localhost`,
        RABBITMQ_NODE_PORT: `${port}`,
        RABBITMQ_DIST_PORT: `${port + 1}`,
        RABBITMQ_CONFIG_FILE: conf,
        RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
        RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
        RABBITMQ_LOG_BASE: join(dir, 'log'),
        RABBITMQ_PID_FILE: join(dir, 'pid'),
        RABBITMQ_LOGS: '-',
        HOME: dir, // the node's Erlang cookie goes here, not into the user's home
      },
    };
  },
};

/** Where Debian's rabbitmq-server package keeps the start script its wrapper calls. */
const RABBIT_SCRIPT = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/** How long a start may take: a RabbitMQ node boots in seconds, the others in well under one. */
const START_MS: Record<BrokerKind, number> = {
  redis: 10_000,
  nats: 10_000,
  mosquitto: 10_000,
  rabbitmq: 90_000,
};

export class PrivateBroker {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly kind: BrokerKind,
    readonly port: number,
    readonly dir: string,
    private readonly extras: BrokerExtras,
    /** The TLS listener's port (RabbitMQ with `rabbitmqTls`), else 0. */
    readonly tlsPort: number,
  ) {}

  /** Starts a broker of `kind` on a free port; `close()` stops it and removes its data. */
  static async start(kind: BrokerKind, extras: BrokerExtras = {}): Promise<PrivateBroker> {
    const dir = mkdtempSync(join(tmpdir(), `sprout-${kind}-`));
    if (kind !== 'rabbitmq') {
      const b = new PrivateBroker(kind, await freePort(), dir, extras, 0);
      await b.boot();
      return b;
    }
    // RabbitMQ's port, the one after it (Erlang distribution) and a TLS port must be free, and stay
    // so until the node has bound them: nodes of test files running at once start one at a time.
    // Another process can still take a port between the check and the node binding it: a start
    // that fails on a port in use is tried again on other ports.
    return rabbitStartLock(async () => {
      for (let attempt = 1; ; attempt++) {
        let port = await freePort();
        while (!(await isFree(port + 1))) port = await freePort();
        let tlsPort = 0;
        if (extras.rabbitmqTls) while (tlsPort === 0 || tlsPort === port + 1) tlsPort = await freePort();
        const b = new PrivateBroker(kind, port, dir, extras, tlsPort);
        try {
          await b.boot();
          return b;
        } catch (err) {
          if (attempt >= 3 || !/already_used|eaddrinuse/i.test(String(err))) throw err;
        }
      }
    });
  }

  /** `host:port` on 127.0.0.1. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Whether the broker process is running. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the broker again on the same port and data folder; resolves once it takes connections. */
  up(): Promise<void> {
    return this.kind === 'rabbitmq' ? rabbitStartLock(() => this.boot()) : this.boot();
  }

  private async boot(): Promise<void> {
    if (this.running) throw new Error(`${this.kind} is already running`);
    const l = launchers[this.kind](this.port, this.dir, this.extras, this.tlsPort);
    // The RabbitMQ package's wrapper (rabbitmq-server on the PATH) runs the node as the user
    // rabbitmq, who cannot write this folder: run the script behind it, as whoever runs the test.
    const command = this.kind === 'rabbitmq' && existsSync(RABBIT_SCRIPT) ? RABBIT_SCRIPT : l.command;
    const child = spawn(command, l.args, {
      env: { ...process.env, ...l.env },
      cwd: this.dir, // where a node that fails to start writes erl_crash.dump
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: a kill reaches the broker's helpers too
    });
    this.child = child;
    this.output = '';
    const keep = (d: Buffer) => (this.output = (this.output + d.toString()).slice(-4000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) =>
        reject(new Error(`${this.kind}: ${l.command} did not start: ${err.message}`)),
      );
      child.once('exit', (code, signal) =>
        reject(new Error(`${this.kind} exited (${code ?? signal}) while starting: ${this.output}`)),
      );
    });
    failed.catch(() => undefined);
    try {
      await Promise.race([failed, this.listening(this.port, START_MS[this.kind])]);
      if (this.tlsPort) await Promise.race([failed, this.listening(this.tlsPort, START_MS[this.kind])]);
    } catch (err) {
      this.killGroup(); // nothing of a start that failed is left running
      throw err;
    }
  }

  /** Stops the broker: SIGTERM (it shuts down cleanly) or SIGKILL (the whole process group at once). */
  async down(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = once(child, 'exit');
    if (signal === 'SIGKILL') process.kill(-child.pid!, 'SIGKILL');
    else child.kill('SIGTERM');
    const late = setTimeout(() => this.killGroup(), 30_000);
    await exited;
    clearTimeout(late);
    if (signal === 'SIGTERM') this.killGroup(); // helpers left behind (Erlang's port programs)
    await this.closed();
  }

  /** Stops the broker (SIGKILL) and removes its data folder. */
  async close(): Promise<void> {
    await this.down('SIGKILL').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private killGroup(): void {
    try {
      process.kill(-this.child!.pid!, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  }

  /** Resolves once `port` takes a TCP connection. */
  private async listening(port: number, ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (!(await canConnect(port))) {
      if (Date.now() > end) throw new Error(`${this.kind} on ${port} not listening after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resolves once nothing listens on the port any more. */
  private async closed(): Promise<void> {
    const end = Date.now() + 10_000;
    while (await canConnect(this.port)) {
      if (Date.now() > end) throw new Error(`${this.kind} still listening on ${this.port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Runs `fn` holding a machine-wide lock (a folder in the temp dir; one left by a dead process is
 * taken over), so RabbitMQ nodes of test files running at once pick their ports and boot in turn.
 */
async function rabbitStartLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = join(tmpdir(), 'sprout-private-rabbitmq.lock');
  const end = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      const holder = Number(readOr(join(lock, 'pid'), ''));
      if (holder && !alive(holder)) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > end) throw new Error(`another test holds ${lock}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function isFree(port: number): Promise<boolean> {
  return !(await canConnect(port));
}
