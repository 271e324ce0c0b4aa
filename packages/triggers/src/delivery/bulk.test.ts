import { seededRng } from '@sprout/http/testing';
import { describe, expect, it } from 'vitest';
import { bulkMaxMessages, readBulkAnswer } from './bulk.js';

const ids = ['1', '2', '3'];
const kinds = (status: number, text: string) => readBulkAnswer(status, text, ids).map((o) => o.kind);
const answer = (statuses: unknown) => JSON.stringify({ statuses });

describe("the app's bulk answer, as daprd reads it", () => {
  it.each([
    [
      'SUCCESS, DROP, RETRY',
      200,
      answer([1, 2, 3].map((i) => ({ entryId: String(i), status: ['SUCCESS', 'DROP', 'RETRY'][i - 1] }))),
      ['success', 'drop', 'retry'],
    ],
    [
      'lower case is read as upper',
      200,
      answer([
        { entryId: '1', status: 'success' },
        { entryId: '2', status: 'drop' },
      ]),
      ['success', 'drop', 'retry'],
    ],
    [
      'a missing entry, an empty and an unknown status retry',
      204,
      answer([
        { entryId: '1', status: '' },
        { entryId: '2', status: 'OK' },
      ]),
      ['retry', 'retry', 'retry'],
    ],
    [
      'the first status of an entry named twice counts',
      200,
      answer([
        { entryId: '1', status: 'DROP' },
        { entryId: '1', status: 'SUCCESS' },
      ]),
      ['drop', 'retry', 'retry'],
    ],
    [
      'unknown entry ids and junk items are ignored',
      200,
      answer([
        null,
        7,
        { entryId: 9, status: 'SUCCESS' },
        { entryId: 'x', status: 'SUCCESS' },
        { entryId: '3', status: 'SUCCESS' },
      ]),
      ['retry', 'retry', 'success'],
    ],
    ['a 2xx that is not JSON fails every entry', 200, 'ok', ['retry', 'retry', 'retry']],
    ['a single answer is not a bulk answer', 200, '{"status":"SUCCESS"}', ['retry', 'retry', 'retry']],
    ['an empty 2xx fails every entry', 200, '', ['retry', 'retry', 'retry']],
    ['404 drops every entry', 404, answer([{ entryId: '1', status: 'SUCCESS' }]), ['drop', 'drop', 'drop']],
    [
      '500 fails every entry whatever its body says',
      500,
      answer([{ entryId: '1', status: 'SUCCESS' }]),
      ['retry', 'retry', 'retry'],
    ],
  ])('%s', (_what, status, text, want) => {
    expect(kinds(status, text)).toEqual(want);
  });

  it("a RETRY carrying the framework's error code names it in the reason", () => {
    const [o] = readBulkAnswer(
      200,
      answer([{ entryId: '1', status: 'RETRY', error: { code: 'SPROUT_ERR_X' } }]),
      ['1'],
    );
    expect(o).toEqual({ kind: 'retry', reason: 'the app answered status RETRY (SPROUT_ERR_X)' });
  });

  it('fuzz: any answer gives one outcome per entry, never throws', () => {
    const rng = seededRng();
    for (let i = 0; i < 2000; i++) {
      const good = answer(
        ids.map((entryId) => ({ entryId, status: rng.pick(['SUCCESS', 'DROP', 'RETRY', '']) })),
      );
      const text =
        rng.next() < 0.5
          ? good.slice(0, rng.int(0, good.length))
          : rng.bytes(rng.int(0, 64)).toString('latin1');
      const out = readBulkAnswer(rng.pick([200, 201, 404, 500, 302]), text, ids);
      expect(out, `FUZZ_SEED=${rng.seed}`).toHaveLength(3);
    }
  });
});

describe('bulkMaxMessages', () => {
  it.each([
    [{ enabled: true }, 100],
    [{ enabled: true, maxMessagesCount: 7 }, 7],
    [{ enabled: true, maxMessagesCount: 0 }, 100],
    [{ enabled: true, maxMessagesCount: 2.5 }, 100],
    [{ enabled: false, maxMessagesCount: 7 }, undefined],
    [{ enabled: 'true' }, undefined],
    [undefined, undefined],
    ['yes', undefined],
  ])('%j → %s', (bulk, want) => {
    expect(bulkMaxMessages(bulk)).toBe(want);
  });
});
