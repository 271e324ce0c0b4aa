import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { answerClientErrors, applyServerLimits, refuseHostless } from '@sprout/http';
import type { Logger } from '@sprout/observe';
import type { Registry } from '@sprout/observe/metrics';
import { loadResources, resolveMetadata, type ResolvedFunction, type Resources } from '@sprout/spec';
import type * as TriggersModule from '@sprout/triggers';
import type {
  DaprApiServer,
  InputBindingEngine,
  LagMetrics,
  OutputBindingEngine,
  PubSubEngine,
  ResiliencyPolicies,
} from '@sprout/triggers';
import type { AsyncFunction } from './async-function.js';
import type { Platform } from './platform.js';
import { deliveryDurationText, registerDeliveryMetrics } from './trigger-metrics.js';

type Engine = PubSubEngine | InputBindingEngine | OutputBindingEngine;
/** @sprout/triggers (brokers' clients and all) is loaded the first time something needs it. */
type Triggers = typeof TriggersModule;

export interface AsyncHostOptions {
  logger: Logger;
  /** The platform API's token: the Dapr API asks for it in `dapr-api-token`, instances get it as DAPR_API_TOKEN. */
  token: string;
  /** Dapr publish/bindings API port on 127.0.0.1 (0 picks one). */
  port: number;
  /** `--resources-path`: Dapr Components (and Subscriptions) beside the functions' own. */
  resourcesPath?: string;
  /** `--data-dir`: input bindings keep their records under `triggers/` (bindings.cron: its last fired tick). */
  dataDir?: string;
  metrics: Registry;
  env: NodeJS.ProcessEnv;
}

/** Whether the function's components include inputs or outputs (its engines are opened). */
const usesDapr = (def: ResolvedFunction) =>
  Boolean(def.triggers?.inputs.length || Object.keys(def.context.outputs ?? {}).length);

/**
 * State stores a function uses without declaring their component: the framework sends those to the
 * sidecar when DAPR_HTTP_PORT is set, and sprout dev's Dapr API has no state routes.
 */
const undeclaredStates = (def: ResolvedFunction) =>
  Object.values(def.context.states ?? {})
    .map((ref) => ref.componentName)
    .filter((name) => !def.components.some((c) => c.metadata.name === name));

/**
 * The async half of `sprout dev`: the Dapr publish/bindings API (one listener; the components of
 * every function behind it) and, per async function, an `AsyncFunction` (deliveries and the lag
 * scaler). Follows the platform's registrations; a function whose triggers cannot start (a
 * component type with no local engine, a broker that does not answer) is reported and the others
 * keep running.
 */
export class AsyncHost {
  private readonly engines = new Map<string, { key: string; engine: Promise<Engine> }>();
  private readonly functions = new Map<string, AsyncFunction>();
  private readonly resources: Resources;
  private readonly undo = new Map<string, () => void>();
  private lagMetrics: LagMetrics | undefined;
  private triggersModule: Promise<Triggers> | undefined;
  private loaded: Triggers | undefined;
  private api: DaprApiServer | undefined;
  /** Outbound Resiliency policies of the shared Dapr API (its circuit breakers live as long as sprout dev). */
  private outbound: ResiliencyPolicies | undefined;
  private platform: Platform | undefined;
  private syncing: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  private constructor(
    private readonly o: AsyncHostOptions,
    private readonly server: Server,
    readonly port: number,
    resources: Resources,
  ) {
    this.resources = resources;
    registerDeliveryMetrics(
      o.metrics,
      () => this.counts(),
      () => [...this.functions].map(([name, fn]) => [name, fn.lagsRead()] as const),
    );
  }

