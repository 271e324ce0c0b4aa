import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isTriggersError } from '../errors.js';
import { Metadata } from './metadata.js';

const md = (metadata: Record<string, string>, refused: Record<string, string[]> = {}) =>
  new Metadata(
    { name: 'c', type: 'pubsub.test', metadata },
    ['ackWait', 'maxLen', 'durable', 'kind', 'url'],
    refused,
  );

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (!isTriggersError(err)) throw err;
    return err.code;
  }
}

describe('component metadata as Dapr reads it', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['15', 15_000],
    ['0', 0],
  ])('duration %j is %d ms', (text, ms) => {
    expect(md({ ackWait: text }).duration('ackWait', 1)).toBe(ms);
  });

  it('reads keys case-insensitively, falls back on a missing or empty value', () => {
    const m = md({ AckWait: '2s', MAXLEN: '7', durable: '' });
    expect(m.duration('ackWait', 1)).toBe(2000);
    expect(m.int('maxLen', 0)).toBe(7);
    expect(m.bool('durable', true)).toBe(true);
    expect(m.oneOf('kind', ['fanout', 'topic'], 'fanout')).toBe('fanout');
    expect(md({ kind: 'TOPIC' }).oneOf('kind', ['fanout', 'topic'], 'fanout')).toBe('topic');
  });

  it.each([
    [{ ackWait: '10 seconds' }, (m: Metadata) => m.duration('ackWait', 0)],
    [{ maxLen: '1e3' }, (m: Metadata) => m.int('maxLen', 0)],
    [{ maxLen: '-1' }, (m: Metadata) => m.int('maxLen', 0)],
    [{ durable: 'yes' }, (m: Metadata) => m.bool('durable', false)],
    [{ kind: 'headers' }, (m: Metadata) => m.oneOf('kind', ['fanout', 'topic'], 'fanout')],
    [{}, (m: Metadata) => m.required('url')],
  ])('%j is SPROUT_ERR_TRIGGERS_METADATA_INVALID', (values, read) => {
    expect(codeOf(() => read(md(values)))).toBe('SPROUT_ERR_TRIGGERS_METADATA_INVALID');
  });

  it('refuses an unknown key and a documented key Sprout cannot run, except its harmless values', () => {
    expect(codeOf(() => md({ ackwiat: '1s' }))).toBe('SPROUT_ERR_TRIGGERS_METADATA_UNSUPPORTED');
    expect(codeOf(() => md({ failover: 'true' }, { failover: ['false'] }))).toBe(
      'SPROUT_ERR_TRIGGERS_METADATA_UNSUPPORTED',
    );
    expect(codeOf(() => md({ failover: 'false' }, { failover: ['false'] }))).toBeUndefined();
    expect(codeOf(() => md({ clientCert: '' }, { clientCert: [] }))).toBeUndefined();
  });

  it('fuzz: random keys and values either read or fail with a metadata code, never anything else', () => {
    const keys = ['ackWait', 'maxLen', 'durable', 'kind', 'url', 'failover', randomBytes(3).toString('hex')];
    const until = Date.now() + 1000;
    const seen = new Set<string>();
    for (let i = 0; Date.now() < until; i++) {
      const values: Record<string, string> = {};
      for (let k = 0; k < 1 + (i % 4); k++)
        values[keys[(i + k) % keys.length]!] =
          i % 2
            ? randomBytes(i % 12).toString('latin1')
            : ['10s', '7', 'true', 'topic', '1m', '', '-3'][(i + k) % 7]!;
      const code = codeOf(() => {
        const m = md(values, { failover: ['false'] });
        m.duration('ackWait', 0);
        m.int('maxLen', 0);
        m.bool('durable', false);
        m.oneOf('kind', ['fanout', 'topic'], 'fanout');
      });
      seen.add(code ?? 'ok');
      expect([
        undefined,
        'SPROUT_ERR_TRIGGERS_METADATA_INVALID',
        'SPROUT_ERR_TRIGGERS_METADATA_UNSUPPORTED',
      ]).toContain(code);
    }
    expect(seen.size).toBeGreaterThan(1);
  });
});
