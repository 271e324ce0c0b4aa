import { describe, expect, it } from 'vitest';
import { isTriggersError } from '../errors.js';
import { readTrigger, readingOf, type TriggerSample } from './metric.js';

const at = new Date('2026-03-02T10:30:00Z'); // a Monday, 11:30 in Europe/Berlin

type Row = [
  label: string,
  trigger: { type: string; metadata: Record<string, string> },
  sample: TriggerSample,
  expected: { metric: string; target: number; value: number; active: boolean; replicas: number },
];

// KEDA's meanings, row by row (defaults and precedence as kedacore/keda pkg/scalers/*_scaler.go).
const ROWS: Row[] = [
  [
    'jetstream default threshold 10',
    { type: 'nats-jetstream', metadata: { stream: 's', consumer: 'c' } },
    { lag: 25 },
    { metric: 'pending', target: 10, value: 25, active: true, replicas: 3 },
  ],
  [
    'jetstream at zero is inactive',
    { type: 'nats-jetstream', metadata: { stream: 's', consumer: 'c' } },
    { lag: 0 },
    { metric: 'pending', target: 10, value: 0, active: false, replicas: 0 },
  ],
  [
    'jetstream below activation: inactive but asks 1',
    {
      type: 'nats-jetstream',
      metadata: { stream: 's', consumer: 'c', lagThreshold: '5', activationLagThreshold: '4' },
    },
    { lag: 4 },
    { metric: 'pending', target: 5, value: 4, active: false, replicas: 1 },
  ],
  [
    'jetstream just over activation',
    {
      type: 'nats-jetstream',
      metadata: { stream: 's', consumer: 'c', lagThreshold: '5', activationLagThreshold: '4' },
    },
    { lag: 5 },
    { metric: 'pending', target: 5, value: 5, active: true, replicas: 1 },
  ],
  [
    'redis group: pendingEntriesCount default 5',
    { type: 'redis-streams', metadata: { stream: 's', consumerGroup: 'g' } },
    { lag: 11 },
    { metric: 'pendingEntries', target: 5, value: 11, active: true, replicas: 3 },
  ],
  [
    'redis group with lagCount: lag wins over pendingEntriesCount',
    {
      type: 'redis-streams',
      metadata: { stream: 's', consumerGroup: 'g', lagCount: '20', pendingEntriesCount: '2' },
    },
    { lag: 41 },
    { metric: 'lag', target: 20, value: 41, active: true, replicas: 3 },
  ],
  [
    'redis without group: streamLength default 5',
    { type: 'redis-streams', metadata: { stream: 's' } },
    { lag: 5 },
    { metric: 'streamLength', target: 5, value: 5, active: true, replicas: 1 },
  ],
  [
    'redis activationLagCount',
    { type: 'redis-streams', metadata: { stream: 's', consumerGroup: 'g', activationLagCount: '3' } },
    { lag: 3 },
    { metric: 'pendingEntries', target: 5, value: 3, active: false, replicas: 1 },
  ],
  [
    'rabbitmq nothing set: QueueLength 20',
    { type: 'rabbitmq', metadata: { queueName: 'q' } },
    { lag: 45 },
    { metric: 'QueueLength', target: 20, value: 45, active: true, replicas: 3 },
  ],
  [
    'rabbitmq deprecated queueLength',
    { type: 'rabbitmq', metadata: { queueName: 'q', queueLength: '7' } },
    { lag: 14 },
    { metric: 'QueueLength', target: 7, value: 14, active: true, replicas: 2 },
  ],
  [
    'rabbitmq QueueLength value/activationValue',
    {
      type: 'rabbitmq',
      metadata: { queueName: 'q', mode: 'QueueLength', value: '10', activationValue: '10' },
    },
    { lag: 10 },
    { metric: 'QueueLength', target: 10, value: 10, active: false, replicas: 1 },
  ],
  [
    'rabbitmq MessageRate: the rate scales',
    { type: 'rabbitmq', metadata: { queueName: 'q', mode: 'MessageRate', value: '50' } },
    { lag: 0, publishRate: 120 },
    { metric: 'MessageRate', target: 50, value: 120, active: true, replicas: 3 },
  ],
  [
    'rabbitmq MessageRate: messages alone keep it active',
    { type: 'rabbitmq', metadata: { queueName: 'q', mode: 'MessageRate', value: '50' } },
    { lag: 3, publishRate: 0 },
    { metric: 'MessageRate', target: 50, value: 0, active: true, replicas: 0 },
  ],
  [
    'rabbitmq fractional value',
    { type: 'rabbitmq', metadata: { queueName: 'q', mode: 'MessageRate', value: '0.5' } },
    { publishRate: 1.2 },
    { metric: 'MessageRate', target: 0.5, value: 1.2, active: true, replicas: 3 },
  ],
  [
    'cron inside the window',
    {
      type: 'cron',
      metadata: { timezone: 'Europe/Berlin', start: '0 11 * * *', end: '0 12 * * *', desiredReplicas: '4' },
    },
    {},
    { metric: 'replicas', target: 1, value: 4, active: true, replicas: 4 },
  ],
  [
    'cron outside the window',
    {
      type: 'cron',
      metadata: { timezone: 'Europe/Berlin', start: '0 12 * * *', end: '0 13 * * *', desiredReplicas: '4' },
    },
    {},
    { metric: 'replicas', target: 1, value: 0, active: false, replicas: 0 },
  ],
  [
    'cron window over midnight',
    {
      type: 'cron',
      metadata: { timezone: 'UTC', start: '0 22 * * *', end: '0 11 * * *', desiredReplicas: '2' },
    },
    {},
    { metric: 'replicas', target: 1, value: 2, active: true, replicas: 2 },
  ],
  [
    'cron timezone decides (same hours, New York is still night)',
    {
      type: 'cron',
      metadata: {
        timezone: 'America/New_York',
        start: '0 11 * * *',
        end: '0 12 * * *',
        desiredReplicas: '4',
      },
    },
    {},
    { metric: 'replicas', target: 1, value: 0, active: false, replicas: 0 },
  ],
  [
    'cron weekday window (Mon-Fri 8-18)',
    {
      type: 'cron',
      metadata: {
        timezone: 'Europe/Berlin',
        start: '0 8 * * 1-5',
        end: '0 18 * * 1-5',
        desiredReplicas: '3',
      },
    },
    {},
    { metric: 'replicas', target: 1, value: 3, active: true, replicas: 3 },
  ],
  [
    'mqtt (Sprout own) targetValue default 10',
    { type: 'mqtt', metadata: { topic: 't' } },
    { lag: 31 },
    { metric: 'unsettled', target: 10, value: 31, active: true, replicas: 4 },
  ],
  [
    'mqtt activationTargetValue',
    { type: 'mqtt', metadata: { topic: 't', targetValue: '2', activationTargetValue: '2' } },
    { lag: 2 },
    { metric: 'unsettled', target: 2, value: 2, active: false, replicas: 1 },
  ],
  [
    'a negative lag reads as zero',
    { type: 'nats-jetstream', metadata: { stream: 's', consumer: 'c' } },
    { lag: -3 },
    { metric: 'pending', target: 10, value: 0, active: false, replicas: 0 },
  ],
];

