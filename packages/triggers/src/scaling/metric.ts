import { Cron } from 'croner';
import { TriggersError } from '../errors.js';
import { kedaKeyProblem } from './keda-names.js';

/**
 * KEDA's event scalers as pure functions: a trigger's metadata (KEDA's own names and defaults) is
 * read once into a `LagTrigger`, and each poll turns a `TriggerSample` into a `TriggerReading`:
 * the metric value, whether it is active (KEDA's activation: above the activation threshold), and
 * the replicas it asks for (`ceil(value / target)`, as the HPA computes for an AverageValue target).
 */

/** Trigger types the local scaler understands (`mqtt` is Sprout's own; rendered as KEDA `external`). */
export const LAG_TRIGGER_TYPES = ['nats-jetstream', 'redis-streams', 'rabbitmq', 'cron', 'mqtt'] as const;
export type LagTriggerType = (typeof LAG_TRIGGER_TYPES)[number];

/** One trigger of `scaleOptions.keda.scaledObject.triggers[]`, read. */
export interface LagTrigger {
  readonly type: LagTriggerType;
  /** KEDA's trigger `name`, else `<type>-<index>`: the label of its readings. */
  readonly name: string;
  /** What the value is measured as (`pending`, `lag`, `streamLength`, `QueueLength`, `MessageRate`, ...). */
  readonly metric: string;
  /** Value one replica should handle (KEDA's target: lagThreshold, pendingEntriesCount, value, ...). */
  readonly target: number;
  /** The trigger is active when its value is above this (KEDA's activation threshold). */
  readonly activation: number;
  /** The broker-side thing measured (stream/consumer, queue, topic), for messages and events. */
  readonly source: string;
  /**
   * KEDA's `metricType`: `AverageValue` (default) asks `ceil(value / target)` replicas; `Value`
   * compares the whole value with the target, so the HPA asks `ceil(current × value / target)`.
   */
  readonly metricType: 'AverageValue' | 'Value';
  /** cron only. */
  readonly cron?: { readonly start: Cron; readonly end: Cron; readonly desiredReplicas: number };
}

/** What a poll measured for one trigger; the fields a trigger's metric needs. */
export interface TriggerSample {
  /** Messages waiting for the consumer/group (pending + unacknowledged, XPENDING, queue messages, ...). */
  readonly lag?: number;
  /** Messages published per second (rabbitmq `MessageRate`). */
  readonly publishRate?: number;
  /**
   * The consumer's running count of messages it settled from the queue (acked: delivered,
   * dead-lettered or dropped). Without `publishRate`, `LagPoller` derives a MessageRate trigger's
   * rate from it and `lag` (see `PublishRateEstimator`).
   */
  readonly settled?: number;
}

export interface TriggerReading {
  readonly trigger: string;
  readonly type: LagTriggerType;
  readonly value: number;
  readonly active: boolean;
  /** Replicas this trigger alone asks for: `ceil(value / target)`. */
  readonly replicas: number;
}

type Meta = Readonly<Record<string, string>>;

function invalid(field: string, message: string): TriggersError {
  return new TriggersError('SPROUT_ERR_TRIGGERS_SCALER_INVALID', `${field}: ${message}`, { field });
}

/** A KEDA number: unset gives `fallback`; anything else must parse and pass `ok`. */
function num(meta: Meta, key: string, field: string, fallback: number, min = 0, integer = true): number {
  const raw = meta[key];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)))
    throw invalid(`${field}.metadata.${key}`, `"${raw}" is not a ${integer ? 'whole ' : ''}number ≥ ${min}`);
  return n;
}

function required(meta: Meta, key: string, field: string): string {
  const v = meta[key];
  if (v === undefined || v.trim() === '') throw invalid(`${field}.metadata.${key}`, 'is required');
  return v;
}

/** A 5-field cron expression (KEDA's parser: minute hour day-of-month month day-of-week). */
function cronOf(expr: string, timezone: string, field: string): Cron {
  if (expr.trim().split(/\s+/).length !== 5)
    throw invalid(field, `"${expr}" must have five fields (minute hour day-of-month month day-of-week)`);
  try {
    const c = new Cron(expr, { timezone, paused: true });
    c.nextRun(new Date(0));
    return c;
  } catch (err) {
    throw invalid(field, `"${expr}" in timezone "${timezone}": ${(err as Error).message}`);
  }
}

