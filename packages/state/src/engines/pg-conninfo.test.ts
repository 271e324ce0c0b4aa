import { describe, expect, it } from 'vitest';
import { isStateError } from '../errors.js';
import { pgConnectionConfig, splitConnInfo } from './pg-conninfo.js';

describe('PostgreSQL connection strings', () => {
  it('passes URLs to pg unchanged', () => {
    expect(pgConnectionConfig('postgres://u:p@h:1/db')).toEqual({
      connectionString: 'postgres://u:p@h:1/db',
    });
    expect(pgConnectionConfig(' postgresql://h/db ')).toEqual({ connectionString: 'postgresql://h/db' });
  });

  it.each([
    [
      // the form Dapr's postgresql component docs show
      'host=localhost user=postgres password=example port=5432 connect_timeout=10 database=my_dapr',
      {
        host: 'localhost',
        user: 'postgres',
        password: 'example',
        port: 5432,
        connectionTimeoutMillis: 10_000,
        database: 'my_dapr',
      },
    ],
    [
      "host = h dbname='my db' password='it\\'s \\\\ x'",
      { host: 'h', database: 'my db', password: "it's \\ x" },
    ],
    ['  user=u\tsslmode=disable\n', { user: 'u', ssl: false }],
    [
      'host=h sslmode=require application_name=app',
      { host: 'h', ssl: { rejectUnauthorized: false }, application_name: 'app' },
    ],
    ['host=h pool_max_conns=4', { host: 'h' }],
    ["host=h password=''", { host: 'h', password: '' }],
  ])('reads %j', (text, expected) => {
    expect(pgConnectionConfig(text)).toEqual(expected);
  });

  it.each([
    ['host=h port=99999', /port/],
    ['host=h port=abc', /port/],
    ['host=h connect_timeout=5s', /connect_timeout/],
    ['host=h sslmode=maybe', /sslmode/],
    ['host=h options=-c', /keyword "options"/],
    ["host=h password='open", /unterminated/],
    ['host', /keyword=value at offset 0/],
    ['=x', /keyword=value/],
    ['localhost:5432', /keyword=value/],
    ['port=5432', /neither/],
  ])('refuses %j with a coded error naming the problem', (text, message) => {
    let err: unknown;
    try {
      pgConnectionConfig(text);
    } catch (e) {
      err = e;
    }
    expect(isStateError(err, 'SPROUT_ERR_STATE_COMPONENT_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(message);
  });

  it('random and cut input only ever raises the coded error; valid strings round-trip (seeded, time-boxed)', () => {
    const seed = Number(process.env.FUZZ_SEED ?? 20261206);
    let s = seed;
    const rnd = (n: number) => (s = (s * 1103515245 + 12345) & 0x7fffffff) % n;
    const alphabet = "ab=' \\\t\nhostuserpd0123456789_-.é\u0000";
    const until = Date.now() + Number(process.env.FUZZ_MS ?? 300);
    let runs = 0;
    while (Date.now() < until || runs < 500) {
      runs++;
      // a valid string, quoted at random, must give back its values
      const password = Array.from({ length: rnd(8) }, () => alphabet[rnd(alphabet.length)]).join('');
      const quoted = `'${password.replace(/[\\']/g, (c) => `\\${c}`)}'`;
      const valid = `host=h${rnd(100)} password=${quoted} port=${1 + rnd(65535)}`;
      const pairs = splitConnInfo(valid);
      expect(pairs[1]).toEqual(['password', password]);
      // a random cut or random bytes: a value or the coded error, nothing else
      const input =
        rnd(2) === 0
          ? valid.slice(0, rnd(valid.length + 1))
          : Array.from({ length: rnd(30) }, () => alphabet[rnd(alphabet.length)]).join('');
      try {
        pgConnectionConfig(input);
      } catch (err) {
        if (!isStateError(err, 'SPROUT_ERR_STATE_COMPONENT_INVALID'))
          throw new Error(`seed ${seed}: ${JSON.stringify(input)} threw ${String(err)}`);
      }
    }
    expect(runs).toBeGreaterThanOrEqual(500);
  });
});
