import { parseDuration } from '@sprout/http';
import type { ComponentConfig } from '../broker.js';
import { TriggersError } from '../errors.js';

/**
 * A component's metadata read the way Dapr reads it: keys case-insensitively, Go durations
 * (`500ms`, `10s`, `1m30s`; a bare number is seconds), booleans as `true`/`false`/`1`/`0`.
 * Every engine names the keys it honours and the documented keys it refuses (with the values that
 * are still fine, such as `failover: false`); any other key is refused too, naming the component
 * and the keys that are known, so nothing is ignored silently. When the config says where its items
 * are written (`at`, from @sprout/spec), an error leads with the `file:line` of the key (an unknown or
 * refused key), of its value (a malformed value) or of the component's metadata list (`componentAt`:
 * a required key that is missing).
 */
export class Metadata {
  private readonly values = new Map<string, { key: string; value: string }>();

  constructor(
    private readonly config: ComponentConfig,
    honoured: readonly string[],
    refused: Readonly<Record<string, readonly string[]>> = {},
  ) {
    const known = new Set(honoured.map((k) => k.toLowerCase()));
    const refuse = new Map(Object.entries(refused).map(([k, ok]) => [k.toLowerCase(), ok]));
    for (const [key, value] of Object.entries(config.metadata)) {
      const lower = key.toLowerCase();
      const allowed = refuse.get(lower);
      if (allowed && value !== '' && !allowed.includes(value.trim().toLowerCase()))
        throw new TriggersError(
          'SPROUT_ERR_TRIGGERS_METADATA_UNSUPPORTED',
          `${this.where(key, 'name')}: metadata "${key}: ${value}" is Dapr's but Sprout cannot honour it locally` +
            (allowed.length ? ` (only ${allowed.join(' or ')}); change or remove it` : '; remove it'),
          { field: `metadata.${key}` },
        );
      if (!known.has(lower) && !refuse.has(lower))
        throw new TriggersError(
          'SPROUT_ERR_TRIGGERS_METADATA_UNSUPPORTED',
          `${this.where(key, 'name')}: unknown metadata "${key}"; ${config.type} takes ${honoured.join(', ')}`,
          { field: `metadata.${key}` },
        );
      this.values.set(lower, { key, value });
    }
  }

  string(key: string, fallback: string): string;
  string(key: string): string | undefined;
  string(key: string, fallback?: string): string | undefined {
    const v = this.values.get(key.toLowerCase())?.value;
    return v === undefined || v === '' ? fallback : v;
  }

  /** A required string: missing or empty is SPROUT_ERR_TRIGGERS_METADATA_INVALID. */
  required(key: string): string {
    const v = this.string(key);
    if (v === undefined) throw this.invalid(key, 'is required');
    return v;
  }

  int(key: string, fallback: number, min = 0): number {
    const v = this.string(key);
    if (v === undefined) return fallback;
    if (!/^-?\d+$/.test(v.trim()) || Number(v) < min || !Number.isSafeInteger(Number(v)))
      throw this.invalid(key, `must be a whole number ≥ ${min} (got "${v}")`);
    return Number(v);
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.string(key)?.trim().toLowerCase();
    if (v === undefined) return fallback;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw this.invalid(key, `must be true or false (got "${v}")`);
  }

  /** A Go duration (or bare seconds, as Dapr reads them) in milliseconds. */
  duration(key: string, fallbackMs: number): number {
    const v = this.string(key);
    if (v === undefined) return fallbackMs;
    const ms = parseDuration(v, { bareSeconds: true });
    if (ms === undefined) throw this.invalid(key, `must be a duration such as 500ms, 10s or 1m (got "${v}")`);
    return ms;
  }

  /** One of the given values (compared case-insensitively, answered as listed). */
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const v = this.string(key);
    if (v === undefined) return fallback;
    const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
    if (!hit) throw this.invalid(key, `must be one of ${allowed.join(', ')} (got "${v}")`);
    return hit;
  }

  invalid(key: string, why: string): TriggersError {
    const written = this.values.get(key.toLowerCase())?.key ?? key;
    return new TriggersError(
      'SPROUT_ERR_TRIGGERS_METADATA_INVALID',
      `${this.where(written, 'value')}: metadata "${written}" ${why}`,
      { field: `metadata.${written}` },
    );
  }

  private where(key: string, part: 'name' | 'value'): string {
    // A key it lacks (a required one) is placed at the component's metadata list.
    const at =
      (Object.hasOwn(this.config.at ?? {}, key) ? this.config.at![key]![part] : undefined) ??
      this.config.componentAt;
    return `${at ? `${at}: ` : ''}component "${this.config.name}" (${this.config.type})`;
  }
}

/** Dapr's topic scoping keys, common to every pub/sub: Sprout does not enforce them, so it refuses them. */
export const PUBSUB_SCOPES_REFUSED: Readonly<Record<string, readonly string[]>> = {
  allowedTopics: [],
  publishingScopes: [],
  subscriptionScopes: [],
  protectedTopics: [],
};
