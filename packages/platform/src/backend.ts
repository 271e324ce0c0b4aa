import type { FunctionRunner } from './runner.js';

/** A ready instance as the gateway sees it (the gateway's `InstanceEndpoint`). */
export interface InstanceEndpoint {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

/** The gateway's `Backend` contract (packages/gateway/src/backend.ts), implemented over a runner. */
export interface FunctionBackend {
  readonly name: string;
  instances(): readonly InstanceEndpoint[];
  scaleTo(replicas: number, reason: string): void;
  onInstancesChanged(listener: () => void): () => void;
}

/** Wraps a function's supervisor as the gateway's `Backend`. */
export function backendFor(runner: FunctionRunner): FunctionBackend {
  return {
    name: runner.name,
    instances: () =>
      runner.readyInstances().map((i) => ({ id: i.info.id, host: i.info.host, port: i.info.port })),
    scaleTo: (replicas, reason) => void runner.scaleTo(replicas, reason),
    onInstancesChanged: (listener) => runner.onInstancesChanged(listener),
  };
}
