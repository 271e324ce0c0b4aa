import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { PlatformError } from './errors.js';
import { sendError } from './http-util.js';
import type { FunctionRunner } from './runner.js';

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
];

/**
 * Sends one request to the function's least busy ready instance, starting one first when there is
 * none (the request is held until it is ready or the readiness timeout passes: 503). A connection
 * error before the response starts answers 502; the next request goes to another or a new instance.
 */
export async function forward(
  req: IncomingMessage,
  res: ServerResponse,
  runner: FunctionRunner,
  path: string,
): Promise<void> {
  let gone = false;
  req.once('close', () => {
    if (!res.writableEnded) gone = true;
  });
  const cold = !runner.pickInstance();
  let inst;
  try {
    inst = await runner.waitReady();
  } catch (err) {
    if (!gone) sendError(res, err);
    return;
  }
  if (gone || res.destroyed) return;
  inst.info.inflight++;
  runner.touch();
  let counted = true;
  const release = () => {
    if (counted) inst.info.inflight--;
    counted = false;
    runner.touch();
  };
  const headers: Record<string, string | string[] | undefined> = { ...req.headers };
  for (const h of HOP_BY_HOP) delete headers[h];
  const up = request(
    { host: inst.info.host, port: inst.info.port, method: req.method, path, headers },
    (ur) => {
      const out: Record<string, string | string[] | undefined> = { ...ur.headers };
      for (const h of HOP_BY_HOP) delete out[h];
      if (cold) out['x-sprout-cold-start'] = 'true';
      res.writeHead(ur.statusCode ?? 502, out);
      ur.pipe(res);
      ur.once('error', () => res.destroy());
    },
  );
  up.once('error', (err) => {
    release();
    if (!res.headersSent) {
      sendError(
        res,
        new PlatformError(
          'SPROUT_ERR_PLATFORM_UPSTREAM_FAILED',
          `instance ${inst.info.id} of "${runner.name}" failed before answering: ${err.message}`,
          502,
        ),
      );
    } else res.destroy();
  });
  res.once('close', () => {
    release();
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
}
