import { StateError } from './errors.js';

/** Dapr's separator between the key prefix and the user key. */
export const KEY_SEPARATOR = '||';

/** Where a store's keys come from: `keyPrefix` metadata of the component, as in Dapr. */
export interface KeyPrefixContext {
  /** `appid` (default), `name`, `namespace`, `none`, or any other string used as a fixed prefix. */
  strategy?: string;
  appId: string;
  storeName: string;
  namespace?: string;
}

/** The prefix (including `||`) put in front of every user key; empty for `none`. */
export function keyPrefixOf(ctx: KeyPrefixContext): string {
  const strategy = ctx.strategy ?? 'appid';
  let prefix: string;
  switch (strategy.toLowerCase()) {
    case 'appid':
      prefix = ctx.appId;
      break;
    case 'name':
      prefix = ctx.storeName;
      break;
    case 'namespace':
      prefix = `${ctx.namespace ?? 'default'}.${ctx.appId}`;
      break;
    case 'none':
      return '';
    default:
      prefix = strategy;
  }
  if (prefix === '' || prefix.includes(KEY_SEPARATOR)) {
    throw new StateError(
      'SPROUT_ERR_STATE_COMPONENT_INVALID',
      `key prefix "${prefix}" of store "${ctx.storeName}" must be non-empty and must not contain "${KEY_SEPARATOR}"`,
    );
  }
  return prefix + KEY_SEPARATOR;
}

/** Checks a user key: a non-empty string without `||`. */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key === '') {
    throw new StateError('SPROUT_ERR_STATE_KEY_INVALID', 'a state key must be a non-empty string');
  }
  if (key.includes(KEY_SEPARATOR)) {
    throw new StateError('SPROUT_ERR_STATE_KEY_INVALID', `key "${key}" must not contain "${KEY_SEPARATOR}"`, {
      field: key,
    });
  }
  return key;
}
