import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { InstanceEndpoint } from './upstream.js';
import type { Exchange, GatewayContext } from './context.js';
import type { CompiledRoute } from './function-slot.js';
import { holdRequest } from './hold.js';
import { hasBody } from '@sprout/http';
import { forwardHeaders, headerList, responseHeaders, sendGatewayError } from './http-util.js';
import { forwardRaw, type RawOutcome } from './forward/raw-forward.js';

/** Tries per request when instances refuse connections (the request never reached them). */
const MAX_ATTEMPTS = 3;

/** Takes a routed request: counts it for its function's scaler, then forwards or holds it. */
export function startExchange(
  gw: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: CompiledRoute,
  path: string,
): void {
  const slot = route.slot;
  const started = performance.now();
  slot.begin(started);
  const ex: Exchange = {
    req,
    res,
    route,
    path,
    headers: undefined,
    cold: false,
    attempts: 0,
    exclude: undefined,
    cancelWait: undefined,
    upstream: undefined,
  };
  res.once('close', () => {
    slot.end(res.headersSent ? res.statusCode : 0);
    slot.took(performance.now() - started);
    ex.cancelWait?.();
    if (!res.writableFinished && ex.upstream) ex.upstream.destroy();
  });
  dispatch(gw, ex);
}

/** To the least busy ready instance, else held until one is ready. */
function dispatch(gw: GatewayContext, ex: Exchange): void {
  const inst = ex.route.slot.pick(ex.exclude);
  if (inst) forward(gw, ex, inst);
  else holdRequest(gw, ex, forward);
}

function forward(gw: GatewayContext, ex: Exchange, inst: InstanceEndpoint): void {
  ex.attempts++;
  const release = ex.route.slot.acquire(inst.id);
  let released = false;
  const done = () => {
    if (!released) {
      released = true;
      release();
    }
  };
  // A request without a body can be sent again to another instance when it never reached the first.
  if (!hasBody(ex.req)) {
    if (gw.rawForwarding && forwardRaw(gw, ex, inst, done, RAW_OUTCOME, coldMark(gw, ex))) return;
    try {
      forwardBodyless(gw, ex, inst, done);
      return;
    } catch (err) {
      // undici refuses a few unusual request headers up front; node:http takes them.
      gw.log.debug({ err }, 'undici refused the request; using node:http');
    }
  }
  forwardStreaming(gw, ex, inst, done);
}

/** Requests without a body go through undici's dispatcher: the cheapest path per request. */
function forwardBodyless(gw: GatewayContext, ex: Exchange, inst: InstanceEndpoint, done: () => void): void {
  const { req, res, route } = ex;
  const { opts } = route;
  let responded = false;
  // Our own timer rather than undici's `headersTimeout`, which fires up to a second late.
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  gw.pools.get(inst).dispatch(
    {
      path: ex.path,
      method: req.method ?? 'GET',
      headers: (ex.headers ??= forwardHeaders(req, false)),
      body: null,
      headersTimeout: 0,
      bodyTimeout: 0,
    },
    {
      onRequestStart(controller) {
        ex.upstream = { destroy: () => controller.abort(new Error('client closed the connection')) };
        if (res.destroyed) controller.abort(new Error('client closed the connection'));
        clearTimeout(timer);
        timer = setTimeout(() => {
          timedOut = true;
          controller.abort(new Error('no response headers in time'));
        }, opts.responseHeaderTimeoutMs);
      },
      onResponseStart(controller, status, headers, statusMessage) {
        clearTimeout(timer);
        responded = true;
        if (res.destroyed) return;
        const list = headerList(headers, coldMark(gw, ex));
        res.writeHead(status, statusMessage ?? '', list);
        if (headers['content-length'] === undefined) res.flushHeaders();
      },
      onResponseData(controller, chunk) {
        if (!res.write(chunk)) {
          controller.pause();
          res.once('drain', () => controller.resume());
        }
      },
      onResponseEnd() {
        done();
        res.end();
      },
      onResponseError(_controller, err: Error & { code?: string }) {
        clearTimeout(timer);
        done();
        if (responded) failedMidResponse(gw, ex, inst, err);
        else
          upstreamFailed(
            gw,
            ex,
            inst,
            err,
            timedOut || err.code === 'UND_ERR_HEADERS_TIMEOUT',
            err.code === 'ECONNREFUSED',
          );
      },
    },
  );
}

