import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@sprout/observe';
import { assertNoDuplicateKeys } from '@sprout/observe/testing';
import { startDev, type DevServer } from '../src/index.js';
import { fixtures, until, withToken } from './helpers.js';

const open: DevServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

const POOLS = `
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata:
  name: log-lines-pool
  annotations: { eip.openelb.kubesphere.io/is-default-eip: 'true' }
spec: { address: 127.0.41.1-127.0.41.3, protocol: local }
`;

/** Every line `file` holds (none while it does not exist yet). */
const fileLines = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

describe('sprout dev log lines', () => {
  it('writes every key once on every line: its own, its collector and EIP children, relayed instance lines', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    const dataDir = mkdtempSync(join(tmpdir(), 'sprout-platform-log-lines-'));
    const out = join(dataDir, 'out');
    const config = join(dataDir, 'collector.yaml');
    writeFileSync(
      config,
      `service:
  flush: 0.1
pipeline:
  inputs:
    - name: http
      listen: 127.0.0.1
      port: 0
      tag: side
  filters:
    - name: parser
      match: 'fn.*'
      key_name: log
      parser: json
      reserve_data: on
    - name: modify
      match: 'fn.*'
      add: env local-dev
  outputs:
    - name: file
      match: 'fn.*'
      path: ${out}
      mkdir: true
      format: json_lines
`,
    );
    const d = await startDev({
      cwd: fixtures,
      paths: ['chatty', 'echo'],
      port: 0,
      host: '0.0.0.0',
      apiPort: 0,
      dataDir,
      logger: createLogger({ name: 'sprout', format: 'json', level: 'debug', destination }),
      collector: { configFile: config, scrapeIntervalMs: 100 },
      eip: { apply: POOLS },
    });
    open.push(d);
    expect(
      await (await fetch(`${d.api.url}/v1/functions/chatty/invoke/?id=7`, withToken(d.api.token))).text(),
    ).toBe('chatty 7');
    expect((await fetch(`${d.api.url}/v1/functions/echo/invoke/x`, withToken(d.api.token))).status).toBe(200);
    const collected = await until('the collector wrote the relayed lines', () => {
      const got = fileLines(join(out, 'fn.default.chatty'));
      return got.some((l) => l.includes('plain 7')) && got.some((l) => l.includes('same labels'))
        ? got
        : undefined;
    });
    await d.close();
    open.splice(0);

    const records = lines.map((l) => assertNoDuplicateKeys(l) as Record<string, unknown>);
    for (const l of collected) assertNoDuplicateKeys(l);
    // The platform's children replaced its component; they did not add a second one.
    expect(records.some((r) => r.component === 'collector')).toBe(true);
    expect(records.some((r) => r.component === 'eip')).toBe(true);
    // A relayed line says where it came from; the line's own differing fields are kept under record.
    expect(records.find((r) => r.msg === 'order 7')).toMatchObject({
      component: 'sprout',
      function: 'chatty',
      instance: 'chatty-1',
      stream: 'stdout',
      record: { function: 'hello', instance: 'mine', stream: 'orders', record: { id: '7' } },
    });
    const same = records.find((r) => r.msg === 'same labels')!;
    expect(same).toMatchObject({ level: 'warn', function: 'chatty', stream: 'stderr' });
    expect(same.record).toBeUndefined();
    expect(records.find((r) => r.msg === 'plain 7')).toMatchObject({ function: 'chatty', stream: 'stdout' });
    expect(records.some((r) => r.function === 'echo' && r.msg === 'serving')).toBe(true);
  });
});