/**
 * Reads one KEDA trigger (`{type, name?, metadata}`) with KEDA's names and defaults:
 * - nats-jetstream: `stream`, `consumer`, `lagThreshold` (10), `activationLagThreshold` (0);
 *   value = the consumer's pending + ack-pending.
 * - redis-streams: `stream`, `consumerGroup`; with a group, `lagCount` when set (value: the
 *   group's lag) else `pendingEntriesCount` (5; value: XPENDING); without a group `streamLength`
 *   (5; value: XLEN); `activationLagCount` (0).
 * - rabbitmq: `queueName`, `mode` QueueLength|MessageRate with `value`, or the deprecated
 *   `queueLength` (nothing set: QueueLength 20); `activationValue` (0). MessageRate is active when
 *   the publish rate or the queue's messages are above the activation value.
 * - cron: `timezone`, `start`, `end`, `desiredReplicas` (all required, start ≠ end).
 * - mqtt (Sprout's own): `topic`, `targetValue` (10), `activationTargetValue` (0); value = the
 *   messages the function's MQTT subscription holds unsettled or queued.
 * Any other key that is not one of the scaler's KEDA names (a connection setting, `<name>FromEnv`)
 * is refused, as are KEDA names the local scaler does not follow (`kedaKeyProblem`). Given `at` (from
 * @sprout/spec, `ScalerTrigger.at`) a refusal leads with the `file:line` of the key, or of the
 * trigger for a key it lacks.
 */
export function readTrigger(
  trigger: { type: string; name?: string; metadata?: Meta; metricType?: string; at?: ScalerPositions },
  field: string,
  index = 0,
): LagTrigger {
  try {
    const metricType = trigger.metricType ?? 'AverageValue';
    if (metricType !== 'AverageValue' && metricType !== 'Value')
      throw invalid(
        `${field}.metricType`,
        `"${metricType}" is not scaled locally; use AverageValue or Value`,
      );
    if (metricType === 'Value' && trigger.type === 'cron')
      throw invalid(`${field}.metricType`, "KEDA's cron scaler supports AverageValue only");
    const problem = kedaKeyProblem(trigger.type, trigger.metadata ?? {});
    if (problem) throw invalid(`${field}.metadata.${problem.key}`, problem.message);
    return { ...readKind(trigger, field, index), metricType };
  } catch (err) {
    throw placed(err, trigger.at, `${field}.metadata.`);
  }
}

/**
 * Where a trigger is written (`file:line`, as @sprout/spec keeps it for a function.yaml): the
 * trigger's own line and each metadata key's.
 */
