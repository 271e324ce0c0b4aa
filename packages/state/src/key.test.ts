import { describe, expect, it } from 'vitest';
import { checkKey, keyPrefixOf } from './key.js';

describe('key prefix strategies', () => {
  const ctx = { appId: 'orders', storeName: 'statestore', namespace: 'shop' };
  it.each([
    [undefined, 'orders||'],
    ['appid', 'orders||'],
    ['AppID', 'orders||'],
    ['name', 'statestore||'],
    ['namespace', 'shop.orders||'],
    ['none', ''],
    ['fixed-prefix', 'fixed-prefix||'],
  ])('%s → %j', (strategy, prefix) => {
    expect(keyPrefixOf({ ...ctx, ...(strategy ? { strategy } : {}) })).toBe(prefix);
  });

  it('uses the default namespace when none is given', () => {
    expect(keyPrefixOf({ appId: 'a', storeName: 's', strategy: 'namespace' })).toBe('default.a||');
  });

  it('refuses a prefix with || or an empty app id', () => {
    expect(() => keyPrefixOf({ ...ctx, strategy: 'a||b' })).toThrow(/must not contain/);
    expect(() => keyPrefixOf({ ...ctx, appId: '' })).toThrow(/non-empty/);
  });

  it('refuses keys with || and empty or non-string keys', () => {
    expect(checkKey('ok|key')).toBe('ok|key');
    for (const bad of ['a||b', '||', '', undefined, 42]) {
      expect(() => checkKey(bad)).toThrow(expect.objectContaining({ code: 'SPROUT_ERR_STATE_KEY_INVALID' }));
    }
  });
});
