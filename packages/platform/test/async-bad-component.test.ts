// Invalid component metadata in --resources-path (a JetStream pub/sub whose ackWait is not a
// duration) and in a function.yaml's own serving.pubsub (a key Dapr does not document): each function
// is reported with a coded problem naming the file, the line, the component and the field, and the
// function on the good component beside them is served and keeps receiving.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './async-dev.js';
import { startTestDev, type TestDev } from './helpers.js';

let dev: TestDev;

beforeAll(async () => {
  dev = await startTestDev(['async-res', 'async-broken', 'async-broken-inline'], {
    eip: false,
    collector: false,
    standby: 0,
    resourcesPath: 'async-bad-resources',
  });
});
afterAll(async () => {
  await dev?.close();
});

const publish = (pubsub: string, body: unknown) =>
  fetch(`${dev.async.url}/v1.0/publish/${pubsub}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'dapr-api-token': dev.api.token },
    body: JSON.stringify(body),
  });

describe('invalid component metadata in --resources-path', () => {
  it('is a coded problem naming the file, the line, the component and the field; the other function keeps receiving (an oversized publish beside it too)', async () => {
    const problemOf = (fn: string) =>
      until(`${fn} reported`, async () => {
        const problems = (await dev.call('/v1/functions')).body.problems as {
          code: string;
          message: string;
        }[];
        return problems.find((p) => p.message.includes(fn === 'async-broken' ? 'broken.yaml' : fn));
      });
    // The resources file: the line of the malformed value.
    const problem = await problemOf('async-broken');
    expect(problem.code).toBe('SPROUT_ERR_TRIGGERS_METADATA_INVALID');
    expect(problem.message).toMatch(
      /^broken\.yaml:13: component "broken" \(pubsub\.jetstream\): metadata "ackWait".*soon/,
    );
    // The function.yaml's own pub/sub: the line of the key Dapr does not document.
    const inline = await problemOf('async-broken-inline');
    expect(inline.code).toBe('SPROUT_ERR_TRIGGERS_METADATA_UNSUPPORTED');
    const file = join('async-broken-inline', 'function.yaml');
    expect(inline.message).toContain(
      `${file}:24: component "inline-broken" (pubsub.jetstream): unknown metadata "ackWiat"`,
    );
    // Not subscribed: no triggers shown for them.
    expect(dev.platform.view('async-broken').triggers).toBeUndefined();
    expect(dev.platform.view('async-broken-inline').triggers).toBeUndefined();

    // An oversized body (over daprd's 4 MiB default) is refused with its code; nothing reaches the bus.
    const big = await publish('bus', { kind: 'big', pad: 'x'.repeat(5 * 1024 * 1024) });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({
      details: [expect.objectContaining({ reason: 'SPROUT_ERR_TRIGGERS_BODY_TOO_LARGE' })],
    });
    for (let n = 1; n <= 3; n++) expect((await publish('bus', { kind: `job-${n}` })).status).toBe(204);
    await until('the good function took all three', () =>
      dev.platform.view('async-res').triggers?.bus?.delivered === 3 ? true : undefined,
    );
    const jobs = dev.logs.filter((l) => l.msg === 'job').map((l) => l.kind);
    expect(jobs.sort()).toEqual(['job-1', 'job-2', 'job-3']);
    // The broken component is not served by the Dapr API either: Dapr's answer for a pub/sub it lacks.
    const r = await publish('broken', { kind: 'x' });
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ errorCode: 'ERR_PUBSUB_NOT_FOUND' });
  }, 60_000);
});