export interface ScalerPositions {
  readonly trigger: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * A refusal led by where it is written: the key's line for a key that is there, else the trigger's
 * (a required key that is missing: the map that lacks it; `type`, `metricType`).
 */
function placed(err: unknown, at: ScalerPositions | undefined, prefix: string): unknown {
  if (!at || !(err instanceof TriggersError) || !err.field) return err;
  const key = err.field.startsWith(prefix) ? err.field.slice(prefix.length) : undefined;
  const line = key !== undefined && Object.hasOwn(at.metadata, key) ? at.metadata[key]! : at.trigger;
  return new TriggersError(err.code, `${line}: ${err.message}`, { field: err.field });
}

function readKind(
  trigger: { type: string; name?: string; metadata?: Meta },
  field: string,
  index: number,
): Omit<LagTrigger, 'metricType'> {
  const meta = trigger.metadata ?? {};
  const name = trigger.name ?? `${trigger.type}-${index}`;
  switch (trigger.type) {
    case 'nats-jetstream': {
      const source = `${required(meta, 'stream', field)}/${required(meta, 'consumer', field)}`;
      const target = num(meta, 'lagThreshold', field, 10, 1);
      const activation = num(meta, 'activationLagThreshold', field, 0);
      return { type: 'nats-jetstream', name, metric: 'pending', target, activation, source };
    }
    case 'redis-streams': {
      const stream = required(meta, 'stream', field);
      const group = meta.consumerGroup ?? '';
      const activation = num(meta, 'activationLagCount', field, 0);
      const base = { type: 'redis-streams' as const, name, activation };
      if (!group) {
        const target = num(meta, 'streamLength', field, 5, 1);
        return { ...base, metric: 'streamLength', target, source: stream };
      }
      const lag = num(meta, 'lagCount', field, 0);
      if (lag !== 0) return { ...base, metric: 'lag', target: lag, source: `${stream}/${group}` };
      const target = num(meta, 'pendingEntriesCount', field, 5, 1);
      return { ...base, metric: 'pendingEntries', target, source: `${stream}/${group}` };
    }
    case 'rabbitmq':
      return readRabbit(meta, field, name);
    case 'cron': {
      const timezone = required(meta, 'timezone', field);
      const startExpr = required(meta, 'start', field);
      const endExpr = required(meta, 'end', field);
      if (startExpr === endExpr)
        throw invalid(`${field}.metadata.end`, 'start and end can not have exactly the same time');
      const desiredReplicas = num(meta, 'desiredReplicas', field, 0, 1);
      if (desiredReplicas === 0) throw invalid(`${field}.metadata.desiredReplicas`, 'is required');
      const cron = {
        start: cronOf(startExpr, timezone, `${field}.metadata.start`),
        end: cronOf(endExpr, timezone, `${field}.metadata.end`),
        desiredReplicas,
      };
      return { type: 'cron', name, metric: 'replicas', target: 1, activation: 0, source: timezone, cron };
    }
    case 'mqtt': {
      const source = required(meta, 'topic', field);
      const target = num(meta, 'targetValue', field, 10, 1);
      const activation = num(meta, 'activationTargetValue', field, 0);
      return { type: 'mqtt', name, metric: 'unsettled', target, activation, source };
    }
    default:
      throw invalid(
        `${field}.type`,
        `"${trigger.type}" has no local scaler; the types that scale locally are ${LAG_TRIGGER_TYPES.join(', ')}`,
      );
  }
}

function readRabbit(meta: Meta, field: string, name: string): Omit<LagTrigger, 'metricType'> {
  const source = required(meta, 'queueName', field);
  const queueLength = num(meta, 'queueLength', field, 0, 0, false);
  const mode = meta.mode ?? '';
  const value = num(meta, 'value', field, 0, 0, false);
  const activation = num(meta, 'activationValue', field, 0, 0, false);
  const base = { type: 'rabbitmq' as const, name, activation, source };
  if (queueLength === 0 && mode === '' && value === 0) return { ...base, metric: 'QueueLength', target: 20 };
  if (queueLength !== 0) {
    if (mode !== '' || value !== 0)
      throw invalid(`${field}.metadata.queueLength`, 'is deprecated and cannot be combined with mode/value');
    return { ...base, metric: 'QueueLength', target: queueLength };
  }
  if (mode === '') throw invalid(`${field}.metadata.mode`, 'must be specified (QueueLength or MessageRate)');
  if (value === 0) throw invalid(`${field}.metadata.value`, 'must be specified');
  if (mode !== 'QueueLength' && mode !== 'MessageRate')
    throw invalid(
      `${field}.metadata.mode`,
      `"${mode}" is not scaled locally; the modes are QueueLength and MessageRate`,
    );
  return { ...base, metric: mode, target: value };
}

/**
 * KEDA's cron activity: active while the next `end` comes before the next `start` (the window
 * has opened and not yet closed), evaluated in the trigger's timezone.
 */
function cronActive(cron: NonNullable<LagTrigger['cron']>, now: Date): boolean {
  const start = cron.start.nextRun(now);
  const end = cron.end.nextRun(now);
  if (!start || !end) return false;
  return end.getTime() < start.getTime();
}

/** One trigger's reading from one sample at `now`, for a function that runs `current` replicas. */
export function readingOf(t: LagTrigger, sample: TriggerSample, now: Date, current = 0): TriggerReading {
  let value: number;
  let active: boolean;
  if (t.cron) {
    active = cronActive(t.cron, now);
    value = active ? t.cron.desiredReplicas : 0;
  } else if (t.metric === 'MessageRate') {
    value = Math.max(0, sample.publishRate ?? 0);
    active = value > t.activation || Math.max(0, sample.lag ?? 0) > t.activation;
  } else {
    value = Math.max(0, sample.lag ?? 0);
    active = value > t.activation;
  }
  const ratio = value / t.target;
  const replicas = Math.max(
    0,
    Math.ceil((t.metricType === 'Value' ? Math.max(current, 1) * ratio : ratio) - 1e-9),
  );
  return { trigger: t.name, type: t.type, value, active, replicas };
}
