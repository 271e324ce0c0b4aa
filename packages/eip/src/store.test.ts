import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { AllocationRequest, ServiceState } from './allocation.js';
import { isEipError } from './errors.js';
import { createEipManager } from './manager.js';
import { EipStore } from './store.js';
import { decodeState, encodeState } from './store/journal-codec.js';

const dirs: string[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sprout-eip-journal-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const roundTrip = (s: ServiceState | null, key = s?.key ?? 'a/b') => {
  const [seq, k, addrs, ports, extra, cond] = encodeState(7, key, s);
  return decodeState({ seq, key: k, addrs, ports, extra, cond });
};

function allocated(req: AllocationRequest, ips: [string, string][]): ServiceState {
  const ports = req.ports ?? [];
  return {
    key: `${req.namespace}/${req.name}`,
    namespace: req.namespace,
    name: req.name,
    request: req,
    status: 'allocated',
    addresses: ips.map(([ip, pool]) => ({
      ip,
      family: ip.includes(':') ? 6 : 4,
      pool,
      ...(req.sharingKey !== undefined ? { sharingKey: req.sharingKey } : {}),
      ports,
    })),
  };
}

describe('journal rows', () => {
  it('round-trip every kind of service state', () => {
    const cases: (ServiceState | null)[] = [
      null,
      allocated({ namespace: 'ns', name: 'web' }, [['10.0.0.1', 'p']]),
      allocated({ namespace: 'ns', name: 'web', ports: [] }, [['10.0.0.1', 'p']]),
      allocated(
        {
          namespace: 'n.s-1',
          name: 'dns',
          sharingKey: 'k with, commas and "quotes"',
          ports: [
            { port: 53, protocol: 'UDP' },
            { port: 53, protocol: 'TCP' },
            { port: 65535, protocol: 'SCTP' },
          ],
        },
        [['10.0.0.2', 'pool-a']],
      ),
      allocated(
        {
          namespace: 'a',
          name: 'dual',
          pool: 'v4',
          ips: ['10.0.0.9', '2001:db8::9'],
          ipFamilyPolicy: 'RequireDualStack',
          ipFamilies: ['IPv6', 'IPv4'],
        },
        [
          ['2001:db8::9', 'v6'],
          ['10.0.0.9', 'v4'],
        ],
      ),
      {
        key: 'a/p',
        namespace: 'a',
        name: 'p',
        request: { namespace: 'a', name: 'p', ips: ['10.9.9.9'] },
        status: 'pending',
        addresses: [],
        condition: { reason: 'IpNotInPool', message: '10.9.9.9 is not in any Eip, sorry: (a, b)' },
      },
      {
        key: 'a/q',
        namespace: 'a',
        name: 'q',
        request: { namespace: 'a', name: 'q' },
        status: 'pending',
        addresses: [],
        condition: { reason: 'NoPoolForNamespace', message: '' },
      },
    ];
    for (const s of cases) expect(roundTrip(s)).toEqual(s);
    // Released: no addresses and no condition.
    expect(encodeState(3, 'a/b', null)).toEqual([3, 'a/b', null, null, null, null]);
    // The common row is a few short columns, not a document.
    expect(encodeState(1, 'ns/web', cases[3]!)).toEqual([
      1,
      'ns/web',
      '10.0.0.2 pool-a',
      '53/UDP,53/TCP,65535/SCTP',
      '{"sharingKey":"k with, commas and \\"quotes\\""}',
      null,
    ]);
  });

  it('round-trip random states (fuzz)', () => {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const label = () => `x${rnd(1000)}${['', '-a', '.b'][rnd(3)]}`;
    const until = Date.now() + 300;
    let n = 0;
    while (Date.now() < until || n < 500) {
      n++;
      const req: AllocationRequest = { namespace: label(), name: label() };
      if (rnd(3) === 0) req.pool = label();
      if (rnd(4) === 0) req.sharingKey = `key ${rnd(50)},${'"'.repeat(rnd(3))}`;
      if (rnd(2) === 0) {
        req.ports = Array.from({ length: rnd(4) }, () => ({
          port: 1 + rnd(65535),
          protocol: (['TCP', 'UDP', 'SCTP'] as const)[rnd(3)]!,
        }));
      }
      if (rnd(4) === 0)
        req.ipFamilyPolicy = (['SingleStack', 'PreferDualStack', 'RequireDualStack'] as const)[rnd(3)]!;
      if (rnd(4) === 0) req.ipFamilies = rnd(2) ? ['IPv6'] : ['IPv4', 'IPv6'];
      const v4 = `10.${rnd(256)}.${rnd(256)}.${rnd(256)}`;
      const v6 = `2001:db8::${(1 + rnd(65535)).toString(16)}`;
      if (rnd(5) === 0) req.ips = rnd(2) ? [v4] : [v4, v6];
      const s: ServiceState =
        rnd(3) === 0
          ? {
              key: `${req.namespace}/${req.name}`,
              namespace: req.namespace,
              name: req.name,
              request: req,
              status: 'pending',
              addresses: [],
              condition: { reason: 'PoolExhausted', message: `Eip/${label()} has no free address ${rnd(9)}` },
            }
          : allocated(
              req,
              rnd(2)
                ? [[v4, label()]]
                : [
                    [v4, label()],
                    [v6, label()],
                  ],
            );
      expect(roundTrip(s)).toEqual(s);
    }
  });

  it('refuses damaged rows with a coded error, never a crash (fuzz)', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = 'a/ ,.:0123456789{}[]"TCPUDSolxyz-\\\u00e9';
    const junk = () => Array.from({ length: rnd(24) }, () => alphabet[rnd(alphabet.length)]).join('');
    const valid = encodeState(
      1,
      'ns/web',
      allocated({ namespace: 'ns', name: 'web', sharingKey: 's', ports: [{ port: 80, protocol: 'TCP' }] }, [
        ['10.0.0.1', 'p'],
      ]),
    );
    const until = Date.now() + 300;
    let coded = 0;
    let n = 0;
    while (Date.now() < until || n < 1000) {
      n++;
      const cols: (string | null)[] = valid.slice(1) as (string | null)[];
      const at = rnd(5);
      // Random text, or a valid column with one character changed.
      cols[at] =
        rnd(2) || cols[at] === null
          ? rnd(6) === 0
            ? null
            : junk()
          : cols[at]!.slice(0, rnd(cols[at]!.length)) + junk().slice(0, 1) + cols[at]!.slice(1 + rnd(3));
      const [key, addrs, ports, extra, cond] = cols;
      try {
        const s = decodeState({ seq: n, key: key ?? 'a/b', addrs, ports, extra, cond });
        if (s) expect(s.key).toBe(key ?? 'a/b');
      } catch (err) {
        expect(isEipError(err, 'SPROUT_ERR_EIP_STORE'), String(err)).toBe(true);
        coded++;
      }
    }
    expect(coded).toBeGreaterThan(0);
    const damaged: [string, string | null, string | null, string | null, string | null][] = [
      ['ab', '10.0.0.1 p', null, null, null],
      ['a/b', '10.0.0.01 p', null, null, null],
      ['a/b', '2001:DB8::1 p', null, null, null],
      ['a/b', '10.0.0.1', null, null, null],
      ['a/b', '10.0.0.1 p', '0/TCP', null, null],
      ['a/b', '10.0.0.1 p', '70000/UDP', null, null],
      ['a/b', '10.0.0.1 p', null, '{"ips":"10.0.0.1"}', null],
      ['a/b', '10.0.0.1 p', null, '{"color":"red"}', null],
      ['a/b', null, null, null, 'Sleepy because'],
    ];
    for (const [key, addrs, ports, extra, cond] of damaged) {
      expect(() => decodeState({ seq: 1, key, addrs, ports, extra, cond }), key + String(addrs)).toThrow(
        expect.objectContaining({ code: 'SPROUT_ERR_EIP_STORE' }),
      );
    }
  });
});

