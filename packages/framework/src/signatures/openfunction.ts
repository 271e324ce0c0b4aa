import { isCloudEventRequest, readCloudEvent } from '../cloudevents.js';
import { InvocationContext, type FunctionResources } from '../invocation.js';
import { runWithPlugins } from '../plugins.js';
import type { OpenFunction } from '../registry.js';
import { writeResult } from '../result.js';
import type { Invoker } from './invoker.js';
import { daprSubscriptions } from '../dapr-subscriptions.js';
import type { SproutRequest } from '../http/request.js';
import type { SproutResponse } from '../http/response.js';

/**
 * `openfunction`: `(ctx, data)` with a fresh ctx per call, wrapped by the plugins' hooks.
 * With the knative runtime `data` is the request body and the return value is the response.
 * With the async runtime the framework answers a Dapr sidecar's app callbacks: `GET /dapr/subscribe`
 * lists the pub/sub inputs, and `POST /<input name>` delivers one message or binding event
 * (`ctx.input` names it; a CloudEvent's data is unwrapped).
 */
export function openFunctionInvoker(fn: OpenFunction, resources: FunctionResources): Invoker {
  const { context } = resources;
  const pre = context.prePlugins ?? [];
  const post = context.postPlugins ?? [];
  const call = async (req: SproutRequest, res: SproutResponse, data: unknown, input?: string) => {
    const ctx = new InvocationContext(resources, req, res, input === undefined ? {} : { input });
    return runWithPlugins(ctx, resources.plugins, pre, post, async () => fn(ctx, data));
  };
  if (context.runtime !== 'async') {
    return async (req, res) => writeResult(res, await call(req, res, req.body));
  }
  const inputs = Object.entries(context.inputs ?? {});
  const byRoute = new Map<string, string>();
  for (const [name, ref] of inputs) {
    byRoute.set(`/${name}`, name);
    byRoute.set(`/${ref.componentName}`, name);
  }
  return async (req, res) => {
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
      res.status(404).json({
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
    const data = isCloudEventRequest(req.headers) ? readCloudEvent(req.headers, req.body).data : req.body;
    const value = await call(req, res, data, input);
    if (isPubSub) res.status(200).json({ status: 'SUCCESS' });
    else writeResult(res, value ?? { code: 200 });
  };
}
