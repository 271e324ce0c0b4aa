import type { Backend } from '@sprout/gateway';
import type { FunctionRunner } from './runner.js';

/** Wraps a function's supervisor as the gateway's `Backend`: ready instances, scaleTo, change events. */
export function backendFor(runner: FunctionRunner): Backend {
  return {
    name: runner.name,
    instances: () =>
      runner.readyInstances().map((i) => ({ id: i.info.id, host: i.info.host, port: i.info.port })),
    scaleTo: (replicas, reason) => void runner.scaleTo(replicas, reason, 'gateway'),
    onInstancesChanged: (listener) => runner.onInstancesChanged(listener),
  };
}
