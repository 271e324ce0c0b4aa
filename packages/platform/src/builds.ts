import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseReference } from '@sprout/builder';
import type { ResolvedFunction } from '@sprout/spec';
import { PlatformError } from './errors.js';
import type { BuildJob, BuildMessage } from './build-worker.js';
import { BuildStore, DEFAULT_BUILD_STORE_LIMITS, type BuildStoreLimits } from './build-store.js';
import type { EventBus } from './events.js';

type BuildStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
type BuildOutputKind = 'store' | 'oci-layout' | 'docker-archive';

/** What `POST /v1/builds` asks for: a served function (by name, or by a folder inside one). */
export interface BuildRequest {
  function?: string | undefined;
  source?: string | undefined;
  tag?: string | undefined;
  output?: BuildOutputKind | undefined;
  env?: Record<string, string> | undefined;
  push?: boolean | undefined;
}

/** One line of a build's log: the lifecycle's phase headers and the buildpacks' output. */
export interface BuildLogLine {
  n: number;
  time: string;
  phase?: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

/** A build as the API shows it. */
export interface BuildView {
  id: string;
  function: string;
  source: string;
  tag: string;
  output: BuildOutputKind;
  push: boolean;
  status: BuildStatus;
  phase?: string;
  phases: { name: string; startedAt: string }[];
  startedAt: string;
  finishedAt?: string;
  digest?: string;
  /** Where the image was written besides the builder's store (`oci-layout` / `docker-archive`). */
  path?: string;
  error?: { code: string; message: string };
}

interface Build {
  view: BuildView;
  lines: BuildLogLine[];
  listeners: Set<(line: BuildLogLine | undefined) => void>;
  abort: AbortController;
  done: Promise<void>;
  /** Loaded from the history at start: its log is read from disk when followed. */
  stored?: boolean;
}

const MAX_LINES = 10_000;
const PHASES: Record<string, string> = {
  FETCHING: 'fetch',
  ANALYZING: 'analyze',
  DETECTING: 'detect',
  RESTORING: 'restore',
  BUILDING: 'build',
  EXPORTING: 'export',
  PUSHING: 'push',
};

/** The @sprout/framework package folder, which the Node.js buildpack copies into function images. */
function frameworkDir(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('@sprout/framework'));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** The build thread's module: the built one, reached from src/ and dist/ alike (a thread does not inherit a TypeScript loader). */
const BUILD_WORKER = new URL('../dist/build-worker.js', import.meta.url);

/** Runs `job` in a build thread (see build-worker.ts); its digest. `signal` cancels it. */
function runWorker(
  job: BuildJob,
  signal: AbortSignal,
  onLine: (text: string, stream?: 'stdout' | 'stderr') => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    // No flags of this process (a TypeScript loader, source conditions): the thread runs the built packages.
    const worker = new Worker(BUILD_WORKER, { workerData: { job }, execArgv: [] });
    const onAbort = () => worker.postMessage('abort');
    signal.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const finish = (end: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      void worker.terminate();
      end();
    };
    worker.on('message', (m: BuildMessage) => {
      if (m.t === 'line') onLine(m.text, m.stream);
      else if (m.t === 'done') finish(() => resolve(m.digest));
      else finish(() => reject(Object.assign(new Error(m.message), m.code ? { code: m.code } : {})));
    });
    worker.once('error', (err) => finish(() => reject(err)));
    worker.once('exit', (code) =>
      finish(() => reject(new Error(`the build thread exited with ${code} before the build ended`))),
    );
  });
}

export interface BuildManagerOptions {
  dataDir: string;
  events: EventBus;
  /** The functions `sprout dev` serves: the only sources a build may take. */
  functions: () => ResolvedFunction[];
  /** How much build history `<dataDir>/build-history/` keeps (default: 50 finished builds, 4 MiB of log each). */
  history?: Partial<BuildStoreLimits>;
}

/**
 * Source-to-image builds under `sprout dev` (`/v1/builds`): the builder's lifecycle run on a served
 * function's folder, one build per function at a time, the log kept for followers, phases and the
 * outcome on the event stream. A cancelled or failed build leaves nothing it wrote but the log.
 */
export class BuildManager {
  private readonly builds = new Map<string, Build>();
  private readonly store: BuildStore;