describe('metricType', () => {
  const t = (metricType?: string) =>
    readTrigger(
      {
        type: 'nats-jetstream',
        metadata: { stream: 's', consumer: 'c', lagThreshold: '10' },
        ...(metricType ? { metricType } : {}),
      },
      'triggers[0]',
    );
  it('AverageValue (the default) divides by the target', () => {
    expect(t().metricType).toBe('AverageValue');
    expect(readingOf(t(), { lag: 25 }, at, 4).replicas).toBe(3);
  });
  it('Value scales the running replicas by value / target, as the HPA does', () => {
    expect(readingOf(t('Value'), { lag: 25 }, at, 4).replicas).toBe(10);
    expect(readingOf(t('Value'), { lag: 5 }, at, 4).replicas).toBe(2);
    expect(readingOf(t('Value'), { lag: 25 }, at, 0).replicas).toBe(3);
    expect(readingOf(t('Value'), { lag: 0 }, at, 4).replicas).toBe(0);
  });
  it('refuses Utilization and Value on cron', () => {
    expect(() => t('Utilization')).toThrow(expect.objectContaining({ field: 'triggers[0].metricType' }));
    expect(() =>
      readTrigger(
        {
          type: 'cron',
          metricType: 'Value',
          metadata: { timezone: 'UTC', start: '0 1 * * *', end: '0 2 * * *', desiredReplicas: '1' },
        },
        'triggers[0]',
      ),
    ).toThrow(expect.objectContaining({ code: 'SPROUT_ERR_TRIGGERS_SCALER_INVALID' }));
  });
});

