import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@sprout/observe';
import { afterAll, describe, expect, it } from 'vitest';
import { createEipManager, EipError, type EipManager } from '@sprout/eip';

const child = fileURLToPath(new URL('./fixtures/allocate-child.ts', import.meta.url));
const dirs: string[] = [];
const quiet = createLogger({ level: 'silent' });
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sprout-eip-store-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const POOLS = `apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: shared}
spec: {address: 10.20.0.1-10.20.1.44, namespaces: [race]}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata:
  name: fallback
  annotations: {eip.openelb.kubesphere.io/is-default-eip: "true"}
spec: {address: 10.30.0.0/30}
`;

function run(
  args: string[],
  env: Record<string, string> = {},
): {
  done: Promise<string>;
  kill: () => void;
  firstLine: Promise<string>;
  lines: (n: number) => Promise<string[]>;
} {
  const p = spawn(process.execPath, ['--conditions=@sprout/source', '--import', 'tsx', child, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SPROUT_LOG_LEVEL: 'silent', ...env },
  });
  let out = '';
  let err = '';
  let resolveLine: (l: string) => void;
  const firstLine = new Promise<string>((r) => (resolveLine = r));
  const waiting: { n: number; resolve: (l: string[]) => void }[] = [];
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('\n')) resolveLine(out.slice(0, out.indexOf('\n')));
    const got = out.split('\n').slice(0, -1);
    for (const w of waiting.splice(0)) {
      if (got.length >= w.n) w.resolve(got);
      else waiting.push(w);
    }
  });
  const lines = (n: number) => new Promise<string[]>((resolve) => waiting.push({ n, resolve }));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<string>((resolve, reject) =>
    p.on('exit', (code, sig) =>
      code === 0 ? resolve(out) : sig ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`)),
    ),
  );
  return { done, firstLine, lines, kill: () => p.kill('SIGKILL') };
}

/**
 * Four allocator processes (one mode each: '' = allocate, many:N, async:N) race for the 300
 * addresses of `shared`, 100 services each: every address goes out once, each process gets some.
 */
async function race(modes: string[]) {
  const dir = dataDir();
  const eip = createEipManager({ dataDir: dir, logger: quiet });
  eip.apply(POOLS); // shared holds 300 addresses
  const kids = modes.map((m, i) => run([dir, 'race', `p${i}`, '100', ...(m ? [m] : [])]));
  const results = (await Promise.all(kids.map((k) => k.done))).map(
    (o) => JSON.parse(o.trim()) as Record<string, string[]>,
  );
  const all = results.flatMap((r) => Object.values(r).flat());
  expect(all.length).toBe(300);
  expect(new Set(all).size).toBe(300);
  expect(results.every((r) => Object.keys(r).length === 100)).toBe(true);
  // Each process got some of the race (it was not serialised by luck of start-up order).
  expect(results.filter((r) => Object.values(r).some((ips) => ips.length)).length).toBeGreaterThan(1);
  return { eip, all, dir };
}

// Several tests start allocator processes (node with tsx each): room for a machine running other files too.
describe('persisted store', { timeout: 120_000 }, () => {
  it('keeps allocations across restart and reports usage, events and metrics', async () => {
    const dir = dataDir();
    let eip: EipManager = createEipManager({ dataDir: dir, logger: quiet });
    eip.apply(POOLS);
    const exhausted: string[] = [];
    eip.on('exhausted', (e: { pool: string }) => exhausted.push(e.pool));
    expect(eip.allocate({ namespace: 'other', name: 'a' }).addresses[0]!.ip).toBe('10.30.0.1');
    expect(eip.allocate({ namespace: 'other', name: 'b' }).addresses[0]!.ip).toBe('10.30.0.2');
    expect(exhausted).toEqual(['fallback']);
    const pending = eip.allocate({ namespace: 'other', name: 'c' });
    expect(pending).toMatchObject({ status: 'pending', condition: { reason: 'PoolExhausted' } });
    const text = await eip.metrics.metrics();
    expect(text).toMatch(/sprout_eip_pool_used\{pool="fallback"\} 2/);
    expect(text).toMatch(/sprout_eip_pool_free\{pool="shared"\} 300/);
    expect(text).toMatch(/sprout_eip_pool_exhausted_total\{pool="fallback"\} 1/);
    eip.close();

    eip = createEipManager({ dataDir: dir, logger: quiet });
    expect(eip.get('other', 'b')?.addresses[0]?.ip).toBe('10.30.0.2');
    expect(eip.get('other', 'c')).toMatchObject({
      status: 'pending',
      condition: { reason: 'PoolExhausted' },
    });
    expect(eip.usage().find((u) => u.name === 'fallback')).toMatchObject({ size: 2, used: 2, free: 0 });
    expect(eip.events().map((e) => e.type)).toEqual(['pending', 'exhausted']);
    // A release frees the address; the next apply retries pending services.
    eip.release('other', 'a');
    expect(() => eip.release('other', 'a')).toThrow(EipError);
    const r = eip.apply(POOLS);
    expect(r.allocated).toEqual(['other/c']);
    expect(eip.get('other', 'c')?.addresses[0]?.ip).toBe('10.30.0.1');
    eip.close();
  });

  it('refuses to shrink or delete a pool in use unless drained', () => {
    const eip = createEipManager({ dataDir: dataDir(), logger: quiet });
    eip.apply(POOLS);
    expect(eip.allocate({ namespace: 'race', name: 'x' }).addresses[0]!.ip).toBe('10.20.0.1');
    expect(() => eip.apply(POOLS.replace('10.20.0.1-', '10.20.0.2-'))).toThrow(
      /drops 10.20.0.1, held by race\/x/,
    );
    expect(() => eip.deletePool('shared')).toThrow(
      /has 1 service\(s\) holding addresses \(race\/x\); drain it first/,
    );
    expect(() => eip.deletePool('nope')).toThrow(/does not exist/);
    // Draining moves the service to what is left (the default pool).
    expect(eip.deletePool('shared', { drain: true })).toEqual({ drained: ['race/x'] });
    expect(eip.get('race', 'x')).toMatchObject({
      status: 'allocated',
      addresses: [{ ip: '10.30.0.1', pool: 'fallback' }],
    });
    expect(eip.pools().map((p) => p.name)).toEqual(['fallback']);
    eip.close();
  });

  it('warns about a namespaceSelector that matches no known namespace', () => {
    const eip = createEipManager({ dataDir: dataDir(), logger: quiet });
    const yaml = `apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: sel}
spec: {address: 10.40.0.0/29, namespaceSelector: {team: nobody}}
`;
    expect(eip.apply(yaml).warnings).toEqual([
      'Eip/sel: namespaceSelector {"team":"nobody"} matches no known namespace (apply Namespace documents with those labels)',
    ]);
    const r = eip.apply(`${yaml}---
apiVersion: v1
kind: Namespace
metadata: {name: ops, labels: {team: nobody}}
`);
    expect(r.warnings).toEqual([]);
    expect(eip.allocate({ namespace: 'ops', name: 'x' }).addresses[0]!.ip).toBe('10.40.0.1');
    eip.close();
  });

  it('allocateAsync groups concurrent callers into one commit; a bad request fails alone', async () => {
    const dir = dataDir();
    const eip = createEipManager({ dataDir: dir, logger: quiet });
    eip.apply(POOLS);
    const results = await Promise.allSettled([
      ...Array.from({ length: 200 }, (_, i) => eip.allocateAsync({ namespace: 'race', name: `a${i}` })),
      eip.allocateAsync({ namespace: 'race', name: 'Bad_Name' }),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled').map((r) => r.value.addresses[0]!.ip);
    expect(ok.length).toBe(200);
    expect(new Set(ok).size).toBe(200);
    expect(results[200]).toMatchObject({
      status: 'rejected',
      reason: { code: 'SPROUT_ERR_EIP_BAD_REQUEST' },
    });
    const pendingOnClose = eip.allocateAsync({ namespace: 'race', name: 'late' });
    eip.close();
    await expect(pendingOnClose).rejects.toThrow(/closed/);
    const again = createEipManager({ dataDir: dir, logger: quiet });
    expect(again.services().length).toBe(200);
    again.close();
  });

  it('refuses bad requests with coded errors', () => {
    const eip = createEipManager({ dataDir: dataDir(), logger: quiet });
    expect(() => eip.allocate({ namespace: 'Bad_NS', name: 'x' })).toThrow(
      /SPROUT_ERR_EIP_BAD_REQUEST|namespace/,
    );
    expect(() => eip.allocate({ namespace: 'a', name: 'x', ips: ['10.0.0.1', '10.0.0.2'] })).toThrow(
      /at most one address per family/,
    );
    expect(() => eip.allocate({ namespace: 'a', name: 'x', ips: ['fe80::1%eth0'] })).toThrow(/zone/);
    expect(eip.allocate({ namespace: 'a', name: 'x', ips: ['192.0.2.9'] }).condition).toMatchObject({
      reason: 'IpNotInPool',
    });
    eip.close();
  });

  it('never hands out one address twice to allocators in separate processes', async () => {
    const { eip } = await race(['', '', '', '']);
    // ... and this process sees the same state.
    expect(eip.usage().find((u) => u.name === 'shared')).toMatchObject({ used: 300, free: 0 });
    expect(eip.services().filter((s) => s.status === 'pending').length).toBe(100);
    eip.close();
  });

  it('loses nothing committed when an allocator is killed with SIGKILL', async () => {
    const dir = dataDir();
    const eip = createEipManager({ dataDir: dir, logger: quiet });
    eip.apply(POOLS);
    const k = run([dir, 'race', 'k', '20', 'hang']);
    await k.firstLine; // every allocation returned before 'ready'
    k.kill();
    await k.done;
    const after = createEipManager({ dataDir: dir, logger: quiet });
    expect(after.services().length).toBe(20);
    expect(after.get('race', 'k-19')?.addresses[0]?.ip).toBe('10.20.0.20');
    after.close();
    eip.close();
  });

  it('never hands out one address twice when processes mix allocate, allocateMany and allocateAsync', async () => {
    const { eip, all, dir } = await race(['', 'many:7', 'async:10', 'many:3']);
    const after = createEipManager({ dataDir: dir, logger: quiet });
    const held = after.services().flatMap((s) => s.addresses.map((a) => a.ip));
    expect(held.sort()).toEqual(all.sort());
    expect(after.services().filter((s) => s.status === 'pending').length).toBe(100);
    after.close();
    eip.close();
  });

  it('loses no returned burst and keeps no half of one when killed with SIGKILL mid-batch', async () => {
    const dir = dataDir();
    const eip = createEipManager({ dataDir: dir, logger: quiet });
    eip.apply(`apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: big}
