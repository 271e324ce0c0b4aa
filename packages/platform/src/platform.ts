import { dirname, join, resolve } from 'node:path';
import { createLogger, type Logger } from '@sprout/observe';
import type { FunctionUpstream } from '@sprout/gateway';
import { ScalePaths, upstreamFor } from './upstream.js';
import { loadFunctions, SpecError, type LoadResult, type ResolvedFunction } from '@sprout/spec';
import { PlatformError } from './errors.js';
import { EventBus } from './events.js';
import type { InstanceInfo } from './instance.js';
import type { TriggerView } from './async-function.js';
import { LogTap } from './logs.js';

import { FunctionRunner, type RunnerStatus } from './runner.js';
import { StandbyPool } from './standby.js';
import { sourceOf } from './sources.js';
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
  /** Environment added for one function's instances (`sprout dev` gives async functions the Dapr API's address). */
  envFor?(def: ResolvedFunction): Record<string, string>;
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
  /** An async function's triggers: lag at the last poll and delivery counts, by trigger name. */
  triggers?: Record<string, TriggerView>;
}

/** A load error kept for the API: the other functions keep running. */
export interface Problem {
  code: string;
  message: string;
}

/** A function.yaml or folder that did not load and serves nothing: its path and why. */
export interface BrokenSource extends Problem {
  /** Absolute path of the file or folder (as given, resolved, when it does not exist). */
  source: string;
}

/** Where the functions served at start came from. */
export interface StartSources {
  /** `arguments`: the paths given; `registry`: what the data dir held; `cwd`: neither, so `.`. */
  from: 'arguments' | 'registry' | 'cwd';
  paths: string[];
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
  /** Functions whose replicas a lag scaler decides (the gateway's demand goes to it). */
  readonly scalePaths = new ScalePaths();
  private readonly store: RegistryStore;
  private readonly runners = new Map<string, FunctionRunner>();
  private readonly upstreamCache = new Map<string, FunctionUpstream>();
  private problemList: Problem[] = [];
  private triggerViews: ((name: string) => Record<string, TriggerView> | undefined) | undefined;
  /** Load errors by the source they are about (function.yaml, folder, package.json). */
  private readonly failed = new Map<string, Problem>();
  private readonly cwd: string;
  readonly started: StartSources;
  private readonly standby: StandbyPool | undefined;

  constructor(private readonly o: PlatformOptions) {
    this.logger = o.logger ?? createLogger({ name: 'platform' });
    this.cwd = o.cwd ?? process.cwd();
    this.store = new RegistryStore(o.dataDir);
    const standby = o.standby ?? 1;
    this.standby = standby > 0 ? new StandbyPool(standby, o.env ?? process.env) : undefined;
    const earlier = this.store.list();
    const given = o.paths?.length ? o.paths : undefined;
    this.started = given
      ? { from: 'arguments', paths: given }
      : earlier.length
        ? { from: 'registry', paths: earlier.map((s) => s.path) }
        : { from: 'cwd', paths: ['.'] };
    const store = join(o.dataDir, 'platform.db');
    if (this.started.from === 'registry') {
      this.logger.info(
        { functions: earlier.map((s) => s.name), store },
        `restoring ${earlier.length} function(s) registered earlier (no folder given; sprout dev --fresh starts clean)`,
      );
    }
    const result = loadFunctions(this.started.paths, this.cwd);
    const names = new Set(result.functions.map((f) => f.name));
    const replaced = given ? earlier.filter((s) => !names.has(s.name)).map((s) => s.name) : [];
    if (replaced.length) {
      this.logger.info(
        { functions: replaced, store },
        `the folders given replace ${replaced.length} function(s) registered earlier: ${replaced.join(', ')}`,
      );
    }
    this.store.replace(result.functions.map((f) => ({ name: f.name, path: f.file ?? f.dir, spec: f })));
    this.apply(result);
  }

  /**
   * Adds (or replaces) the functions in `paths`; returns what was loaded and what failed. With
   * `keepOthers`, a function whose name another source's function holds is refused as a duplicate
   * instead of replacing it (a broken source fixed on disk, not a registration asked for).
   */
  async register(paths: string[], options: { keepOthers?: boolean } = {}): Promise<LoadResult> {
    const result = loadFunctions(paths, this.cwd);
    if (options.keepOthers) {
      result.functions = result.functions.filter((f) => {
        const held = this.runners.get(f.name)?.def;
        const by = held && (held.file ?? held.dir);
        if (!by || by === (f.file ?? f.dir)) return true;
        result.errors.push(
          new SpecError(
            'SPROUT_ERR_SPEC_DUPLICATE_FUNCTION',
            `${f.file ?? f.dir}: function name "${f.name}" is already used by ${by}`,
          ),
        );
        return false;
      });
    }
    // What this load says about a source replaces what an earlier load said about it.
    const touched = new Set<string>();
    for (const f of result.functions) touched.add(f.dir).add(f.file ?? f.dir);
    for (const e of result.errors) touched.add(sourceOf(e.message, this.cwd) ?? '');
    const hit = (s: string | undefined) => s !== undefined && (touched.has(s) || touched.has(dirname(s)));
    this.problemList = this.problemList.filter((p) => !hit(sourceOf(p.message, this.cwd)));
    for (const s of [...this.failed.keys()]) if (hit(s)) this.failed.delete(s);
    for (const f of result.functions) {
      const old = this.runners.get(f.name);
      if (old) {
        this.runners.delete(f.name);
        this.upstreamCache.delete(f.name);
        await old.close();
      }
      this.store.put(f.name, f.file ?? f.dir, f);
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
    if (!b) this.upstreamCache.set(name, (b = upstreamFor(this.mustGet(name), this.scalePaths)));
    return b;
  }

  view(name: string): FunctionView {
    const r = this.mustGet(name);
    const d = r.def;
    const triggers = this.triggerViews?.(name);
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
      ...(triggers ? { triggers } : {}),
    };
  }

  /** Where `view()` reads an async function's triggers from (`sprout dev` sets it). */
  showTriggers(of: (name: string) => Record<string, TriggerView> | undefined): void {
    this.triggerViews = of;
  }

  /** Pre-started processes ready for the next cold start. */
  standbyReady(): number {
    return this.standby?.readyCount() ?? 0;
  }

  problems(): Problem[] {
    return [...this.problemList];
  }

  /** Sources that did not load and serve nothing (a running function's file that broke is not one). */
  broken(): BrokenSource[] {
    const running = new Set(this.definitions().flatMap((d) => [d.dir, d.file ?? d.dir]));
    return [...this.failed]
      .filter(([source]) => !running.has(source) && !running.has(dirname(source)))
      .map(([source, p]) => ({ source, ...p }));
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
    for (const err of result.errors) {
      const source = sourceOf(err.message, this.cwd);
      if (source) this.failed.set(source, { code: err.code, message: err.message });
      this.report(err);
    }
    for (const def of result.functions) {
      this.runners.set(
        def.name,
        new FunctionRunner(def, {
          host: this.o.host ?? '127.0.0.1',
          // Instances keep embedded state and their component folders under the platform's data dir.
          env: {
            ...(this.o.env ?? process.env),
            ...this.o.envFor?.(def),
            SPROUT_DATA_DIR: resolve(this.o.dataDir),
          },
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
