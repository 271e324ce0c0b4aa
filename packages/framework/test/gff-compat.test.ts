import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '@sprout/http/testing';
import type { RunningServer } from '@sprout/framework';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fixture, start } from './helpers.js';

// Behaviour of Google's functions framework (node_modules) that Sprout keeps, checked side by side
// on the same function file: x-google-status on a failure, structured CloudEvents sent as plain
// JSON keeping every attribute, and LOG_EXECUTION_ID log lines.
const gffMain = fileURLToPath(
  new URL('../../../node_modules/@google-cloud/functions-framework/build/src/main.js', import.meta.url),
);
const source = fixture('gff-compat');
type Target = 'failHttp' | 'failEvent' | 'echoEvent' | 'logs';
const signature: Record<Target, 'http' | 'cloudevent'> = {
  failHttp: 'http',
  failEvent: 'cloudevent',
  echoEvent: 'cloudevent',
  logs: 'http',
};

const children: ChildProcess[] = [];
const servers: RunningServer[] = [];
const gff = {} as Record<Target, { url: string; out: string[] }>;
const ours = {} as Record<Target, string>;

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
  for (const target of Object.keys(signature) as Target[]) {
    const s = await start(
      { source, target, signatureType: signature[target] },
      { logExecutionId: target === 'logs' },
    );
    servers.push(s);
    ours[target] = `http://127.0.0.1:${s.port}/`;
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [gffMain, `--target=${target}`, `--signature-type=${signature[target]}`, `--source=${source}`],
      {
        env: { ...process.env, PORT: String(port), NODE_ENV: 'production', LOG_EXECUTION_ID: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const out: string[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(...b.toString().split('\n')));
    child.stderr!.on('data', (b: Buffer) => out.push(...b.toString().split('\n')));
    children.push(child);
    gff[target] = { url: `http://127.0.0.1:${port}/`, out };
  }
  await Promise.all(Object.values(gff).map((g) => waitUp(g.url)));
}, 60_000);

afterAll(async () => {
  for (const c of children) c.kill();
  await Promise.all(servers.map((s) => s.close()));
});

const json = { 'content-type': 'application/json' };

describe('Google functions framework behaviour kept by Sprout', () => {
  it.each([
    ['failHttp', 'crash'],
    ['failEvent', 'error'],
  ] as const)('%s answers 500 with x-google-status: %s, as Google does', async (target, status) => {
    const init = {
      method: 'POST',
      headers: { ...json, 'ce-specversion': '1.0', 'ce-id': 'i', 'ce-source': '/s', 'ce-type': 't' },
      body: '{}',
    };
    const [a, b] = await Promise.all([fetch(ours[target], init), fetch(gff[target].url, init)]);
    expect(b.status).toBe(500);
    expect(b.headers.get('x-google-status')).toBe(status);
    expect(a.status).toBe(500);
    expect(a.headers.get('x-google-status')).toBe(status);
    expect(a.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_FRAMEWORK_FUNCTION_FAILED');
  });

  it('keeps every attribute of a structured CloudEvent sent as application/json', async () => {
    const event = {
      specversion: '1.0',
      id: 'e1',
      source: '//pubsub.googleapis.com/projects/p/topics/t',
      type: 'google.cloud.pubsub.topic.v1.messagePublished',
      subject: 'sub',
      time: '2020-09-29T11:32:00.123Z',
      dataschema: 'https://example.com/schema',
      datacontenttype: 'application/json',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      myextension: 'x',
      data: { message: { data: 'aGk=' } },
    };
    const init = { method: 'POST', headers: json, body: JSON.stringify(event) };
    const [a, b] = await Promise.all([fetch(ours.echoEvent, init), fetch(gff.echoEvent.url, init)]);
    expect(await b.json()).toEqual({ event });
    expect(await a.json()).toEqual({ event });
  });

  it('writes LOG_EXECUTION_ID lines in Google’s shape, merging JSON lines', async () => {
    const id = 'exec-123';
    const init = { method: 'POST', headers: { 'function-execution-id': id } };
    const written: string[] = [];
    const spy = (stream: NodeJS.WriteStream) =>
      vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
        written.push(...String(chunk).split('\n'));
        return true;
      });
    const spies = [spy(process.stdout), spy(process.stderr)];
    try {
      expect((await fetch(ours.logs, init)).status).toBe(200);
    } finally {
      for (const s of spies) s.mockRestore();
    }
    expect((await fetch(gff.logs.url, init)).status).toBe(200);
    const until = Date.now() + 10_000;
    while (gff.logs.out.filter((l) => l.includes(id)).length < 3 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    const parse = (lines: string[]) =>
      lines.filter((l) => l.includes(id)).map((l) => JSON.parse(l) as Record<string, unknown>);
    const labels = 'logging.googleapis.com/labels';
    for (const lines of [parse(written), parse(gff.logs.out)]) {
      expect(lines).toHaveLength(3);
      const [text, merged, err] = lines;
      expect(String(text!.message).trim()).toBe('plain text');
      expect(text![labels]).toEqual({ execution_id: id });
      expect(merged).toMatchObject({
        message: 'json',
        severity: 'NOTICE',
        [labels]: { team: 'a', execution_id: id },
      });
      expect(err).toMatchObject({
        message: 'json on stderr',
        severity: 'ERROR',
        [labels]: { execution_id: id },
      });
    }
  });
});
