import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseConfig, type CollectorRecord, type OutputInstance } from '../src/index.js';
import { quiet, sink, startCapture } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'collector-outputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Builds the configured output instance the way the engine does. */
function output(yaml: string): OutputInstance {
  const o = parseConfig(`pipeline:\n  outputs:\n    - ${yaml}\n`).outputs[0]!;
  return o.plugin.create(o.options, { log: quiet, name: o.id });
}

const records: CollectorRecord[] = [
  { time: 1_700_000_000_000_000_000n, tag: 'conf.a', body: { msg: 'first', n: 1 } },
  {
    time: 1_700_000_000_500_000_000n,
    tag: 'conf.a',
    body: { msg: 'ünïcode ✓ "quoted"\nline', nested: { a: [1, { b: null }] } },
  },
  { time: 1_700_000_001_000_000_000n, tag: 'conf.b', body: { flag: true, big: 2 ** 53 - 1 } },
];

interface Case {
  name: string;
  setup(): Promise<{
    out: OutputInstance;
    read(): Promise<Array<Record<string, unknown>>>;
    close(): Promise<void>;
  }>;
}

// One conformance suite, each output run with its own factory and a way to read back what it wrote.
const cases: Case[] = [
  {
    name: 'stdout json_lines',
    async setup() {
      const lines: string[] = [];
      const spy = vi
        .spyOn(process.stdout, 'write')
        .mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
      return {
        out: output("{ name: stdout, match: '*', json_date_key: false }"),
        read: async () =>
          lines
            .join('')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Record<string, unknown>),
        close: async () => spy.mockRestore(),
      };
    },
  },
  {
    name: 'file json_lines',
    async setup() {
      const name = `out-${Math.random().toString(36).slice(2)}`;
      return {
        out: output(
          `{ name: file, match: '*', path: ${dir}, file: ${name}, format: json_lines, json_date_key: false }`,
        ),
        read: async () =>
          readFileSync(join(dir, name), 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Record<string, unknown>),
        close: async () => {},
      };
    },
  },
  {
    name: 'http json',
    async setup() {
      const s = await sink();
      return {
        out: output(
          `{ name: http, match: '*', host: 127.0.0.1, port: ${s.port}, uri: /in, json_date_key: false }`,
        ),
        read: async () =>
          s.bodies.flatMap((b) => JSON.parse(b.body.toString()) as Array<Record<string, unknown>>),
        close: () => s.close(),
      };
    },
  },
  {
    name: 'opentelemetry',
    async setup() {
      const far = await startCapture(
        `service: { flush: 0.01 }\npipeline:\n  inputs:\n    - { name: opentelemetry, listen: 127.0.0.1, port: 0 }\n  outputs:\n    - { name: stdout, match: '*' }\n`,
      );
      return {
        out: output(`{ name: opentelemetry, match: '*', host: 127.0.0.1, port: ${far.port()} }`),
        read: async () => {
          await far.c.flush();
          return (far.got.get('stdout.0') ?? []).map((r) => r.body);
        },
        close: () => far.c.close(),
      };
    },
  },
];

describe.each(cases)('output conformance: $name', ({ setup }) => {
  it('delivers a batch whole, in order, values intact', async () => {
    const t = await setup();
    try {
      await t.out.write(records);
      expect(await t.read()).toEqual(records.map((r) => r.body));
    } finally {
      await t.close();
    }
  });

  it('appends later batches after earlier ones', async () => {
    const t = await setup();
    try {
      await t.out.write(records.slice(0, 1));
      await t.out.write(records.slice(1));
      expect(await t.read()).toEqual(records.map((r) => r.body));
    } finally {
      await t.close();
    }
  });
});

describe('outputs', () => {
  it('http and opentelemetry throw on a refusing destination (so the engine retries)', async () => {
    const s = await sink(() => 503);
    await expect(
      output(`{ name: http, match: '*', host: 127.0.0.1, port: ${s.port} }`).write(records),
    ).rejects.toMatchObject({ code: 'SPROUT_ERR_COLLECTOR_OUTPUT_FAILED' });
    await expect(
      output(`{ name: opentelemetry, match: '*', host: 127.0.0.1, port: ${s.port} }`).write(records),
    ).rejects.toThrow(/answered 503/);
    await s.close();
  });

  it('stdout adds the date key in the chosen format; counter prints running totals', async () => {
    const lines: string[] = [];
    const spy = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
    try {
      await output("{ name: stdout, match: '*', json_date_format: iso8601 }").write(records.slice(0, 1));
      const c = output("{ name: counter, match: '*' }");
      await c.write(records);
      await c.write(records.slice(0, 1));
      await output("{ name: 'null', match: '*' }").write(records);
    } finally {
      spy.mockRestore();
    }
    expect(JSON.parse(lines[0]!)).toEqual({ date: '2023-11-14T22:13:20.000000Z', msg: 'first', n: 1 });
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^\d+,3 \(total = 3\)\n$/),
      expect.stringMatching(/^\d+,1 \(total = 4\)\n$/),
    ]);
  });

  it('file out_file format and per-tag file names', async () => {
    await output(`{ name: file, match: '*', path: ${dir} }`).write(records);
    expect(readFileSync(join(dir, 'conf.b'), 'utf8')).toBe(
      'conf.b: [1700000001, {"flag":true,"big":9007199254740991}]\n',
    );
    expect(readFileSync(join(dir, 'conf.a'), 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
  });
});