spec: {address: 10.50.0.0/16, namespaces: [burst]}
`);
    eip.close();
    const BURST = 2000;
    const reported: string[] = [];
    // Each round a process allocates bursts of 2,000 (one transaction each, tens of milliseconds)
    // back to back and is killed at a random moment, almost always inside a transaction.
    for (const [round, durability] of (['process', 'power', 'process'] as const).entries()) {
      const k = run([dir, 'burst', `r${round}`, '0', `bursts:${BURST}`], {
        SPROUT_EIP_DURABILITY: durability,
      });
      const lines = await k.lines(2 + round);
      await new Promise((r) => setTimeout(r, Math.random() * 40));
      k.kill();
      await k.done;
      reported.push(...lines);
      const after = createEipManager({ dataDir: dir, logger: quiet });
      const services = after.services();
      const keys = new Set(services.map((s) => s.key));
      // Every burst that returned is there ...
      for (const last of reported) expect(keys.has(`burst/${last}`)).toBe(true);
      // ... and each round's services are whole bursts (the one cut short left nothing behind).
      for (let r = 0; r <= round; r++) {
        const n = services.filter((s) => s.name.startsWith(`r${r}-`)).length;
        expect(n % BURST).toBe(0);
        expect(n).toBeGreaterThanOrEqual(BURST * (2 + r));
      }
      const ips = services.flatMap((s) => s.addresses.map((a) => a.ip));
      expect(services.every((s) => s.status === 'allocated')).toBe(true);
      expect(new Set(ips).size).toBe(services.length);
      expect(after.usage()[0]!.used).toBe(services.length);
      // The store takes new writes after the crash.
      expect(after.allocate({ namespace: 'burst', name: `after-${round}` }).status).toBe('allocated');
      after.release('burst', `after-${round}`);
      after.close();
    }
  });

  it('compacts the journal without losing state, and other processes follow', () => {
    const dir = dataDir();
    const a = createEipManager({ dataDir: dir, logger: quiet, journalSlack: 10 });
    const b = createEipManager({ dataDir: dir, logger: quiet });
    a.apply(POOLS);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 10; i++) a.allocate({ namespace: 'race', name: `c${i}` });
      for (let i = 0; i < 10; i += 2) a.release('race', `c${i}`);
    }
    // b saw some of it before compaction happened; it must still agree after.
    expect(b.services().map((s) => `${s.key}=${s.addresses[0]?.ip}`)).toEqual(
      a.services().map((s) => `${s.key}=${s.addresses[0]?.ip}`),
    );
    expect(a.services().length).toBe(5);
    a.close();
    b.close();
    const c = createEipManager({ dataDir: dir, logger: quiet });
    expect(c.services().map((s) => s.key)).toEqual(['race/c1', 'race/c3', 'race/c5', 'race/c7', 'race/c9']);
    expect(c.usage().find((u) => u.name === 'shared')).toMatchObject({ used: 5 });
    c.close();
  });
});