describe('store', () => {
  it('opens a store written by the previous version (one JSON document per journal entry)', () => {
    const dir = dataDir();
    const pool = {
      apiVersion: 'network.kubesphere.io/v1alpha2',
      kind: 'Eip',
      metadata: { name: 'p' },
      spec: { address: '10.7.0.1-10.7.0.9', namespaces: ['a'] },
    };
    const old = new Database(join(dir, 'eip.db'));
    old.pragma('journal_mode = WAL');
    old.exec(`
      CREATE TABLE pools (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
      CREATE TABLE namespaces (name TEXT PRIMARY KEY, labels TEXT NOT NULL);
      CREATE TABLE bgp (kind TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (kind, name));
      CREATE TABLE journal (seq INTEGER PRIMARY KEY, key TEXT NOT NULL, state TEXT);
      CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT INTO meta (name, value) VALUES ('config_gen', 3);
      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, type TEXT NOT NULL, pool TEXT, message TEXT NOT NULL);`);
    old.prepare('INSERT INTO pools VALUES (?, ?)').run('p', JSON.stringify(pool));
    const x = allocated({ namespace: 'a', name: 'x', ports: [{ port: 80, protocol: 'TCP' }] }, [
      ['10.7.0.1', 'p'],
    ]);
    const y = allocated({ namespace: 'a', name: 'y' }, [['10.7.0.2', 'p']]);
    const ins = old.prepare('INSERT INTO journal (seq, key, state) VALUES (?, ?, ?)');
    ins.run(1, x.key, JSON.stringify(x));
    ins.run(2, y.key, JSON.stringify(y));
    ins.run(3, y.key, null); // y released
    old.close();

    const eip = createEipManager({ dataDir: dir });
    expect(eip.services()).toEqual([x]);
    // The next allocation takes the lowest free address and a sequence number after the old ones.
    expect(eip.allocate({ namespace: 'a', name: 'z' }).addresses[0]!.ip).toBe('10.7.0.2');
    eip.close();
    const db = new Database(join(dir, 'eip.db'));
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.prepare('SELECT seq, key, addrs, ports, cond FROM journal ORDER BY seq').all()).toEqual([
      { seq: 1, key: 'a/x', addrs: '10.7.0.1 p', ports: '80/TCP', cond: null },
      { seq: 2, key: 'a/y', addrs: '10.7.0.2 p', ports: null, cond: null },
      { seq: 3, key: 'a/y', addrs: null, ports: null, cond: null },
      { seq: 4, key: 'a/z', addrs: '10.7.0.2 p', ports: null, cond: null },
    ]);
    db.close();
    const again = createEipManager({ dataDir: dir });
    expect(again.services().map((s) => `${s.key}=${s.addresses[0]!.ip}`)).toEqual([
      'a/x=10.7.0.1',
      'a/z=10.7.0.2',
    ]);
    again.close();
  });

  it('refuses to open over a damaged journal with a coded error', () => {
    const dir = dataDir();
    const eip = createEipManager({ dataDir: dir });
    eip.close();
    const db = new Database(join(dir, 'eip.db'));
    db.prepare('INSERT INTO journal VALUES (1, ?, ?, NULL, NULL, NULL)').run('a/x', '10.0.0.1');
    db.close();
    expect(() => createEipManager({ dataDir: dir })).toThrow(
      expect.objectContaining({
        code: 'SPROUT_ERR_EIP_STORE',
        message: expect.stringMatching(/journal entry 1 \(a\/x\)/),
      }),
    );
  });

  it('sets SQLite synchronous from the durability mode and refuses unknown modes', () => {
    const dir = dataDir();
    const normal = new EipStore(dir);
    expect(normal.synchronous()).toBe(1);
    normal.close();
    const full = new EipStore(dir, { durability: 'power' });
    expect(full.synchronous()).toBe(2);
    full.close();
    expect(() => new EipStore(dir, { durability: 'fast' as 'power' })).toThrow(
      expect.objectContaining({ code: 'SPROUT_ERR_EIP_STORE', field: 'durability' }),
    );
  });
});
