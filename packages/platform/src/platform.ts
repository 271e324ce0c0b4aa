import { resolve } from 'node:path';
import { createLogger, type Logger } from '@sprout/observe';
import type { FunctionUpstream } from '@sprout/gateway';
import { upstreamFor } from './upstream.js';
import { loadFunctions, type LoadResult, type ResolvedFunction } from '@sprout/spec';
import { PlatformError } from './errors.js';
import { EventBus } from './events.js';
import type { InstanceInfo } from './instance.js';
import { LogTap } from './logs.js';

import { FunctionRunner, type RunnerStatus } from './runner.js';
import { StandbyPool } from './standby.js';
import { RegistryStore } from './store.js';

export interface PlatformOptions {
  /** Folders and function.yaml files; empty restores what the data dir holds (else `.`). */
  paths?: string[];
  cwd?: string;
  /** Where the registry is persisted (SQLite). */
  dataDir: string;
  logger?: Logger;
  /** Address instances listen on (default 127.0.0.1). */
  host?: string;
  /** Environment for instances (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Instances reload a function when its files change (framework `--watch`). */
  watch?: boolean;
  /** Pre-started processes kept ready for cold starts (default 1; 0 spawns every instance afresh). */
  standby?: number;
}

/** A function as the API shows it. */
export interface FunctionView extends RunnerStatus {
  name: string;
  namespace: string;
  source: string;
  file?: string;
  engine: ResolvedFunction['engine'];
  routes: ResolvedFunction['routes'];
  scaling: ResolvedFunction['scaling'];
  instances: InstanceInfo[];
}

/** A load error kept for the API: the other functions keep running. */
export interface Problem {
  code: string;
  message: string;
}

/**
 * The control plane on one machine: the function registry (persisted), one supervisor per function
 * and the event bus. The gateway reaches functions through `upstreams()`.
 *
 * @example
 * const platform = createPlatform({ paths: ['examples/hello'], dataDir: '.sprout' });
 * platform.runner('hello')?.scaleTo(1, 'warm up');
 * await platform.close();
 */
export function createPlatform(options: PlatformOptions): Platform {
  return new Platform(options);
}

export class Platform {
  readonly events = new EventBus();
  /** Every instance's output lines: the last 1,000 per function, and live for the collector. */
  readonly logs = new LogTap();
  readonly logger: Logger;
  private readonly store: RegistryStore;
  private readonly runners = new Map<string, FunctionRunner>();
  private readonly upstreamCache = new Map<string, FunctionUpstream>();
  private problemList: Problem[] = [];
  private readonly cwd: string;
  private readonly standby: StandbyPool | undefined;

  constructor(private readonly o: PlatformOptions) {
    this.logger = o.logger ?? createLogger({ name: 'platform' });
    this.cwd = o.cwd ?? process.cwd();
    this.store = new RegistryStore(o.dataDir);
    const standby = o.standby ?? 1;
    this.standby = standby > 0 ? new StandbyPool(standby, o.env ?? process.env) : undefined;
    const paths = o.paths?.length ? o.paths : this.store.list().map((s) => s.path);
    const result = loadFunctions(paths.length ? paths : ['.'], this.cwd);
    this.store.replace(result.functions.map((f) => ({ name: f.name, path: f.file ?? f.dir, spec: f })));
    this.apply(result);
  }

  /** Adds (or replaces) the functions in `paths`; returns what was loaded and what failed. */
  async register(paths: string[]): Promise<LoadResult> {
    const result = loadFunctions(paths, this.cwd);
    for (const f of result.functions) {
      const old = this.runners.get(f.name);
      if (old) {
        this.runners.delete(f.name);
        this.upstreamCache.delete(f.name);
        await old.close();
      }
      this.store.put(f.name, f.file ?? f.dir, f);
      // A file that loads again is no longer a problem.
      this.problemList = this.problemList.filter((p) => !p.message.startsWith(`${f.file ?? f.dir}:`));
    }
    this.apply(result);
    return result;
  }

  /** Stops a function's instances and forgets it. */
  async unregister(name: string): Promise<void> {
    const runner = this.mustGet(name);
    this.runners.delete(name);
    this.upstreamCache.delete(name);
    this.store.delete(name);
    this.events.emit('function.unregistered', { function: name });
    await runner.close();
    this.logs.forget(name);
  }

  names(): string[] {
    return [...this.runners.keys()].sort();
  }

  runner(name: string): FunctionRunner | undefined {
    return this.runners.get(name);
  }

  mustGet(name: string): FunctionRunner {
    const r = this.runners.get(name);
    if (!r)
      throw new PlatformError('SPROUT_ERR_PLATFORM_UNKNOWN_FUNCTION', `no function named "${name}"`, 404);
    return r;
  }

  definitions(): ResolvedFunction[] {
    return this.names().map((n) => this.runners.get(n)!.def);
  }

  /** The gateway's upstream (ready instances, scaleTo) of each function. */
  upstreams(): FunctionUpstream[] {
    return this.names().map((n) => this.upstream(n));
  }

  upstream(name: string): FunctionUpstream {
    let b = this.upstreamCache.get(name);
    if (!b) this.upstreamCache.set(name, (b = upstreamFor(this.mustGet(name))));
    return b;
  }

  view(name: string): FunctionView {
    const r = this.mustGet(name);
    const d = r.def;
    return {
      name: d.name,
      namespace: d.namespace,
      source: d.dir,
      ...(d.file ? { file: d.file } : {}),
      engine: d.engine,
      routes: d.routes,
      scaling: d.scaling,
      ...r.status(),
      instances: r.instances(),
    };
  }

  /** Pre-started processes ready for the next cold start. */
  standbyReady(): number {
    return this.standby?.readyCount() ?? 0;
  }

  problems(): Problem[] {
    return [...this.problemList];
  }

  /** Records a problem found outside loading (e.g. a route conflict): logged, evented, listed. */
  report(err: { code: string; message: string }): void {
    if (this.problemList.some((p) => p.message === err.message)) return;
    this.problemList.push({ code: err.code, message: err.message });
    this.logger.error({ code: err.code }, err.message);
    this.events.emit('function.failed', { code: err.code, error: err.message });
  }

  /** Drains and stops every instance, then closes the store. */
  async close(): Promise<void> {
    this.standby?.close();
    await Promise.all([...this.runners.values()].map((r) => r.close()));
    this.runners.clear();
    this.store.close();
  }

  private apply(result: LoadResult): void {
    for (const err of result.errors) this.report(err);
    for (const def of result.functions) {
      this.runners.set(
        def.name,
        new FunctionRunner(def, {
          host: this.o.host ?? '127.0.0.1',
          // Instances keep embedded state and their component folders under the platform's data dir.
          env: { ...(this.o.env ?? process.env), SPROUT_DATA_DIR: resolve(this.o.dataDir) },
          logger: this.logger,
          events: this.events,
          logs: this.logs,
          ...(this.o.watch ? { watch: true } : {}),
          ...(this.standby ? { standby: this.standby } : {}),
        }),
      );
      this.events.emit('function.registered', { function: def.name, path: def.file ?? def.dir });
    }
  }
}
