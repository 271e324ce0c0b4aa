import type { ComponentRef } from '../context.js';
import { DaprOutput } from './dapr.js';
import { HttpBindingOutput } from './http.js';
import { MqttOutput } from './mqtt.js';
import type { ComponentSpec, Output } from './output.js';

export type { ComponentSpec, Output } from './output.js';
export { MemoryOutput } from './memory.js';

/** Component types the framework delivers to natively, without a Dapr sidecar. */
export const NATIVE_OUTPUT_TYPES = [
  'bindings.http',
  'bindings.mqtt',
  'bindings.mqtt3',
  'pubsub.mqtt',
  'pubsub.mqtt3',
];
const MQTT_TYPES = new Set(['bindings.mqtt', 'bindings.mqtt3', 'pubsub.mqtt', 'pubsub.mqtt3']);

/**
 * Picks how an output is delivered: a local component spec with a native engine first, else the
 * Dapr sidecar when one is configured (`DAPR_HTTP_PORT`), else undefined (sends will reject, naming
 * the output and what to add). `appId` is the source of the CloudEvents a native pub/sub output
 * publishes, as daprd uses its app id (the function's name).
 */
export function createOutput(
  name: string,
  ref: ComponentRef,
  specs: ComponentSpec[],
  env: NodeJS.ProcessEnv,
  appId?: string,
): Output | undefined {
  const spec = specs.find((s) => s.name === ref.componentName);
  if (spec) {
    if (spec.type === 'bindings.http') return new HttpBindingOutput(name, spec);
    // bindings.mqtt and pubsub.mqtt are the names OpenFunction's samples and tests use (Dapr's before mqtt3).
    if (MQTT_TYPES.has(spec.type)) return new MqttOutput(name, spec, appId);
  }
  if (env.DAPR_HTTP_PORT) {
    const url = `http://${env.DAPR_HOST ?? '127.0.0.1'}:${env.DAPR_HTTP_PORT}`;
    return new DaprOutput(name, url, env.DAPR_API_TOKEN || undefined);
  }
  return undefined;
}
