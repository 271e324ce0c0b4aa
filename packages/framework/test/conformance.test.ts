import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@sprout/http/testing';
import type { RunningServer } from '@sprout/framework';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, start } from './helpers.js';

// Google's functions-framework-conformance event checks (its Go client's send and validation
// rules, its JSON data vendored in fixtures/conformance/) run against Sprout and against Google's
// Node.js framework (node_modules) serving the same function file, in the same run, with the same
// assertions. Each function writes what it received to CONFORMANCE_OUT; the test reads it back.

const gffMain = fileURLToPath(
  new URL('../../../node_modules/@google-cloud/functions-framework/build/src/main.js', import.meta.url),
);
const data = fixture('conformance');
const fnDir = fixture('conformance-fn');
const names = [
  ...new Set(readdirSync(data).flatMap((f) => /^(.+)-(legacy|cloudevent)-input\.json$/.exec(f)?.[1] ?? [])),
].sort();

type Kind = 'legacy' | 'cloudevent';
type Obj = Record<string, unknown>;
const read = (name: string, suffix: string): Obj | undefined => {
  const p = join(data, `${name}-${suffix}.json`);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as Obj) : undefined;
};

/** The expected output, as the Go client's OutputData/ValidateEvent pick it. */
function expected(name: string, input: Kind, output: Kind): Obj | undefined {
  if (input === 'cloudevent' && output === 'cloudevent') return read(name, 'cloudevent-input');
  if (input !== output) return read(name, `${output}-output-converted`) ?? read(name, `${output}-output`);
  return read(name, `${output}-output`);
}

/** The Go client's sendCE (binary mode, cloudevents sdk-go) or sendHTTP (legacy: POST the JSON). */
function request(input: Kind, body: Obj): { headers: Record<string, string>; body: string } {
  if (input === 'legacy')
    return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === 'data' || k === 'datacontenttype') continue;
    headers[`ce-${k}`] = String(v);
  }
  headers['content-type'] = String(body.datacontenttype ?? 'application/json');
  return { headers, body: JSON.stringify(body.data) };
}

const same = (a: unknown, b: unknown) => JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Obj)[k])]),
    );
  return v;
}
const instant = (v: unknown) => (typeof v === 'string' ? Date.parse(v) : NaN);

/** The Go client's validateCloudEvent / validateLegacyEvent: the fields it compares, by name. */
function validate(output: Kind, got: Obj, want: Obj): string[] {
  const fields: [string, unknown, unknown][] =
    output === 'cloudevent'
      ? [
          ['id', got.id, want.id],
          ['source', got.source, want.source],
          ['subject', got.subject ?? '', want.subject ?? ''],
          ['type', got.type, want.type],
          ['time', instant(got.time), instant(want.time)],
          ['datacontenttype', got.datacontenttype, want.datacontenttype],
          ['data', got.data, want.data],
        ]
      : (() => {
          const g = (got.context ?? {}) as Obj;
          const w = want.context as Obj;
          return [
            ['eventId', g.eventId ?? g.event_id, w.eventId],
            ['eventType', g.eventType ?? g.event_type, w.eventType],
            ['timestamp', instant(g.timestamp), instant(w.timestamp)],
            ['resource', g.resource, w.resource],
            ['data', got.data, want.data],
          ];
        })();
  return fields
    .filter(([, g, w]) => !same(g, w))
    .map(([f, g, w]) => `${f}: got ${JSON.stringify(g)}, want ${JSON.stringify(w)}`);
}

interface Subject {
  url: Record<Kind, string>;
  out: string;
}

const work = mkdtempSync(join(tmpdir(), 'sprout-conformance-'));
const children: ChildProcess[] = [];
const servers: RunningServer[] = [];
const subjects: Record<'sprout' | 'gff', Subject> = {
  sprout: { url: { legacy: '', cloudevent: '' }, out: join(work, 'sprout.json') },
  gff: { url: { legacy: '', cloudevent: '' }, out: join(work, 'gff.json') },
};
/** The http and declarative targets, by name, for each framework. */
const extra: Record<'sprout' | 'gff', Record<string, string>> = { sprout: {}, gff: {} };
const targets: Record<Kind, string> = { legacy: 'writeLegacyEvent', cloudevent: 'writeCloudEvent' };

async function waitUp(url: string): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      await fetch(url, { method: 'OPTIONS' });
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

