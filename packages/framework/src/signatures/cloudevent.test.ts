import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@sprout/http/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServer, type TestServer } from '../testing.js';

// What a cloudevent function answers to a request that is neither a binary-mode nor a
// structured-mode CloudEvent, side by side with Google's functions framework (the anchor, from
// node_modules) serving the same function file.
const anchorMain = fileURLToPath(
  new URL('../../../../node_modules/@google-cloud/functions-framework/build/src/main.js', import.meta.url),
);
const echo = (event: unknown) => ({ event });

let dir: string;
let anchor: ChildProcess;
let anchorUrl: string;
let sprout: TestServer;

async function waitUp(url: string): Promise<void> {
  const until = Date.now() + 20_000;
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
  dir = mkdtempSync(join(tmpdir(), 'sprout-ce-plain-'));
  writeFileSync(join(dir, 'index.js'), 'exports.echo = (event) => ({ event });\n');
  writeFileSync(join(dir, 'package.json'), '{"main":"index.js","type":"commonjs"}\n');
  const port = await freePort();
  anchor = spawn(process.execPath, [anchorMain, '--target=echo', '--signature-type=cloudevent'], {
    cwd: dir,
    env: { ...process.env, PORT: String(port), NODE_ENV: 'production' },
    stdio: 'ignore',
  });
  anchorUrl = `http://127.0.0.1:${port}/`;
  sprout = await testServer({ fn: echo, signatureType: 'cloudevent' });
  await waitUp(anchorUrl);
}, 30_000);

afterAll(async () => {
  anchor?.kill();
  await sprout?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (url: string, body: string | undefined, contentType?: string) =>
  fetch(url, { method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, body });

describe('a cloudevent function given a request that is not a CloudEvent', () => {
  it.each([
    ['plain JSON', '{"id":7,"note":"x"}', 'application/json'],
    ['an empty JSON object', '{}', 'application/json'],
    ['a form', 'a=b', 'application/x-www-form-urlencoded'],
  ])('answers %s as Google does: 200, the object is the event', async (_name, body, type) => {
    const [ours, theirs] = await Promise.all([post(sprout.url, body, type), post(anchorUrl, body, type)]);
    expect(theirs.status).toBe(200);
    expect(ours.status).toBe(theirs.status);
    const expected = type === 'application/json' ? JSON.parse(body) : { a: 'b' };
    expect(await theirs.json()).toEqual({ event: expected });
    expect(await ours.json()).toEqual({ event: expected });
  });

  it('reads a JSON body carrying specversion as a structured-mode event, checked like one', async () => {
    const event = { specversion: '1.0', id: 'e1', source: '/s', type: 't', data: { n: 1 } };
    const ok = await post(sprout.url, JSON.stringify(event), 'application/json');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ event });
    const incomplete = await post(
      sprout.url,
      '{"specversion":"1.0","source":"/s","type":"t"}',
      'application/json',
    );
    expect(incomplete.status).toBe(400);
    expect(incomplete.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_FRAMEWORK_MALFORMED_CLOUDEVENT');
    expect((await incomplete.json()).error.message).toMatch(/"id"/);
  });

  it('still converts a legacy event', async () => {
    const r = await post(
      sprout.url,
      JSON.stringify({ context: { eventId: 'x9', eventType: 'old.type', resource: 'res' }, data: 'payload' }),
      'application/json',
    );
    expect(r.status).toBe(200);
    expect((await r.json()).event).toMatchObject({
      specversion: '1.0',
      id: 'x9',
      type: 'old.type',
      data: 'payload',
    });
  });

  it.each([
    ['no body', undefined, undefined, /no body/],
    ['a text body', 'hello', 'text/plain', /not a JSON object/],
    ['bytes', 'hello', 'application/octet-stream', /not a JSON object/],
    ['a JSON array', '[1,2]', 'application/json', /not a JSON object/],
  ])(
    'answers %s 400 SPROUT_ERR_FRAMEWORK_MALFORMED_CLOUDEVENT, saying how to send one',
    async (_n, body, type, why) => {
      const r = await post(sprout.url, body, type);
      expect(r.status).toBe(400);
      expect(r.headers.get('x-sprout-error-code')).toBe('SPROUT_ERR_FRAMEWORK_MALFORMED_CLOUDEVENT');
      const { error } = await r.json();
      expect(error.code).toBe('SPROUT_ERR_FRAMEWORK_MALFORMED_CLOUDEVENT');
      expect(error.message).toMatch(why);
      expect(error.message).toMatch(/ce-specversion.*application\/cloudevents\+json/);
    },
  );

  it('where Google fails without a body or on text, with a 500 rather than a coded 400', async () => {
    // Recorded so the README's difference table stays true: the anchor crashes on these.
    expect((await post(anchorUrl, undefined)).status).toBe(500);
    expect((await post(anchorUrl, 'hello', 'text/plain')).status).toBe(500);
  });
});
