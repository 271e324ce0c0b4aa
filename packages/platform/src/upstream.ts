import type { FunctionUpstream } from '@sprout/gateway';
import type { FunctionRunner } from './runner.js';

/** Wraps a function's supervisor as the gateway's `FunctionUpstream`: ready instances, scaleTo, change events. */
export function upstreamFor(runner: FunctionRunner): FunctionUpstream {
  return {
    name: runner.name,
    instances: () =>
      runner.readyInstances().map((i) => ({ id: i.info.id, host: i.info.host, port: i.info.port })),
    scaleTo: (replicas, reason) => void runner.scaleTo(replicas, reason, 'gateway'),
    onInstancesChanged: (listener) => runner.onInstancesChanged(listener),
  };
}
