import { Counter, Gauge, type Registry } from '@sprout/observe/metrics';

/** The collector's metrics, registered on `registry`. */
export function collectorMetrics(registry: Registry) {
  return {
    inRecords: new Counter({
      name: 'collector_input_records_total',
      help: 'Records accepted by an input',
      labelNames: ['input'],
      registers: [registry],
    }),
    inBytes: new Counter({
      name: 'collector_input_bytes_total',
      help: 'Bytes accepted by an input',
      labelNames: ['input'],
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'collector_input_rejected_total',
      help: 'Messages an input rejected (undecodable, too large)',
      labelNames: ['input', 'reason'],
      registers: [registry],
    }),
    inDropped: new Counter({
      name: 'collector_input_dropped_total',
      help: 'Messages an input received but could not hand over (UDP datagrams while a filesystem buffer was full)',
      labelNames: ['input', 'reason'],
      registers: [registry],
    }),
    paused: new Gauge({
      name: 'collector_input_paused',
      help: '1 while an input is paused by its memory limit',
      labelNames: ['input'],
      registers: [registry],
    }),
    outRecords: new Counter({
      name: 'collector_output_records_total',
      help: 'Records delivered by an output',
      labelNames: ['output'],
      registers: [registry],
    }),
    bufferBytes: new Gauge({
      name: 'collector_output_buffer_bytes',
      help: "Bytes of an output's filesystem chunks (at most storage.total_limit_size)",
      labelNames: ['output'],
      registers: [registry],
    }),
    retries: new Counter({
      name: 'collector_output_retries_total',
      help: 'Batch retries',
      labelNames: ['output'],
      registers: [registry],
    }),
    dropped: new Counter({
      name: 'collector_output_dropped_records_total',
      help: 'Records given up on: after the retry limit, or refused for good by the output',
      labelNames: ['output'],
      registers: [registry],
    }),
    filterErrors: new Counter({
      name: 'collector_filter_errors_total',
      help: 'Filter calls that threw (record kept unchanged)',
      labelNames: ['filter'],
      registers: [registry],
    }),
  };
}

export type CollectorMetrics = ReturnType<typeof collectorMetrics>;