  /**
   * Loads @sprout/triggers once (about half a second of broker clients, so `sprout dev` without
   * async functions or outputs does not pay for it until a request reaches the Dapr API).
   */
  private triggers(): Promise<Triggers> {
    this.triggersModule ??= import('@sprout/triggers').then((m) => {
      this.loaded = m;
      this.lagMetrics = m.createLagMetrics(this.o.metrics);
      this.api ??= this.apiOver(m, {}, {});
      return m;
    });
    return this.triggersModule;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.api) return this.api.handle(req, res);
    this.triggers().then(
      () => this.api!.handle(req, res),
      (err: unknown) => {
        this.o.logger.error({ err }, 'the Dapr API could not load @sprout/triggers');
        req.resume();
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"errorCode":"ERR_INTERNAL"}');
      },
    );
  }

  private counts() {
    return [...this.functions].map(([name, fn]) => [name, fn.counts()] as const);
  }

  /** The delivery duration histogram, Prometheus text (appended to the API's /metrics). */
  metricsText(): string {
    return deliveryDurationText(() => this.counts(), this.loaded?.LATENCY_BUCKETS_MS ?? []);
  }

  /** Listens on 127.0.0.1 (the port is known before any instance starts). */
  static async listen(o: AsyncHostOptions): Promise<AsyncHost> {
    // An invalid resources folder is refused before anything listens.
    const resources = o.resourcesPath
      ? loadResources(o.resourcesPath, { subscriptions: true, resiliency: true })
      : { components: [], subscriptions: [] };
    const ref: { host?: AsyncHost } = {};
    const server = createServer((req, res) => {
      if (!refuseHostless(req, res)) ref.host!.handle(req, res);
    });
    applyServerLimits(server);
    answerClientErrors(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (ref.host = new AsyncHost(o, server, (server.address() as AddressInfo).port, resources));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Environment for a function's instances: the Dapr API as their sidecar (`ctx.send`, the Dapr SDK),
   * for every function but one using a state store it does not declare (that store stays embedded).
   */
  envFor = (def: ResolvedFunction): Record<string, string> => {
    const states = undeclaredStates(def);
    if (states.length) {
      if (usesDapr(def))
        this.o.logger.warn(
          { function: def.name, states },
          'no DAPR_HTTP_PORT for this function: it uses state stores without a component (they stay embedded); declare them under serving.states so its outputs can use the Dapr API',
        );
      return {};
    }
    return { DAPR_HTTP_PORT: String(this.port), DAPR_HOST: '127.0.0.1', DAPR_API_TOKEN: this.o.token };
  };

  /** Starts the triggers of the platform's async functions and follows its registrations. */
  async attach(platform: Platform): Promise<void> {
    this.platform = platform;
    platform.showTriggers((name) => this.functions.get(name)?.view());
    this.unsubscribe = platform.events.subscribe((e) => {
      if (e.type === 'function.registered' || e.type === 'function.unregistered') void this.sync();
    });
    await this.sync();
  }

  /** Brings the running async functions and the Dapr API's components in line with the platform. */
  sync(): Promise<void> {
    this.syncing = this.syncing
      .then(() => this.reconcile())
      .catch((err: unknown) => {
        this.o.logger.error({ err }, 'async functions: sync failed');
      });
    return this.syncing;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    await this.syncing;
    await Promise.allSettled([...this.functions.values()].map((f) => f.close()));
    this.functions.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await Promise.allSettled([...this.engines.values()].map(async (e) => (await e.engine).close()));
  }

  private async reconcile(): Promise<void> {
    const platform = this.platform;
    if (!platform || this.closed) return;
    const defs = platform.definitions();
    const wanted = new Map(defs.filter((d) => d.triggers?.inputs.length).map((d) => [d.name, d]));
    for (const [name, fn] of [...this.functions]) {
      if (wanted.get(name) === fn.def && platform.runner(name)?.def === fn.def) continue;
      this.functions.delete(name);
      this.undo.get(name)?.();
      this.undo.delete(name);
      this.lagMetrics?.forget(name, fn.lagTriggers());
      await fn.close();
    }
    const dapr = defs.filter(usesDapr);
    if (!dapr.length && !this.loaded) return;
    const m = await this.triggers();
    const pubsubs: Record<string, PubSubEngine> = {};
    const outputs: Record<string, OutputBindingEngine> = {};
    const used = new Set<string>();
    for (const def of dapr) {
      const inputs: Record<string, InputBindingEngine> = {};
      const problem = await this.openAll(m, def, { pubsubs, outputs, inputs }, used);
      if (!def.triggers?.inputs.length || this.functions.has(def.name)) continue;
      if (problem) {
        platform.report(problem);
        continue;
      }
      await this.startFunction(def, pubsubs, inputs);
    }
    for (const [name, e] of [...this.engines])
      if (!used.has(name)) {
        this.engines.delete(name);
        void e.engine.then((x) => x.close()).catch(() => undefined);
      }
    this.api = this.apiOver(m, pubsubs, outputs);
  }

  private async startFunction(
    def: ResolvedFunction,
    pubsubs: Record<string, PubSubEngine>,
    bindings: Record<string, InputBindingEngine>,
  ): Promise<void> {
    const platform = this.platform!;
    const runner = platform.runner(def.name);
    if (!runner) return;
    try {
      const { AsyncFunction } = await import('./async-function.js');
      const fn = await AsyncFunction.start({
        runner,
        engines: { pubsubs, bindings },
        subscriptions: this.resources.subscriptions,
        // Dapr Resiliency: the resources folder's, then the function's own resiliency.yaml.
        resiliency: [...(this.resources.resiliencies ?? []), ...(def.resiliency ?? [])],
        logger: this.o.logger,
        onDecision: (decision, readings) => this.lagMetrics?.record(def.name, decision, readings),
        onStatus: (triggers) => platform.events.emit('triggers', { function: def.name, triggers }),
      });
      this.functions.set(def.name, fn);
      this.undo.set(def.name, platform.scalePaths.set(def.name, fn));
      this.o.logger.info(
        { function: def.name, triggers: def.triggers!.inputs.map((i) => i.topic ?? i.componentName) },
        'async function: subscribed',
      );
    } catch (err) {
      const e = err as { code?: string; message: string };
      platform.report({
        code: e.code ?? 'SPROUT_ERR_PLATFORM_TRIGGERS',
        message: `${def.name}: ${e.message}`,
      });
    }
  }

  /** Opens (or reuses) the engines of a function's components; the first problem of an input is returned. */
  private async openAll(
    m: Triggers,
    def: ResolvedFunction,
    into: {
      pubsubs: Record<string, PubSubEngine>;
      outputs: Record<string, OutputBindingEngine>;
      inputs: Record<string, InputBindingEngine>;
    },
    used: Set<string>,
  ): Promise<{ code: string; message: string } | undefined> {
    const names = new Set(this.resources.components.map((c) => c.metadata.name));
    const components = [
      ...def.components.filter((c) => !names.has(c.metadata.name)),
      ...this.resources.components,
    ];
    const inputNames = new Set(def.triggers?.inputs.map((i) => i.componentName));
    let problem: { code: string; message: string } | undefined;
    for (const c of components) {
      const name = c.metadata.name;
      const kind = c.spec.type.startsWith('pubsub.')
        ? 'pubsub'
        : !c.spec.type.startsWith('bindings.')
          ? undefined
          : inputNames.has(name)
            ? 'input'
            : 'output';
      if (!kind) continue;
      try {
        const metadata = resolveMetadata(c, this.o.env);
        const key = `${kind} ${JSON.stringify({ name, type: c.spec.type, metadata })}`;
        const config = {
          name,
          type: c.spec.type,
          metadata,
          ...(c.metadataAt ? { at: c.metadataAt } : {}),
          ...(c.componentAt ? { componentAt: c.componentAt } : {}),
        };
        let held = this.engines.get(name);
        if (held && held.key !== key && used.has(name))
          this.o.logger.warn(
            { function: def.name, component: name },
            `component "${name}" is declared differently by another function; sprout dev runs one component per name (the first)`,
          );
        else if (held?.key !== key) {
          const opener =
            kind === 'pubsub' ? m.openPubSub : kind === 'input' ? m.openInputBinding : m.openOutputBinding;
          const cron = this.o.dataDir
            ? { stateDir: join(this.o.dataDir, 'triggers', 'cron', def.name), logger: this.o.logger }
            : undefined;
          const engine = (opener as (c: typeof config, o?: object) => Promise<Engine>)(
            config,
            kind === 'input' && cron ? { cron } : undefined,
          );
          engine.catch(() => undefined);
          if (held) void held.engine.then((x) => x.close()).catch(() => undefined);
          this.engines.set(name, (held = { key, engine }));
        }
        used.add(name);
        const engine = await held!.engine;
        if (kind === 'pubsub') into.pubsubs[name] = engine as PubSubEngine;
        else if (kind === 'input') into.inputs[name] = engine as InputBindingEngine;
        else into.outputs[name] = engine as OutputBindingEngine;
      } catch (err) {
        this.engines.delete(name);
        const e = err as { code?: string; message: string };
        // A metadata error of a component read from a file already leads with its file:line.
        const placed = [
          c.componentAt,
          ...Object.values(c.metadataAt ?? {}).flatMap((p) => [p.name, p.value]),
        ].some((at) => at !== undefined && e.message.startsWith(`${at}: `));
        const message = placed
          ? e.message
          : `${c.source ?? def.file ?? def.name}: component "${name}": ${e.message}`;
        if (inputNames.has(name)) problem ??= { code: e.code ?? 'SPROUT_ERR_PLATFORM_TRIGGERS', message };
        else this.o.logger.warn({ function: def.name, code: e.code }, message);
      }
    }
    return problem;
  }

  private apiOver(
    m: Triggers,
    pubsubs: Record<string, PubSubEngine>,
    bindings: Record<string, OutputBindingEngine>,
  ): DaprApiServer {
    return m.createDaprApiServer({
      pubsubs,
      bindings,
      apiToken: this.o.token,
      appId: 'sprout-dev',
      logger: this.o.logger.child({ component: 'dapr-api' }),
      // One API serves every function, so only Resiliency documents without scopes apply to it.
      resiliency: (this.outbound ??= new m.ResiliencyPolicies(
        this.resources.resiliencies ?? [],
        'sprout-dev',
      )),
    });
  }
}
