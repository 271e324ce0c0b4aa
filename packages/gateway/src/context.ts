import type { Agent, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@sprout/observe';
import type { CompiledRoute } from './function-slot.js';
import type { GatewayMetrics } from './metrics.js';
import type { PoolSet } from './pools.js';
import type { UpstreamConns } from './forward/upstream-conns.js';
import type { RouteSet } from './routing.js';

/** What the parts of one gateway share: made once by `createGateway`, never per request. */
export interface GatewayContext {
  readonly log: Logger;
  /** Lower-cased name of the cold-start response header. */
  readonly coldHeader: string;
  /** The cold-start header as a response carries it, `true` and `false`: made once, not per request. */
  readonly coldMarks: { readonly cold: readonly [string, string]; readonly warm: readonly [string, string] };
  readonly metrics: GatewayMetrics;
  /** undici connection pools (requests without a body), one per instance address. */
  readonly pools: PoolSet;
  /** Requests without a body go over raw pooled connections (`conns`) instead of undici. */
  readonly rawForwarding: boolean;
  /** The raw forwarding path's connections, one pool per instance address. */
  readonly conns: UpstreamConns;
  /** The node:http keep-alive agent (requests with a body). */
  readonly agent: Agent;
  /** The routing table and the functions behind it. */
  readonly routes: RouteSet;
  /** Sockets that switched protocols (closed by the gateway's `close()`). */
  readonly upgraded: Set<Duplex>;
  /** Set once `close()` starts: new requests get 503. */
  closing: boolean;
}

/** One client request across holding, forwarding and retries. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  route: CompiledRoute;
  /** The path (and query) sent to the instance. */
  path: string;
  /** Request headers for the instance, made once on the first attempt. */
  headers: string[] | undefined;
  /** The request waited for an instance. */
  cold: boolean;
  attempts: number;
  /** Instances that refused this request's connection. */
  exclude: Set<string> | undefined;
  /** Set while the request is held: drops it from the queue. */
  cancelWait: (() => void) | undefined;
  /** What to abort when the client goes away. */
  upstream: { destroy(): void } | undefined;
}
