import { isCloudEventRequest, readCloudEvent } from '../cloudevents.js';
import { InvocationContext, type FunctionResources } from '../invocation.js';
import { runWithPlugins } from '../plugins.js';
import type { OpenFunction } from '../registry.js';
import { writeResult } from '../result.js';
import { writeWhenDone, type Invoker } from './invoker.js';
import { daprSubscriptions } from '../dapr-subscriptions.js';
import type { SproutRequest } from '../http/request.js';
import type { SproutResponse } from '../http/response.js';
import { BULK_CONCURRENCY, isBulkBody, mapBounded, readBulkEntries } from '../dapr-bulk.js';
import type { Logger } from '@sprout/observe';

/**
 * `openfunction`: `(ctx, data)` with a fresh ctx per call, wrapped by the plugins' hooks.
 * With the knative runtime `data` is the request body and the return value is the response.
 * With the async runtime the framework answers a Dapr sidecar's app callbacks: `GET /dapr/subscribe`
 * lists the pub/sub inputs, and `POST /<input name>` delivers one message or binding event
 * (`ctx.input` names it; a CloudEvent's data is unwrapped). A pub/sub input also takes Dapr's
 * bulk deliveries (advertised in `/dapr/subscribe`): the function is called once per entry, as for
 * a single delivery, up to BULK_CONCURRENCY at once, and each entry answered SUCCESS, or RETRY
 * when the function threw (reported to `logger`).
 */
export function openFunctionInvoker(
  fn: OpenFunction,
  resources: FunctionResources,
  logger?: Logger,
): Invoker {
  const { context } = resources;
  const pre = context.prePlugins ?? [];
  const post = context.postPlugins ?? [];
  const call = async (req: SproutRequest, res: SproutResponse, data: unknown, input?: string) => {
    const ctx = new InvocationContext(resources, req, res, input === undefined ? {} : { input });
    return runWithPlugins(ctx, resources.plugins, pre, post, async () => fn(ctx, data));
  };
  if (context.runtime !== 'async') {
    // No hooks (the common case): the function is called directly, and a synchronous one is
    // answered in the same tick, with no promise made around it.
    if (pre.length === 0 && post.length === 0)
      return (req, res) =>
        writeWhenDone(fn(new InvocationContext(resources, req, res), req.body), res, writeResult);
    return async (req, res) => writeResult(res, await call(req, res, req.body));
  }
  /** One bulk request: each entry is one call with its own ctx (req is the bulk request, no res). */
  const hooked = pre.length > 0 || post.length > 0;
  type BulkStatus = { entryId: string; status: string; error?: { code: string; executionId: string } };
  const bulk = (
    req: SproutRequest,
    items: ReturnType<typeof readBulkEntries>,
    input: string,
  ): BulkStatus[] | Promise<BulkStatus[]> => {
    const base = req.executionId;
    const failed = (item: (typeof items)[number], executionId: string, err: unknown): BulkStatus => {
      const code = (err as { code?: unknown })?.code;
      const errorCode =
        typeof code === 'string' && code.startsWith('SPROUT_ERR_')
          ? code
          : 'SPROUT_ERR_FRAMEWORK_FUNCTION_FAILED';
      logger?.error(
        {
          function: context.name,
          executionId,
          entryId: item.entryId,
          code: errorCode,
          err,
        },
        'function failed on a bulk entry; answered RETRY',
      );
      // daprd reads entryId and status; the error tells Sprout's delivery engine (and its dead
      // letters) why, as a single delivery's 500 does.
      return { entryId: item.entryId, status: 'RETRY', error: { code: errorCode, executionId } };
    };
    // One entry: its status at once when the function returned no promise, else a promise of it.
    const one = (item: (typeof items)[number]): BulkStatus | Promise<BulkStatus> => {
      const executionId = `${base}-${item.entryId}`;
      try {
        if ('invalid' in item) throw item.invalid;
        // ctx.signal is the request's, made when first read (an AbortController per request otherwise).
        const ctx = new InvocationContext(resources, req, undefined, { input, executionId });
        const ran: unknown = hooked
          ? runWithPlugins(ctx, resources.plugins, pre, post, async () => fn(ctx, item.data))
          : fn(ctx, item.data);
        const ok: BulkStatus = { entryId: item.entryId, status: 'SUCCESS' };
        if (typeof (ran as PromiseLike<unknown> | null)?.then !== 'function') return ok;
        return Promise.resolve(ran).then(
          () => ok,
          (err: unknown) => failed(item, executionId, err),
        );
      } catch (err) {
        return failed(item, executionId, err);
      }
    };
    if (items.length > BULK_CONCURRENCY)
      return mapBounded(items, BULK_CONCURRENCY, async (item) => one(item));
    // Every entry at once (within the bound): no worker per entry, no promise for a synchronous function.
    const out = items.map(one);
    return out.some((x) => x instanceof Promise) ? Promise.all(out) : (out as BulkStatus[]);
  };
  /** One message or binding event: the function called once, in the request's context. */
  const single = async (req: SproutRequest, res: SproutResponse, input: string, isPubSub: boolean) => {
    const data = isCloudEventRequest(req.headers) ? readCloudEvent(req.headers, req.body).data : req.body;
    const value = await call(req, res, data, input);
    if (isPubSub) res.status(200).json({ status: 'SUCCESS' });
    else writeResult(res, value ?? { code: 200 });
  };
  const inputs = Object.entries(context.inputs ?? {});
  const byRoute = new Map<string, string>();
  for (const [name, ref] of inputs) {
    byRoute.set(`/${name}`, name);
    byRoute.set(`/${ref.componentName}`, name);
  }
  // Not an async function: a bulk request whose entries all returned no promise is answered before
  // the invoker returns, so the server can run such calls without an async context (see
  // SYNC_CALLS_FOR_NO_CONTEXT) as it does for a synchronous knative function.
  return (req, res) => {
    const path = req.path;
    if (req.method === 'GET' && path === '/dapr/subscribe') {
      res.json(daprSubscriptions(context, req.baseUrl));
      return;
    }
    if (req.method === 'GET' && path === '/dapr/config') {
      res.json({});
      return;
    }
    const input = byRoute.get(path);
    if (input === undefined || (req.method !== 'POST' && req.method !== 'OPTIONS')) {
      res.status(404).setHeader('x-sprout-error-code', 'SPROUT_ERR_FRAMEWORK_UNKNOWN_INPUT');
      res.json({
        error: {
          code: 'SPROUT_ERR_FRAMEWORK_UNKNOWN_INPUT',
          message: `no input is routed at ${req.method} ${path}`,
        },
      });
      return;
    }
    if (req.method === 'OPTIONS') {
      res.status(200).end();
      return;
    }
    const ref = context.inputs![input]!;
    const isPubSub = ref.componentType.startsWith('pubsub.');
    if (isPubSub && !isCloudEventRequest(req.headers) && isBulkBody(req.body)) {
      const statuses = bulk(req, readBulkEntries(req.body), input);
      if (!Array.isArray(statuses)) return statuses.then((s) => void res.status(200).json({ statuses: s }));
      res.status(200).json({ statuses });
      return;
    }
    return single(req, res, input, isPubSub);
  };
}
