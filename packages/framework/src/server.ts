import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  answerClientErrors,
  applyServerLimits,
  lingerOnRefusedBody,
  refuseHostless,
  type ServerLimits,
} from '@sprout/http';
import type { Logger } from '@sprout/observe';
import type { ExecutionTags } from './execution-log.js';
import { FrameworkError, HttpError } from './errors.js';
import { bodyReader, DEFAULT_BODY_LIMIT, hasBody, parseBody, type BodyReader } from './http/body.js';
import { SproutRequest } from './http/request.js';
import { SproutResponse } from './http/response.js';
import type { SignatureType } from './signature.js';
import type { Invoker } from './signatures/invoker.js';
import type { DaprSubscription } from './dapr-subscriptions.js';
import type { Tracing } from './tracing.js';

/** A function mounted on the server at a path prefix ('' or '/' mounts it at the root). */
export interface Mount {
  path: string;
  name: string;
  signatureType: SignatureType;
  invoker: Invoker;
  tracing?: Tracing | undefined;
  /** The Dapr subscriptions of an async function, routes relative to its path. */
  subscriptions?: readonly DaprSubscription[] | undefined;
  /** Root paths daprd delivers this async function's input bindings to (`/<binding>`). */
  bindingRoutes?: readonly string[] | undefined;
}

export interface FunctionServerOptions {
  logger: Logger;
  /** Largest accepted request body in bytes (413 above it). Default 10 MiB. */
  bodyLimit?: number;
  /** Per-request timeout in milliseconds; 0 disables. On expiry `req.signal` aborts and the client gets 408. */
  timeoutMs?: number;
  /** Paths answered 404 without calling the function (exact, or a prefix ending in `*`). */
  ignoredRoutes?: string[];
  /** How long close() waits for in-flight requests before cutting connections. Default 30 s. */
  drainTimeoutMs?: number;
  /** Connection cap and header/request/keep-alive timeouts (`@sprout/http` defaults when absent). */
  limits?: ServerLimits;
  /**
   * Run every call in the request's async context, even a function's that keeps answering before
   * it returns (see `SYNC_CALLS_FOR_NO_CONTEXT`): what `currentExecution()` needs to tag every log
   * line, also one a callback writes after the answer. Default false.
   */
  keepAsyncContext?: boolean;
}

/**
 * After this many calls in a row that answered before the function returned (the response ended,
 * no promise), a function's calls run without an async context: on Node 20 the
 * `AsyncLocalStorage` behind it makes every async resource of every request (each socket write,
 * tick and timer Node makes) call a hook, about a tenth of a small request's CPU. Such a call has
 * nothing left to answer, so a stray error is only logged without the function's name. The first
 * call that does not answer before returning puts the function back in context for good; that
 * call's own callbacks have none, so a stray error in one of them is logged and the request
 * answered by the timeout (or the client) instead of with a 500.
 */
export const SYNC_CALLS_FOR_NO_CONTEXT = 1_000;

/** A mount and how its function has been answering. */
interface Mounted extends Mount {
  /** Calls in a row answered before the function returned; -1 once one was not (context for good). */
  syncStreak: number;
}

interface Invocation {
  req: SproutRequest;
  res: SproutResponse;
  mount: Mounted;
}

/**
 * The HTTP server of the functions framework: routes requests to mounted functions by path prefix
 * (longest wins), reads and parses bodies with a limit, applies the timeout, turns errors into
 * responses without taking the process down, and drains in-flight requests on close().
 */
