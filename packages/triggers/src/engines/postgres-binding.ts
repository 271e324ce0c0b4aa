import pg from 'pg';
import { pgConnectionConfig } from '@sprout/state';
import type { BindingResponse, ComponentConfig, MessageMetadata, OutputBindingEngine } from '../broker.js';
import { TriggersError } from '../errors.js';
import { Metadata } from './metadata.js';
import { OutputBinding, bytesOf } from './output.js';

/**
 * Dapr's `bindings.postgresql` output: `exec` and `query` run request metadata `sql` with `params`
 * (a JSON array bound to $1, $2, ...). `query` answers the rows as a JSON array of row arrays;
 * both answer `operation`, `sql`, `start-time`, `end-time`, `duration` (and `rows-affected` for
 * exec) as metadata. `close` is accepted and does nothing (the pool stays, as Dapr's does).
 */
export class PostgresBinding extends OutputBinding implements OutputBindingEngine {
  readonly type = 'bindings.postgresql';
  readonly operations = ['exec', 'query', 'close'] as const;
  private readonly pool: pg.Pool;

  constructor(config: ComponentConfig) {
    super(config);
    const md = new Metadata(
      config,
      ['connectionString', 'timeout', 'maxConns', 'connectionMaxIdleTime', 'queryExecMode', 'direction'],
      {
        useAzureAD: ['false'],
        useAWSIAM: ['false'],
        awsRegion: [],
        awsAccessKey: [],
        awsSecretKey: [],
        awsSessionToken: [],
      },
    );
    md.oneOf('direction', ['output'], 'output');
    md.oneOf(
      'queryExecMode',
      ['cache_statement', 'cache_describe', 'describe_exec', 'exec', 'simple_protocol'],
      'cache_statement',
    );
    const timeout = md.duration('timeout', 20_000);
    const maxConns = md.int('maxConns', 0, -Infinity);
    let conn: ReturnType<typeof pgConnectionConfig>;
    try {
      conn = pgConnectionConfig(md.required('connectionString'));
    } catch (err) {
      throw md.invalid(
        'connectionString',
        `is not a PostgreSQL URL or libpq string: ${(err as Error).message}`,
      );
    }
    this.pool = new pg.Pool({
      ...conn,
      max: maxConns > 0 ? maxConns : 4,
      statement_timeout: timeout,
      connectionTimeoutMillis: timeout,
      idleTimeoutMillis: md.duration('connectionMaxIdleTime', 10_000),
    });
    this.pool.on('error', () => undefined); // an idle client lost; the next query reconnects
  }

  /** Connects once so a wrong address or password fails at start, not on the first event. */
  async ready(): Promise<this> {
    try {
      const c = await this.pool.connect();
      c.release();
      return this;
    } catch (err) {
      await this.pool.end().catch(() => {});
      throw new TriggersError(
        'SPROUT_ERR_TRIGGERS_BROKER_UNAVAILABLE',
        `binding "${this.config.name}" (bindings.postgresql) cannot connect: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  protected async run(
    operation: string,
    _data: Uint8Array,
    metadata: MessageMetadata,
  ): Promise<BindingResponse> {
    if (operation === 'close') return {};
    const sql = this.need(metadata, 'sql', operation);
    let params: unknown[] = [];
    if (metadata.params) {
      try {
        params = JSON.parse(metadata.params) as unknown[];
      } catch {
        params = undefined as never;
      }
      if (!Array.isArray(params))
        throw new TriggersError(
          'SPROUT_ERR_TRIGGERS_METADATA_INVALID',
          `binding "${this.config.name}": metadata "params" must be a JSON array`,
          {
            field: 'metadata.params',
          },
        );
    }
    const start = new Date();
    const res = await this.pool.query({ text: sql, values: params, rowMode: 'array' });
    const end = new Date();
    const meta: Record<string, string> = {
      operation,
      sql,
      'start-time': start.toISOString(),
      'end-time': end.toISOString(),
      duration: `${end.getTime() - start.getTime()}ms`,
    };
    if (operation === 'exec') return { metadata: { ...meta, 'rows-affected': String(res.rowCount ?? 0) } };
    return { data: bytesOf(JSON.stringify(res.rows)), metadata: meta };
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => {});
  }
}
