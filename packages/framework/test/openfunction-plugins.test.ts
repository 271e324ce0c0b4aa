// OpenFunction's own test plugins (test/fixtures/openfunction/test/data/plugins, unchanged) under
// Sprout, as upstream's test/plugin.ts and the custom-plugins case of
// test/integration/async_server.ts drive them: plugins named by the name their constructor passes
// to Plugin, a pre/post sequence of one plugin, a plugin reading another that no list names, and a
// plugin whose name is blank.
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '@sprout/framework';
import { fixture, json, start } from './helpers.js';

const source = fixture('of-plugins');
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(target: string, context: Record<string, unknown>): Promise<RunningServer> {
  const s = await start({
    source,
    target,
    signatureType: 'openfunction',
    context: { name: 'of-plugins', version: 'v1', ...context },
  });
  servers.push(s);
  return s;
}

describe("OpenFunction's test plugins", () => {
  it('are found by the name their constructor gives; a sequence of one plugin runs its hooks in order, every call', async () => {
    const seq = ['ticktock', 'ticktock', 'ticktock'];
    const s = await serve('tick', { runtime: 'Knative', prePlugins: seq, postPlugins: seq });
    const plugins = s.functions[0]!.resources.plugins;
    // every plugin class of the folder is loaded, as in OpenFunction's store, except the blank-named one
    expect([...plugins.keys()].sort()).toEqual(['countdown', 'numbers', 'ticktock']);
    expect(plugins.get('ticktock')).toMatchObject({
      name: 'ticktock',
      version: 'v1',
      ofn_plugin_version: 'v1',
    });
    for (let i = 0; i < 2; i++) {
      const r = await fetch(s.url, { method: 'POST', headers: json, body: '{}' });
      expect(await r.json()).toEqual({ tick: 3 });
      expect(plugins.get('ticktock')?.value).toBe(0);
    }
  });

  it("run upstream's countdown under the async runtime: a post hook per step, reading the numbers plugin no list names", async () => {
    const numbers = 8; // upstream starts from the numbers plugin's `oct`
    const s = await serve('countdown', {
      runtime: 'Async',
      inputs: {
        mqtt_binding: { uri: 'default', componentName: 'binding-mqtt', componentType: 'bindings.mqtt' },
      },
      prePlugins: ['countdown'],
      postPlugins: Array(numbers).fill('countdown'),
    });
    const r = await fetch(`${s.url}/binding-mqtt`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ start: numbers }),
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ start: numbers, done: true, current: -numbers });
    expect(s.functions[0]!.resources.plugins.get('countdown')).toMatchObject({ step: 2, end: -numbers });
  });

  it('refuse a plugin whose constructor gives a blank name, saying so when a missing plugin is asked for', async () => {
    await expect(serve('tick', { runtime: 'Knative', prePlugins: ['   '] })).rejects.toMatchObject({
      code: 'SPROUT_ERR_FRAMEWORK_PLUGIN_NOT_FOUND',
      message: expect.stringMatching(/Noname in upstream\.mjs \(its name is blank\)/),
    });
  });
});
