import type { FunctionUpstream } from '@sprout/gateway';
import type { FunctionRunner } from './runner.js';

/**
 * A function whose replicas one lag scaler decides (an async function's `LagPoller`): the gateway's
 * HTTP demand is handed to it as one more input instead of scaling the function directly, so the
 * function has one decision path whatever asks for instances.
 */
export interface LagRoute {
  httpDemand(replicas: number, reason: string): void;
}

/** Which functions a lag scaler decides for, by name (held by the platform, set by `sprout dev`). */
export class ScalePaths {
  private readonly routes = new Map<string, LagRoute>();

  /** Routes the gateway's demand for `name` to `route`; returns the undo. */
  set(name: string, route: LagRoute): () => void {
    this.routes.set(name, route);
    return () => {
      if (this.routes.get(name) === route) this.routes.delete(name);
    };
  }

  get(name: string): LagRoute | undefined {
    return this.routes.get(name);
  }
}

/**
 * Wraps a function's supervisor as the gateway's `FunctionUpstream`: ready instances, scaleTo, change
 * events. With a lag scaler set for the function in `paths`, the gateway's count goes to it as
 * demand; else it scales the supervisor directly.
 */
export function upstreamFor(runner: FunctionRunner, paths?: ScalePaths): FunctionUpstream {
  return {
    name: runner.name,
    instances: () =>
      runner.readyInstances().map((i) => ({ id: i.info.id, host: i.info.host, port: i.info.port })),
    scaleTo: (replicas, reason) => {
      const lag = paths?.get(runner.name);
      if (lag) lag.httpDemand(replicas, reason);
      else void runner.scaleTo(replicas, reason, 'gateway');
    },
    onInstancesChanged: (listener) => runner.onInstancesChanged(listener),
  };
}
