import { mkdtempSync, readFileSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSproutError } from '@sprout/http';
import { Accounts, ACCOUNTS_FILE } from './accounts.js';
import { LoginLimiter } from './limiter.js';
import { hashPassword, verifyPassword } from './password.js';
import { Sessions } from './sessions.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'console-auth-'));

describe('passwords', () => {
  it('hash with scrypt and a salt of their own; verify only the same password', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^scrypt\$15\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct hors', a)).toBe(false);
    for (const bad of ['', 'scrypt$99$8$1$x$y', a.replace('$15$', '$40$'), 'plain text']) {
      expect(await verifyPassword('correct horse', bad)).toBe(false);
    }
  });
});

describe('Accounts', () => {
  it('creates the admin once with a generated password, in a 0600 file without the password', async () => {
    const dir = tmp();
    const first = await Accounts.open(dir);
    expect(first.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const file = join(dir, ACCOUNTS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).not.toContain(first.password!);
    const again = await Accounts.open(dir);
    expect(again.password).toBeUndefined();
    expect(await again.accounts.verify('admin', first.password!)).toBe(true);
    expect(await again.accounts.verify('root', first.password!)).toBe(false);
  });

  it('takes SPROUT_ADMIN_PASSWORD at the first start and as a reset later', async () => {
    const dir = tmp();
    expect((await Accounts.open(dir, 'first-password')).password).toBeUndefined();
    const { accounts } = await Accounts.open(dir, 'second-password');
    expect(await accounts.verify('admin', 'second-password')).toBe(true);
    expect(await accounts.verify('admin', 'first-password')).toBe(false);
    await expect(Accounts.open(dir, 'short')).rejects.toThrow(/at least 8/);
  });

  it('refuses a file others may read, or one that is not its own', async () => {
    const dir = tmp();
    await Accounts.open(dir, 'a-password');
    chmodSync(join(dir, ACCOUNTS_FILE), 0o644);
    const err = await Accounts.open(dir).catch((e: unknown) => e);
    expect(isSproutError(err, 'SPROUT_ERR_CONSOLE_ACCOUNTS_FILE')).toBe(true);
    expect((err as Error).message).toContain('chmod 600');
    const other = tmp();
    writeFileSync(join(other, ACCOUNTS_FILE), '{"hello":1}', { mode: 0o600 });
    await expect(Accounts.open(other)).rejects.toThrow(/not a console accounts file/);
  });

  it('makes API tokens shown once, stored hashed, revocable', async () => {
    const dir = tmp();
    const { accounts } = await Accounts.open(dir, 'a-password');
    const made = accounts.createToken('ci');
    expect(made.token).toMatch(/^sprout_[0-9a-f]{12}_/);
    expect(readFileSync(join(dir, ACCOUNTS_FILE), 'utf8')).not.toContain(made.token);
    expect(accounts.tokenOwner(made.token)).toEqual({ user: 'token:ci', via: 'api-token' });
    expect(
      accounts.tokenOwner(made.token.slice(0, -1) + (made.token.endsWith('A') ? 'B' : 'A')),
    ).toBeUndefined();
    expect(accounts.tokenOwner('sprout_000000000000_' + 'x'.repeat(43))).toBeUndefined();
    const reopened = (await Accounts.open(dir)).accounts;
    expect(reopened.listTokens()).toEqual([{ id: made.id, name: 'ci', createdAt: made.createdAt }]);
    expect(reopened.revokeToken(made.id)).toBe(true);
    expect(reopened.revokeToken(made.id)).toBe(false);
    expect(reopened.tokenOwner(made.token)).toBeUndefined();
  });
});

describe('Sessions', () => {
  it('end after their maximum age, when idle, on logout, and the oldest first past the cap', () => {
    let now = 0;
    const s = new Sessions({ maxAgeMs: 1000, idleMs: 300, max: 2, now: () => now });
    const a = s.create('admin');
    expect(s.get(a.id)?.csrf).toBe(a.session.csrf);
    now = 250;
    expect(s.get(a.id)).toBeDefined();
    now = 500; // 250 ms idle: still there
    expect(s.get(a.id)).toBeDefined();
    now = 801; // idle 301 ms
    expect(s.get(a.id)).toBeUndefined();
    const b = s.create('admin');
    for (now = 900; now < 1900; now += 200) expect(s.get(b.id)).toBeDefined();
    now = 1901; // 1 001 ms after sign-in
    expect(s.get(b.id)).toBeUndefined();
    const c = s.create('admin');
    s.end(c.id);
    expect(s.get(c.id)).toBeUndefined();
    const [d, e, f] = [s.create('admin'), s.create('admin'), s.create('admin')];
    expect(s.get(d.id)).toBeUndefined();
    expect(s.get(e.id) && s.get(f.id)).toBeDefined();
    expect(s.get('made-up')).toBeUndefined();
  });
});

describe('LoginLimiter', () => {
  it('refuses a client after 5 failures for the rest of the window, others too past the overall cap', () => {
    let now = 0;
    const l = new LoginLimiter({ perClient: 5, overall: 8, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 5; i++) {
      expect(l.retryAfter('a')).toBe(0);
      l.failed('a');
      now += 1000;
    }
    expect(l.retryAfter('a')).toBe(55);
    expect(l.retryAfter('b')).toBe(0);
    for (let i = 0; i < 3; i++) l.failed(`c${i}`);
    expect(l.retryAfter('b')).toBeGreaterThan(0);
    now = 61_000;
    expect(l.retryAfter('a')).toBe(0);
    l.failed('z');
    l.succeeded('z');
    expect(l.retryAfter('z')).toBe(0);
  });
});
