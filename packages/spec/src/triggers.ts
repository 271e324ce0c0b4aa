import { SpecError } from './errors.js';
import type { FunctionDocument } from './function-schema.js';
import type { ComponentRef } from './context.js';
import type { FunctionTriggers, InputTrigger, ScalerTrigger } from './resolved.js';
import type { Locator } from './yaml.js';

type Serving = NonNullable<FunctionDocument['spec']['serving']>;

/**
 * Component types an input trigger (`serving.triggers.dapr[].type`) may have locally: the ones
 * `@sprout/triggers` has an input engine for. `pubsub.mqtt` is the older name OpenFunction's samples
 * still use for `pubsub.mqtt3`, as `bindings.mqtt` is for `bindings.mqtt3`.
 */
export const LOCAL_INPUT_TYPES = [
  'pubsub.in-memory',
  'pubsub.redis',
  'pubsub.jetstream',
  'pubsub.rabbitmq',
  'pubsub.mqtt3',
  'pubsub.mqtt',
  'bindings.cron',
  'bindings.mqtt3',
  'bindings.mqtt',
] as const;

/**
 * KEDA scaler types (`scaleOptions.keda.triggers[].type`) Sprout scales on locally, as
 * `@sprout/triggers` reads them. `mqtt` is Sprout's own (KEDA has none; it renders as `external`).
 */
export const LOCAL_SCALER_TYPES = ['nats-jetstream', 'redis-streams', 'rabbitmq', 'cron', 'mqtt'] as const;

/** KEDA ScaledObject defaults: `pollingInterval` 30 s, `cooldownPeriod` 300 s. */
const KEDA_POLLING_INTERVAL_S = 30;
const KEDA_COOLDOWN_PERIOD_S = 300;

const isBinding = (type: string) => type.startsWith('bindings.');

/**
 * The input triggers (`serving.triggers.dapr`) and KEDA event scaling (`scaleOptions.keda.scaledObject`
 * and `keda.triggers`) of a Function, or undefined when it has neither. A trigger's type is its own
 * `type`, else the type of the binding or pub/sub of that name in the serving block, as OpenFunction's
 * controller resolves it. Types without a local engine are refused naming the ones that run.
 */
export function triggersOf(serving: Serving, at: Locator): FunctionTriggers | undefined {
  const dapr = serving.triggers?.dapr;
  const keda = serving.scaleOptions?.keda;
  if (!dapr?.length && !keda?.scaledObject && !keda?.triggers) return undefined;
  const inputs = (dapr ?? []).map((t, i): InputTrigger => {
    const path = ['spec', 'serving', 'triggers', 'dapr', i];
    const componentType = t.type ?? serving.bindings?.[t.name]?.type ?? serving.pubsub?.[t.name]?.type;
    if (componentType === undefined)
      throw invalid(
        at,
        [...path, 'type'],
        `no type, and no serving.bindings or serving.pubsub named "${t.name}"`,
      );
    if (!(LOCAL_INPUT_TYPES as readonly string[]).includes(componentType))
      throw unsupported(
        at,
        [...path, ...(t.type === undefined ? ['name'] : ['type'])],
        `component type "${componentType}" has no local engine; sprout dev runs ${LOCAL_INPUT_TYPES.join(', ')}`,
      );
    if (!isBinding(componentType) && !t.topic)
      throw invalid(at, [...path, 'topic'], `a pub/sub trigger (${componentType}) needs a topic`);
    return {
      name: t.inputName ?? t.name,
      componentName: t.name,
      componentType,
      ...(!isBinding(componentType) && t.topic ? { topic: t.topic } : {}),
    };
  });
  const so = keda?.scaledObject;
  const scalers = (keda?.triggers ?? []).map((t, i): ScalerTrigger => {
    const path = ['spec', 'serving', 'scaleOptions', 'keda', 'triggers', i];
    if (!(LOCAL_SCALER_TYPES as readonly string[]).includes(t.type))
      throw unsupported(
        at,
        [...path, 'type'],
        `KEDA scaler "${t.type}" is not run locally; sprout dev scales on ${LOCAL_SCALER_TYPES.join(', ')}`,
      );
    return {
      type: t.type,
      ...(t.name !== undefined ? { name: t.name } : {}),
      metadata: { ...t.metadata },
      metricType: t.metricType ?? 'AverageValue',
      at: {
        trigger: at(path),
        metadata: Object.fromEntries(
          Object.keys(t.metadata ?? {}).map((k) => [k, at([...path, 'metadata', k])]),
        ),
      },
    };
  });
  return {
    inputs,
    scaling: {
      pollingIntervalMs: (so?.pollingInterval ?? KEDA_POLLING_INTERVAL_S) * 1000,
      cooldownPeriodMs: (so?.cooldownPeriod ?? KEDA_COOLDOWN_PERIOD_S) * 1000,
      triggers: scalers,
    },
  };
}

/** FUNC_CONTEXT `inputs` as OpenFunction's controller writes them: `uri` is the topic, or the binding's name. */
export function contextInputs(inputs: InputTrigger[]): Record<string, ComponentRef> {
  return Object.fromEntries(
    inputs.map((t): [string, ComponentRef] => [
      t.name,
      {
        componentName: t.componentName,
        componentType: t.componentType,
        uri: isBinding(t.componentType) ? t.componentName : t.topic,
      },
    ]),
  );
}

function invalid(at: Locator, path: (string | number)[], why: string): SpecError {
  const field = path.join('.');
  return new SpecError('SPROUT_ERR_SPEC_INVALID_FUNCTION', `${at(path)}: field "${field}": ${why}`, {
    field,
  });
}

function unsupported(at: Locator, path: (string | number)[], why: string): SpecError {
  const field = path.join('.');
  return new SpecError(
    'SPROUT_ERR_SPEC_UNSUPPORTED_FIELD',
    `${at(path)}: field "${field}": ${why}; change it or run on Kubernetes`,
    { field },
  );
}