beforeAll(async () => {
  for (const kind of ['legacy', 'cloudevent'] as const) {
    const signatureType = kind === 'legacy' ? 'event' : 'cloudevent';
    const s = await start({ source: fnDir, target: targets[kind], signatureType });
    servers.push(s);
    subjects.sprout.url[kind] = `http://127.0.0.1:${s.port}/`;
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [gffMain, `--target=${targets[kind]}`, `--signature-type=${signatureType}`, `--source=${fnDir}`],
      {
        env: {
          ...process.env,
          PORT: String(port),
          NODE_ENV: 'production',
          CONFORMANCE_OUT: subjects.gff.out,
        },
        stdio: 'ignore',
      },
    );
    children.push(child);
    subjects.gff.url[kind] = `http://127.0.0.1:${port}/`;
  }
  for (const target of ['writeHttp', 'writeHttpDeclarative', 'writeCloudEventDeclarative']) {
    const s = await start({ source: fnDir, target });
    servers.push(s);
    extra.sprout[target] = `http://127.0.0.1:${s.port}/`;
    const port = await freePort();
    const args = [gffMain, `--target=${target}`, `--source=${fnDir}`];
    if (target === 'writeHttp') args.push('--signature-type=http');
    const child = spawn(process.execPath, args, {
      env: { ...process.env, PORT: String(port), NODE_ENV: 'production', CONFORMANCE_OUT: subjects.gff.out },
      stdio: 'ignore',
    });
    children.push(child);
    extra.gff[target] = `http://127.0.0.1:${port}/`;
  }
  await Promise.all([...Object.values(subjects.gff.url), ...Object.values(extra.gff)].map(waitUp));
}, 60_000);

afterAll(async () => {
  for (const c of children) c.kill();
  await Promise.all(servers.map((s) => s.close()));
  rmSync(work, { recursive: true, force: true });
});

/** Posts one conformance input to one framework and validates what its function wrote. */
async function run(
  who: 'sprout' | 'gff',
  name: string,
  input: Kind,
  output: Kind,
): Promise<string[] | undefined> {
  const body = read(name, `${input}-input`);
  const want = expected(name, input, output);
  if (!body || !want) return undefined;
  const subject = subjects[who];
  rmSync(subject.out, { force: true });
  // The in-process framework (Sprout) reads CONFORMANCE_OUT at call time; the GFF child has its own.
  process.env.CONFORMANCE_OUT = subjects.sprout.out;
  const req = request(input, body);
  const res = await fetch(subject.url[output], { method: 'POST', ...req });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) return [`HTTP ${res.status}: ${text}`];
  if (!existsSync(subject.out)) return ['the function wrote nothing'];
  return validate(output, JSON.parse(readFileSync(subject.out, 'utf8')) as Obj, want);
}

/**
 * Cases Google's Node.js framework (5.0.5) itself fails, by `input→output:name`. The test asserts
 * this list exactly, so a GFF release that changes behaviour shows up here.
 */
const GFF_FAILS = new Set<string>([]);

const modes: [Kind, Kind][] = [
  ['cloudevent', 'cloudevent'],
  ['legacy', 'cloudevent'],
  ['legacy', 'legacy'],
  ['cloudevent', 'legacy'],
];

describe('functions-framework-conformance events, Sprout and Google side by side', () => {
  it('has the vendored data', () => {
    expect(names.length).toBeGreaterThanOrEqual(17);
  });

  for (const [input, output] of modes) {
    it(`${input} requests to a ${output} function`, async () => {
      const gffFailed: string[] = [];
      let ran = 0;
      for (const name of names) {
        const ours = await run('sprout', name, input, output);
        const theirs = await run('gff', name, input, output);
        if (ours === undefined) continue;
        ran++;
        expect(ours, `Sprout ${input}→${output} ${name}`).toEqual([]);
        if (theirs?.length) gffFailed.push(`${input}→${output}:${name}`);
      }
      expect(ran).toBeGreaterThan(0);
      expect(gffFailed.sort()).toEqual(
        [...GFF_FAILS].filter((c) => c.startsWith(`${input}→${output}:`)).sort(),
      );
    }, 120_000);
  }

  /** What a function wrote after one POST, or why there is nothing. */
  async function written(who: 'sprout' | 'gff', url: string, init: RequestInit): Promise<unknown> {
    const out = subjects[who].out;
    rmSync(out, { force: true });
    process.env.CONFORMANCE_OUT = subjects.sprout.out;
    const res = await fetch(url, { method: 'POST', ...init });
    await res.arrayBuffer();
    expect(res.ok, `${who} ${url}: ${res.status}`).toBe(true);
    return JSON.parse(readFileSync(out, 'utf8')) as unknown;
  }

  it.each(['writeHttp', 'writeHttpDeclarative'])(
    'validateHTTP: %s writes the JSON body it got',
    async (target) => {
      const init = { headers: { 'content-type': 'application/json' }, body: '{"res":"PASS"}' };
      for (const who of ['sprout', 'gff'] as const) {
        expect(await written(who, extra[who][target]!, init)).toEqual({ res: 'PASS' });
      }
    },
  );

  it('a declarative cloudevent function passes the CloudEvent cases too', async () => {
    for (const name of names) {
      const body = read(name, 'cloudevent-input');
      if (!body) continue;
      for (const who of ['sprout', 'gff'] as const) {
        const got = await written(who, extra[who].writeCloudEventDeclarative!, request('cloudevent', body));
        expect(validate('cloudevent', got as Obj, body), `${who} ${name}`).toEqual([]);
      }
    }
  });
});
