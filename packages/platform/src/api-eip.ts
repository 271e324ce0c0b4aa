import type { IncomingMessage, ServerResponse } from 'node:http';
import { EipError, type EipManager } from '@sprout/eip';
import { PlatformError } from './errors.js';
import { readJson, readText, sendJson } from './http-util.js';

export interface EipApiContext {
  manager: EipManager;
  /** Called after documents were applied (pending functions may get addresses now). */
  applied(): Promise<void>;
}

/**
 * `/v1/eip/...`: pools with their usage, apply, pool deletion (with drain), allocations and the
 * exhaustion/pending event log. `parts` are the path segments after `/v1/eip`.
 */
export async function handleEip(
  { manager, applied }: EipApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  parts: string[],
  query: URLSearchParams,
): Promise<void> {
  const method = req.method ?? 'GET';
  const [resource, a, b] = parts;
  const notAllowed = () => {
    throw new PlatformError(
      'SPROUT_ERR_PLATFORM_INVALID_REQUEST',
      `${method} is not allowed on /v1/eip/${parts.join('/')}`,
      405,
    );
  };
  const noRoute = () => {
    throw new PlatformError(
      'SPROUT_ERR_PLATFORM_NO_ROUTE',
      `no API route /v1/eip/${parts.join('/')}; see openapi.yaml`,
      404,
    );
  };
  manager.refresh();
  switch (resource) {
    case 'pools': {
      if (a === undefined) {
        if (method !== 'GET') return notAllowed();
        return sendJson(res, 200, { pools: poolViews(manager) });
      }
      if (parts.length !== 2) return noRoute();
      if (method === 'GET') {
        const pool = poolViews(manager).find((p) => p.name === a);
        if (!pool) {
          throw new EipError('SPROUT_ERR_EIP_POOL_NOT_FOUND', `no Eip named "${a}"`);
        }
        return sendJson(res, 200, pool);
      }
      if (method === 'DELETE') {
        const r = manager.deletePool(a, { drain: query.get('drain') === 'true' });
        await applied();
        return sendJson(res, 200, r);
      }
      return notAllowed();
    }
    case 'apply': {
      if (parts.length !== 1) return noRoute();
      if (method !== 'POST') return notAllowed();
      const text = await readText(req);
      if (!text.trim()) {
        throw new PlatformError(
          'SPROUT_ERR_PLATFORM_INVALID_REQUEST',
          'the body must hold Eip, BgpConf, BgpPeer or Namespace documents (YAML or JSON)',
        );
      }
      const result = manager.apply(text);
      await applied();
      return sendJson(res, 200, result);
    }
    case 'allocations': {
      if (a === undefined) {
        if (method === 'GET') {
          const ns = query.get('namespace');
          const all = manager.services().filter((s) => !ns || s.namespace === ns);
          return sendJson(res, 200, { allocations: all });
        }
        if (method === 'POST') {
          const body = await readJson(req);
          const s = await manager.allocateAsync(body as Parameters<EipManager['allocate']>[0]);
          return sendJson(res, s.status === 'allocated' ? 201 : 202, s);
        }
        return notAllowed();
      }
      if (b === undefined || parts.length !== 3) return noRoute();
      if (method === 'GET') {
        const s = manager.get(a, b);
        if (!s) {
          throw new EipError('SPROUT_ERR_EIP_NOT_ALLOCATED', `${a}/${b} holds no address and is not pending`);
        }
        return sendJson(res, 200, s);
      }
      if (method === 'DELETE') {
        manager.release(a, b);
        res.writeHead(204).end();
        return;
      }
      return notAllowed();
    }
    case 'events': {
      if (parts.length !== 1) return noRoute();
      if (method !== 'GET') return notAllowed();
      const limit = Number(query.get('limit') ?? 100);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
        throw new PlatformError('SPROUT_ERR_PLATFORM_INVALID_REQUEST', 'limit must be an integer 1-10000');
      }
      return sendJson(res, 200, { events: manager.events(limit) });
    }
    default:
      return noRoute();
  }
}

/** Each pool's spec next to its usage. */
function poolViews(manager: EipManager) {
  const pools = new Map(manager.pools().map((p) => [p.name, p]));
  return manager.usage().map((u) => {
    const p = pools.get(u.name);
    return {
      ...u,
      namespaces: p?.namespaces ?? [],
      ...(p?.namespaceSelector ? { namespaceSelector: p.namespaceSelector } : {}),
      ...(p?.interface ? { interface: p.interface } : {}),
    };
  });
}