describe('KEDA metadata names are case-sensitive', () => {
  it.each([
    ['mqtt', { topic: 'x', targetvalue: '5' }, 'targetvalue', 'targetValue'],
    ['nats-jetstream', { stream: 's', consumer: 'c', lagthreshold: '5' }, 'lagthreshold', 'lagThreshold'],
    ['redis-streams', { stream: 's', ConsumerGroup: 'g' }, 'ConsumerGroup', 'consumerGroup'],
    ['rabbitmq', { queueName: 'q', Mode: 'QueueLength', value: '5' }, 'Mode', 'mode'],
    [
      'cron',
      { timezone: 'UTC', start: '0 1 * * *', end: '0 2 * * *', desiredreplicas: '1' },
      'desiredreplicas',
      'desiredReplicas',
    ],
  ])(
    '%s: a miscased key that KEDA and Sprout would ignore is refused, naming it',
    (type, metadata, key, meant) => {
      expect(() => readTrigger({ type, metadata }, 'triggers[0]')).toThrow(
        expect.objectContaining({
          code: 'SPROUT_ERR_TRIGGERS_SCALER_INVALID',
          field: `triggers[0].metadata.${key}`,
          message: expect.stringContaining(`write "${meant}"`),
        }),
      );
    },
  );

  it("keeps keys a cluster's scaler uses that Sprout does not read (connection settings, *FromEnv)", () => {
    const t = readTrigger(
      {
        type: 'nats-jetstream',
        metadata: {
          stream: 's',
          consumer: 'c',
          natsServerMonitoringEndpoint: 'nats:8222',
          account: '$G',
          accountFromEnv: 'ACC',
        },
      },
      'triggers[0]',
    );
    expect(t.source).toBe('s/c');
  });
});

describe('readTrigger fuzzed', () => {
  it('random metadata values either read or are refused with the scaler code, never anything else', () => {
    let x = Number(process.env.SPROUT_FUZZ_SEED ?? Date.now() % 100000) || 1;
    const seed = x;
    const rand = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
    const types = ['nats-jetstream', 'redis-streams', 'rabbitmq', 'cron', 'mqtt', 'kafka', ''];
    const keys = [
      'stream',
      'consumer',
      'lagThreshold',
      'activationLagThreshold',
      'consumerGroup',
      'lagCount',
      'pendingEntriesCount',
      'streamLength',
      'activationLagCount',
      'queueName',
      'mode',
      'value',
      'activationValue',
      'queueLength',
      'timezone',
      'start',
      'end',
      'desiredReplicas',
      'topic',
      'targetValue',
      'activationTargetValue',
    ];
    const values = () =>
      pick([
        () => String(Math.floor(rand() * 100) - 10),
        () => String(rand() * 10),
        () =>
          pick([
            'QueueLength',
            'MessageRate',
            'UTC',
            'Europe/Berlin',
            '0 1 * * *',
            '*/5 * * * 1-5',
            '@every 1s',
            'NaN',
            'Infinity',
            '',
          ]),
        () =>
          Buffer.from(
            Array.from({ length: Math.floor(rand() * 12) }, () => Math.floor(rand() * 256)),
          ).toString('latin1'),
      ])();
    const deadline = Date.now() + 1500;
    let read = 0;
    let refused = 0;
    while (Date.now() < deadline) {
      const metadata: Record<string, string> = {};
      for (let i = Math.floor(rand() * 8); i > 0; i--) metadata[pick(keys)] = values();
      try {
        const t = readTrigger({ type: pick(types), metadata }, 'f');
        const r = readingOf(
          t,
          { lag: Math.floor(rand() * 1000), publishRate: rand() * 100 },
          at,
          Math.floor(rand() * 5),
        );
        expect(Number.isInteger(r.replicas) && r.replicas >= 0, `seed ${seed}`).toBe(true);
        read++;
      } catch (err) {
        expect((err as { code?: string }).code, `seed ${seed}: ${String(err)}`).toBe(
          'SPROUT_ERR_TRIGGERS_SCALER_INVALID',
        );
        refused++;
      }
    }
    expect(read, `seed ${seed}`).toBeGreaterThan(0);
    expect(refused, `seed ${seed}`).toBeGreaterThan(0);
  });
});