export class FunctionServer {
  readonly server: Server<typeof SproutRequest, typeof SproutResponse>;
  readonly #mounts: Mounted[] = [];
  readonly #logger: Logger;
  readonly #readBody: BodyReader;
  readonly #timeoutMs: number;
  /** Ignored routes: exact paths, and the prefixes of those ending in `*`. */
  readonly #ignoredExact: ReadonlySet<string>;
  readonly #ignoredPrefixes: readonly string[];
  readonly #drainTimeoutMs: number;
  readonly #current = new AsyncLocalStorage<Invocation>();
  readonly #keepAsyncContext: boolean;
  /** `#call` bound once, for `AsyncLocalStorage.run` (no closure per request). */
  readonly #callInContext = (inv: Invocation) => this.#call(inv);
  #inflight = 0;
  #idle: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: FunctionServerOptions) {
    this.#logger = options.logger;
    this.#readBody = bodyReader(options.bodyLimit ?? DEFAULT_BODY_LIMIT);
    this.#timeoutMs = options.timeoutMs ?? 0;
    this.#drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    this.#keepAsyncContext = options.keepAsyncContext ?? false;
    const ignored = options.ignoredRoutes ?? [];
    this.#ignoredExact = new Set(ignored.filter((r) => !r.endsWith('*')));
    this.#ignoredPrefixes = ignored.filter((r) => r.endsWith('*')).map((r) => r.slice(0, -1));
    this.server = createServer<typeof SproutRequest, typeof SproutResponse>(
      { IncomingMessage: SproutRequest, ServerResponse: SproutResponse },
      (req, res) => this.#onRequest(req, res),
    );
    applyServerLimits(this.server, options.limits);
    // What Node's parser refuses (and a request without Host, see #onRequest) is answered with a
    // coded error too, not a bare 400.
    answerClientErrors(this.server as unknown as Server);
  }

  /** Mounts a function; two functions on one path is an error. */
  mount(mount: Mount): void {
    const path = normalize(mount.path);
    if (this.#mounts.some((m) => m.path === path)) {
      throw new FrameworkError(
        'SPROUT_ERR_FRAMEWORK_ROUTE_CONFLICT',
        `two functions are mounted at "${path || '/'}"`,
        {
          field: 'path',
        },
      );
    }
    this.#mounts.push({ ...mount, path, syncStreak: 0 });
    this.#mounts.sort((a, b) => b.path.length - a.path.length);
  }

  /** Swaps the function at `path` (watch reloads); requests already running keep the old one. */
  replace(path: string, update: Partial<Omit<Mount, 'path'>>): void {
    const m = this.#mounts.find((x) => x.path === normalize(path));
    if (!m)
      throw new FrameworkError('SPROUT_ERR_FRAMEWORK_ROUTE_CONFLICT', `nothing is mounted at "${path}"`);
    // New code starts over in context until it has shown it answers before returning.
    Object.assign(m, update, update.invoker ? { syncStreak: 0 } : {});
  }

  get mounts(): readonly Mount[] {
    return this.#mounts;
  }

  /** Requests being handled right now. */
  get inflight(): number {
    return this.#inflight;
  }

  listen(port: number, host?: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /**
   * Answers the request an uncaught exception or unhandled rejection belongs to with a 500, so a
   * stray throw in a timer fails one request instead of the process. Returns false when the error
   * belongs to no request (the caller decides what to do then).
   */
  handleStrayError(err: unknown): boolean {
    const inv = this.#current.getStore();
    if (!inv) return false;
    this.#fail(inv, err);
    return true;
  }

  /** The execution id and span id of the request the caller runs in, if any. */
  currentExecution(): ExecutionTags | undefined {
    const req = this.#current.getStore()?.req;
    return req && { executionId: req.executionId, spanId: req.spanId };
  }

  /** Stops accepting, lets in-flight requests finish (up to the drain timeout), then closes. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeIdleConnections();
      if (this.#inflight > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => (this.#idle = resolve)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#drainTimeoutMs).unref())),
        ]);
        clearTimeout(timer);
      }
      this.server.closeAllConnections();
      await closed;
      await Promise.all(this.#mounts.map((m) => m.tracing?.close()));
    })();
    return this.#closing;
  }

  #isIgnored(path: string): boolean {
    if (this.#ignoredExact.has(path)) return true;
    for (const p of this.#ignoredPrefixes) if (path.startsWith(p)) return true;
    return false;
  }

  #match(url: string): Mounted | undefined {
    for (const m of this.#mounts) {
      if (m.path === '') return m;
      if (
        url.startsWith(m.path) &&
        (url.length === m.path.length || url[m.path.length] === '/' || url[m.path.length] === '?')
      ) {
        return m;
      }
    }
    return undefined;
  }

  #onRequest(req: SproutRequest, res: SproutResponse): void {
    if (refuseHostless(req, res)) return;
    let url = req.url ?? '/';
    if (this.#mounts.length > 1 && req.method === 'GET' && /^\/dapr\/subscribe(\?|$)/.test(url)) {
      // daprd asks the app, not a function: with several functions in one process the answer is
      // every async function's subscriptions, each routed under its path.
      const subs = this.#mounts.flatMap((m) =>
        (m.subscriptions ?? []).map((s) => ({ ...s, route: m.path + s.route })),
      );
      if (subs.length) {
        res.json(subs);
        return;
      }
    }
    let mount = this.#match(url);
    if (!mount) {
      // daprd delivers an input binding at the app's root: hand it to the function that owns it.
      const path = url.split('?')[0]!;
      mount = this.#mounts.find((m) => m.bindingRoutes?.includes(path));
      if (mount) url = mount.path + url;
    }
    if (!mount) {
      res.statusCode = 404;
      res.setHeader('x-sprout-error-code', 'SPROUT_ERR_FRAMEWORK_NO_ROUTE');
      res.json({
        error: {
          code: 'SPROUT_ERR_FRAMEWORK_NO_ROUTE',
          message: `no function is mounted at ${req.url}; mounted: ${this.#mounts.map((m) => m.path || '/').join(', ')}`,
        },
      });
      return;
    }
    req.originalUrl = req.url ?? url;
    if (mount.path) {
      req.baseUrl = mount.path;
      const rest = url.slice(mount.path.length);
      req.url = rest.startsWith('/') ? rest : `/${rest}`;
    }
    if (this.#isIgnored(req.path)) {
      res.statusCode = 404;
      res.end();
      return;
    }
    if (this.#closing) res.setHeader('connection', 'close');
    this.#inflight++;
    let timer: NodeJS.Timeout | undefined;
    // 'close' comes once; `on` spares the wrapper `once` makes per request.
    res.on('close', () => {
      if (timer) clearTimeout(timer);
      if (!res.writableFinished) req.abort(new Error('client closed the connection'));
      if (--this.#inflight === 0 && this.#idle) this.#idle();
    });
    const inv: Invocation = { req, res, mount };
    if (this.#timeoutMs > 0) {
      timer = setTimeout(() => {
        const err = new HttpError(
          408,
          'SPROUT_ERR_FRAMEWORK_TIMEOUT',
          `function did not finish within ${this.#timeoutMs} ms`,
        );
        req.abort(err);
        this.#fail(inv, err);
      }, this.#timeoutMs);
    }
    this.#start(inv);
  }

  #start(inv: Invocation): void {
    const { req } = inv;
    if (!hasBody(req)) {
      req.body = {};
      this.#invoke(inv);
      return;
    }
    this.#readBody(req, (err, raw) => {
      if (err) return this.#fail(inv, err);
      try {
        req.rawBody = raw;
        req.body = parseBody(raw!, req.headers['content-type']);
      } catch (e) {
        this.#fail(inv, e);
        return;
      }
      this.#invoke(inv);
    });
  }

  /** Calls the function, in the request's async context unless it has been answering synchronously. */
  #invoke(inv: Invocation): void {
    if (this.#keepAsyncContext || inv.mount.syncStreak < SYNC_CALLS_FOR_NO_CONTEXT)
      this.#current.run(inv, this.#callInContext, inv);
    else this.#call(inv);
  }

  #call(inv: Invocation): void {
    const { req, res, mount } = inv;
    let run: Promise<void> | void;
    try {
      run = mount.tracing
        ? mount.tracing.trace(
            `${req.method} ${mount.name}`,
            req.headers,
            {
              'http.method': req.method ?? '',
              'http.route': mount.path || '/',
              'faas.execution': req.executionId,
            },
            async () => mount.invoker(req, res),
          )
        : mount.invoker(req, res);
    } catch (err) {
      // A synchronous function that threw (an invoker returns no promise when the function did not).
      this.#fail(inv, err);
      return;
    }
    if (run) run.catch((err: unknown) => this.#fail(inv, err));
    if (mount.syncStreak >= 0 && !this.#keepAsyncContext) this.#count(mount, !run && res.writableEnded);
  }

  /** Counts a call of a function not (yet) in context for good; see `SYNC_CALLS_FOR_NO_CONTEXT`. */
  #count(mount: Mounted, answered: boolean): void {
    if (!answered) mount.syncStreak = -1;
    else if (++mount.syncStreak === SYNC_CALLS_FOR_NO_CONTEXT) {
      // No function needs the context any more: off with it, and with the hook it costs every request.
      if (this.#mounts.every((m) => m.syncStreak >= SYNC_CALLS_FOR_NO_CONTEXT)) this.#current.disable();
    }
  }

  #fail({ req, res, mount }: Invocation, err: unknown): void {
    const http = err instanceof HttpError ? err : undefined;
    const status = http?.status ?? 500;
    const code = (err as { code?: unknown })?.code;
    const errorCode =
      http?.code ??
      (typeof code === 'string' && code.startsWith('SPROUT_ERR_')
        ? code
        : 'SPROUT_ERR_FRAMEWORK_FUNCTION_FAILED');
    const log = { function: mount.name, executionId: req.executionId, code: errorCode, status };
    if (status >= 500 || status === 408) this.#logger.error({ ...log, err }, 'function failed');
    else this.#logger.warn({ ...log, reason: (err as Error)?.message }, 'request refused');
    if (res.headersSent || res.writableEnded) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    res.statusCode = status;
    res.setHeader('x-sprout-status', 'error');
    res.setHeader('x-sprout-error-code', errorCode);
    // Google's framework marks a failed function so its platform can tell it from a bad answer;
    // OpenFunction's does the same under its own name.
    if (status >= 500) {
      const failed = mount.signatureType === 'http' ? 'crash' : 'error';
      res.setHeader('x-google-status', failed);
      res.setHeader('x-openfunction-status', failed);
    }
    // Reading the rest of a refused body (bounded) lets a proxy in front read the 413, not a reset.
    if (status === 413) lingerOnRefusedBody(req);
    const message = http?.expose
      ? http.message
      : status === 500
        ? 'the function failed; see the function logs'
        : String((err as Error)?.message);
    res.json({ error: { code: errorCode, message, executionId: req.executionId } });
  }
}

function normalize(path: string): string {
  const p = path.replace(/\/+$/, '');
  return p === '' ? '' : p.startsWith('/') ? p : `/${p}`;
}