  /** Loads the builds earlier runs kept (`<dataDir>/build-history/`); one cut short by a kill shows as interrupted. */
  constructor(private readonly o: BuildManagerOptions) {
    this.store = new BuildStore(join(o.dataDir, 'build-history'), {
      ...DEFAULT_BUILD_STORE_LIMITS,
      ...o.history,
    });
    for (const view of this.store.load())
      this.builds.set(view.id, {
        view,
        lines: [],
        listeners: new Set(),
        abort: new AbortController(),
        done: Promise.resolve(),
        stored: true,
      });
    this.prune();
  }

  /** Starts a build; refuses a source no served function holds and a second build of one function. */
  start(req: BuildRequest): BuildView {
    const def = this.functionOf(req);
    const running = [...this.builds.values()].find(
      (b) => b.view.function === def.name && b.view.status === 'running',
    );
    if (running)
      throw new PlatformError(
        'SPROUT_ERR_PLATFORM_BUILD_RUNNING',
        `build ${running.view.id} of ${def.name} is running; wait for it or cancel it (DELETE /v1/builds/${running.view.id})`,
        409,
      );
    const manifestImage = (def.manifest?.spec as { image?: string } | undefined)?.image;
    const tag = req.tag ?? manifestImage ?? `localhost/sprout/${def.name}:dev`;
    try {
      parseReference(tag);
    } catch (err) {
      throw new PlatformError(
        'SPROUT_ERR_PLATFORM_INVALID_REQUEST',
        `field "tag": ${(err as Error).message}`,
      );
    }
    const id = `b-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const output = req.output ?? 'store';
    const outDir = join(this.o.dataDir, 'builds', id);
    const view: BuildView = {
      id,
      function: def.name,
      source: def.dir,
      tag,
      output,
      push: Boolean(req.push),
      status: 'running',
      phases: [],
      startedAt: new Date().toISOString(),
    };
    const build: Build = {
      view,
      lines: [],
      listeners: new Set(),
      abort: new AbortController(),
      done: Promise.resolve(),
    };
    try {
      this.store.save(view);
    } catch (err) {
      throw new PlatformError(
        'SPROUT_ERR_PLATFORM_STORE',
        `cannot record the build under ${this.o.dataDir} (${(err as Error).message}); make the data dir writable`,
        500,
      );
    }
    this.builds.set(id, build);
    this.prune();
    this.o.events.emit('build.started', { function: def.name, build: id, tag });
    build.done = this.run(build, def, req, outDir);
    return { ...view };
  }

  list(): BuildView[] {
    return [...this.builds.values()].map((b) => ({ ...b.view })).reverse();
  }

  get(id: string): BuildView {
    return { ...this.mustGet(id).view };
  }

  /** Cancels a running build (its processes killed, what it wrote removed) and waits for it to end. */
  async cancel(id: string): Promise<BuildView> {
    const build = this.mustGet(id);
    if (build.view.status === 'running') {
      build.abort.abort();
      await build.done;
    }
    return { ...build.view };
  }

  /**
   * The lines held, then each new one, until the build ends (`line` undefined). Returns the
   * unsubscribe function.
   */
  follow(id: string, listener: (line: BuildLogLine | undefined) => void): () => void {
    const build = this.mustGet(id);
    for (const l of build.stored ? this.store.readLog(id) : build.lines) listener(l);
    if (build.view.status !== 'running') {
      listener(undefined);
      return () => undefined;
    }
    build.listeners.add(listener);
    return () => build.listeners.delete(listener);
  }

  /** Cancels every running build and waits for them. */
  async close(): Promise<void> {
    await Promise.all([...this.builds.values()].map((b) => (b.abort.abort(), b.done)));
  }

  private mustGet(id: string): Build {
    const build = this.builds.get(id);
    if (!build)
      throw new PlatformError(
        'SPROUT_ERR_PLATFORM_UNKNOWN_BUILD',
        `no build ${id}; GET /v1/builds lists them`,
        404,
      );
    return build;
  }

  /** Drops the oldest finished builds beyond the limit: record, log and output folder. */
  private prune(): void {
    for (const id of this.store.overLimit([...this.builds.values()].map((b) => b.view))) {
      this.builds.delete(id);
      this.store.remove(id);
      rmSync(join(this.o.dataDir, 'builds', id), { recursive: true, force: true });
    }
  }

  /** The served function the request names, by name or by a folder inside its folder (symlinks resolved). */
  private functionOf(req: BuildRequest): ResolvedFunction {
    const defs = this.o.functions();
    if (req.function !== undefined) {
      const def = defs.find((d) => d.name === req.function);
      if (!def)
        throw new PlatformError(
          'SPROUT_ERR_PLATFORM_UNKNOWN_FUNCTION',
          `no function ${req.function} is served; GET /v1/functions lists them`,
          404,
        );
      return def;
    }
    const refuse = () =>
      new PlatformError(
        'SPROUT_ERR_PLATFORM_BUILD_SOURCE',
        'field "source": only the folder of a function sprout dev serves (or a folder inside it) can be built; name the function instead',
        403,
      );
    if (typeof req.source !== 'string' || !isAbsolute(req.source) || req.source.includes('\0'))
      throw refuse();
    let real: string;
    try {
      real = realpathSync(req.source);
    } catch {
      throw refuse();
    }
    const def = defs.find((d) => {
      try {
        const rel = relative(realpathSync(d.dir), real);
        return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
      } catch {
        return false;
      }
    });
    if (!def) throw refuse();
    return def;
  }

  private log(build: Build, text: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    const header = /^===> ([A-Z]+)/.exec(text);
    const phase = header ? (PHASES[header[1]!] ?? header[1]!.toLowerCase()) : undefined;
    if (phase) {
      build.view.phase = phase;
      build.view.phases.push({ name: phase, startedAt: new Date().toISOString() });
      this.store.keep(build.view);
      this.o.events.emit('build.phase', { function: build.view.function, build: build.view.id, phase });
    }
    const line: BuildLogLine = { n: build.lines.length + 1, time: new Date().toISOString(), stream, text };
    if (build.view.phase) line.phase = build.view.phase;
    if (build.lines.length < MAX_LINES) {
      build.lines.push(line);
      this.store.appendLog(build.view.id, line);
    }
    for (const l of build.listeners) l(line);
  }

  private async run(build: Build, def: ResolvedFunction, req: BuildRequest, outDir: string): Promise<void> {
    const { view } = build;
    const signal = build.abort.signal;
    const output =
      view.output === 'oci-layout'
        ? ({ type: 'oci-layout', dir: join(outDir, 'oci') } as const)
        : view.output === 'docker-archive'
          ? ({ type: 'docker-archive', file: join(outDir, 'image.tar') } as const)
          : undefined;
    try {
      view.digest = await runWorker(
        {
          source: def.dir,
          tag: view.tag,
          dataDir: this.o.dataDir,
          env: { ...def.build?.env, ...req.env },
          frameworkDir: frameworkDir(),
          function: {
            ...(def.target ? { target: def.target } : {}),
            ...(def.signatureType ? { signatureType: def.signatureType } : {}),
          },
          ...(output ? { output } : {}),
          push: view.push,
        },
        signal,
        (text, stream) => this.log(build, text, stream),
      );
      signal.throwIfAborted();
      if (output) view.path = output.type === 'oci-layout' ? output.dir : output.file;
      view.status = 'succeeded';
      this.o.events.emit('build.finished', {
        function: view.function,
        build: view.id,
        tag: view.tag,
        digest: view.digest,
      });
    } catch (err) {
      rmSync(outDir, { recursive: true, force: true });
      delete view.digest;
      const cancelled = signal.aborted;
      view.status = cancelled ? 'cancelled' : 'failed';
      const e = err as { code?: string; message?: string };
      view.error = cancelled
        ? { code: 'SPROUT_ERR_PLATFORM_BUILD_CANCELLED', message: 'the build was cancelled' }
        : { code: e.code ?? 'SPROUT_ERR_PLATFORM_INTERNAL', message: e.message ?? String(err) };
      this.log(build, `build ${view.status}: ${view.error.message}`, 'stderr');
      this.o.events.emit('build.failed', {
        function: view.function,
        build: view.id,
        cancelled,
        code: view.error.code,
        error: view.error.message,
      });
    } finally {
      view.finishedAt = new Date().toISOString();
      delete view.phase;
      this.store.keep(view);
      this.prune();
      for (const l of build.listeners) l(undefined);
      build.listeners.clear();
    }
  }
}
