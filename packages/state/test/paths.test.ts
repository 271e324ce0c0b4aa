import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ComponentDocument } from '@sprout/spec';
import { afterAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../src/open.js';
import { component, tempDir } from './helpers.js';

// A SQLite store's file is built from the component's name (`<dataDir>/state/<name>.db`) or its
// relative connectionString: neither may put a file outside the data dir.
const { dir: parent, remove } = tempDir('paths');
afterAll(remove);
const dataDir = join(parent, 'data');

/** A component as a library caller may build it, without the spec's name check. */
function named(name: string): ComponentDocument {
  const c = component('placeholder', 'state.sqlite');
  return { ...c, metadata: { ...c.metadata, name } };
}

async function refusal(c: ComponentDocument): Promise<string> {
  try {
    const store = await openStateStore(c, { appId: 'paths', dataDir });
    await store.close();
    return 'opened';
  } catch (err) {
    return `${(err as { code?: string }).code} ${(err as Error).message}`;
  }
}

describe('state file names', () => {
  it.each([
    ['../../escaped', /path separator/],
    ['a/b', /path separator/],
    ['a%2Fb', /has a %/],
    ['a\0b', /NUL/],
    ['/tmp/abs', /path separator/],
    ['x'.repeat(253), /over 255 bytes/],
  ])('refuses the store name %j', async (name, why) => {
    const r = await refusal(named(name));
    expect(r).toMatch(/^SPROUT_ERR_HTTP_UNSAFE_PATH state store name /);
    expect(r).toMatch(why);
  });

  it.each([
    ['../escaped.db', /leaves/],
    ['state/../../escaped.db', /leaves/],
    ['a\0.db', /NUL/],
    [`${'x'.repeat(256)}.db`, /over 255 bytes/],
  ])('refuses the relative connectionString %j', async (file, why) => {
    const r = await refusal(component('orders', 'state.sqlite', { connectionString: file }));
    expect(r).toMatch(/^SPROUT_ERR_HTTP_UNSAFE_PATH state store "orders" connectionString /);
    expect(r).toMatch(why);
  });

  it('nothing was written beside the data dir; good names still open inside it', async () => {
    expect(readdirSync(parent).filter((f) => f !== 'data')).toEqual([]);
    expect(await refusal(component('orders', 'state.sqlite'))).toBe('opened');
    expect(
      await refusal(component('ledger', 'state.sqlite', { connectionString: 'file:sub/ledger.db' })),
    ).toBe('opened');
    expect(existsSync(join(dataDir, 'state', 'orders.db'))).toBe(true);
    expect(existsSync(join(dataDir, 'sub', 'ledger.db'))).toBe(true);
  });
});