/** Requests with a body: node:http, the body streamed once the connection is up. */
function forwardStreaming(gw: GatewayContext, ex: Exchange, inst: InstanceEndpoint, done: () => void): void {
  const { req, res, route } = ex;
  const { opts } = route;
  const up = request({
    host: inst.host,
    port: inst.port,
    method: req.method,
    path: ex.path,
    headers: (ex.headers ??= forwardHeaders(req, false)),
    agent: gw.agent,
  });
  ex.upstream = up;
  // A body is streamed only once the connection is up, so a refused connection leaves it unread
  // and the request can go to another instance.
  let bodySent = false;
  let responded = false;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    up.destroy();
  }, opts.responseHeaderTimeoutMs);
  up.on('response', (ur) => {
    clearTimeout(timer);
    responded = true;
    if (res.destroyed) {
      ur.destroy();
      done();
      return;
    }
    const headers = responseHeaders(ur.rawHeaders, coldMark(gw, ex));
    res.writeHead(ur.statusCode ?? 502, ur.statusMessage, headers);
    if (ur.headers['content-length'] === undefined) res.flushHeaders();
    ur.on('error', (err) => failedMidResponse(gw, ex, inst, err));
    ur.on('aborted', () => failedMidResponse(gw, ex, inst, new Error('response aborted')));
    ur.on('close', done);
    ur.pipe(res);
  });
  up.on('error', (err: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    done();
    if (responded) failedMidResponse(gw, ex, inst, err);
    else upstreamFailed(gw, ex, inst, err, timedOut, err.code === 'ECONNREFUSED' && !bodySent);
  });
  up.once('socket', (socket) => {
    const send = () => {
      bodySent = true;
      req.pipe(up);
    };
    if (socket.connecting) socket.once('connect', send);
    else send();
  });
}

/** The cold-start header for this response, per the route's `coldStartHeader` option. */
function coldMark(gw: GatewayContext, ex: Exchange): readonly [string, string] | undefined {
  const mode = ex.route.opts.coldStartHeader;
  if (mode === false || (mode === 'cold' && !ex.cold)) return undefined;
  return ex.cold ? gw.coldMarks.cold : gw.coldMarks.warm;
}

/** The instance failed after sending headers: the status is gone, so the client's connection is cut. */
function failedMidResponse(
  gw: GatewayContext,
  ex: Exchange,
  inst: InstanceEndpoint,
  err: Error & { code?: string },
): void {
  if (ex.res.destroyed) return; // the client left first
  const slot = ex.route.slot;
  slot.reject('upstream_failed');
  slot.noteError(
    'SPROUT_ERR_GATEWAY_UPSTREAM_FAILED',
    `instance ${inst.id} failed in the middle of a response (${err.code ?? err.message})`,
  );
  gw.log.warn({ function: slot.name, instance: inst.id, err: err.message }, 'instance failed mid-response');
  ex.res.destroy();
}

/** The instance failed before response headers: retry, 504 or 502. */
const upstreamFailed: RawOutcome['early'] = (gw, ex, inst, err, timedOut, neverReached) => {
  const { res, route } = ex;
  const { slot, opts } = route;
  if (res.destroyed || res.writableEnded) return;
  if (timedOut) {
    slot.reject('response_header_timeout');
    sendGatewayError(
      res,
      504,
      'SPROUT_ERR_GATEWAY_RESPONSE_HEADER_TIMEOUT',
      `function ${slot.name} sent no response headers within ${opts.responseHeaderTimeoutMs} ms`,
      {},
      { function: slot.name },
    );
    return;
  }
  if (neverReached && inst.id !== 'fallback' && ex.attempts < MAX_ATTEMPTS) {
    (ex.exclude ??= new Set()).add(inst.id);
    gw.log.warn(
      { function: slot.name, instance: inst.id },
      'instance refused the connection; trying another',
    );
    dispatch(gw, ex);
    return;
  }
  slot.reject('upstream_failed');
  slot.noteError(
    'SPROUT_ERR_GATEWAY_UPSTREAM_FAILED',
    `instance ${inst.id} failed before answering (${err.code ?? err.message})`,
  );
  gw.log.warn(
    { function: slot.name, instance: inst.id, err: err.message },
    'instance failed before answering',
  );
  sendGatewayError(
    res,
    502,
    'SPROUT_ERR_GATEWAY_UPSTREAM_FAILED',
    `function ${slot.name} instance ${inst.id} failed before answering (${err.code ?? err.message})`,
    {},
    { function: slot.name },
  );
};

/** The answers of the raw path's failures: the same as undici's and node:http's. */
const RAW_OUTCOME: RawOutcome = {
  early: upstreamFailed,
  mid: failedMidResponse,
};