describe('KEDA trigger metrics', () => {
  it.each(ROWS)('%s', (_label, trigger, sample, expected) => {
    const t = readTrigger(trigger, 'triggers[0]');
    const r = readingOf(t, sample, at);
    expect({
      metric: t.metric,
      target: t.target,
      value: r.value,
      active: r.active,
      replicas: r.replicas,
    }).toEqual(expected);
  });

  const BAD: [string, { type: string; metadata: Record<string, string> }, string][] = [
    ['unknown type', { type: 'kafka', metadata: {} }, 'triggers[0].type'],
    [
      'jetstream without stream',
      { type: 'nats-jetstream', metadata: { consumer: 'c' } },
      'triggers[0].metadata.stream',
    ],
    [
      'jetstream threshold 0',
      { type: 'nats-jetstream', metadata: { stream: 's', consumer: 'c', lagThreshold: '0' } },
      'triggers[0].metadata.lagThreshold',
    ],
    [
      'jetstream threshold not a number',
      { type: 'nats-jetstream', metadata: { stream: 's', consumer: 'c', lagThreshold: 'ten' } },
      'triggers[0].metadata.lagThreshold',
    ],
    ['redis without stream', { type: 'redis-streams', metadata: {} }, 'triggers[0].metadata.stream'],
    [
      'rabbitmq queueLength with mode',
      { type: 'rabbitmq', metadata: { queueName: 'q', queueLength: '5', mode: 'QueueLength' } },
      'triggers[0].metadata.queueLength',
    ],
    [
      'rabbitmq mode without value',
      { type: 'rabbitmq', metadata: { queueName: 'q', mode: 'QueueLength' } },
      'triggers[0].metadata.value',
    ],
    [
      'rabbitmq value without mode',
      { type: 'rabbitmq', metadata: { queueName: 'q', value: '5' } },
      'triggers[0].metadata.mode',
    ],
    [
      'rabbitmq http-only mode',
      { type: 'rabbitmq', metadata: { queueName: 'q', mode: 'DeliverGetRate', value: '5' } },
      'triggers[0].metadata.mode',
    ],
    [
      'cron start equals end',
      {
        type: 'cron',
        metadata: { timezone: 'UTC', start: '0 1 * * *', end: '0 1 * * *', desiredReplicas: '1' },
      },
      'triggers[0].metadata.end',
    ],
    [
      'cron six fields',
      {
        type: 'cron',
        metadata: { timezone: 'UTC', start: '0 0 1 * * *', end: '0 2 * * *', desiredReplicas: '1' },
      },
      'triggers[0].metadata.start',
    ],
    [
      'cron bad timezone',
      {
        type: 'cron',
        metadata: { timezone: 'Nowhere/Else', start: '0 1 * * *', end: '0 2 * * *', desiredReplicas: '1' },
      },
      'triggers[0].metadata.start',
    ],
    [
      'cron without desiredReplicas',
      { type: 'cron', metadata: { timezone: 'UTC', start: '0 1 * * *', end: '0 2 * * *' } },
      'triggers[0].metadata.desiredReplicas',
    ],
    ['mqtt without topic', { type: 'mqtt', metadata: {} }, 'triggers[0].metadata.topic'],
  ];
  it.each(BAD)('refuses %s naming the field', (_label, trigger, field) => {
    let caught: unknown;
    try {
      readTrigger(trigger, 'triggers[0]');
    } catch (err) {
      caught = err;
    }
    expect(isTriggersError(caught, 'SPROUT_ERR_TRIGGERS_SCALER_INVALID')).toBe(true);
    expect((caught as { field?: string }).field).toBe(field);
  });
});
