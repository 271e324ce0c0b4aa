import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tokenMatches, type Principal } from '@sprout/http';
import { ConsoleError } from '../errors.js';
import { generatePassword, hashPassword, verifyPassword } from './password.js';

/** The file, inside the data dir, that holds the admin account and the API tokens (0600). */
export const ACCOUNTS_FILE = 'console-accounts.json';

/** The one account: the admin. */
const ADMIN_USER = 'admin';

interface StoredToken {
  id: string;
  name: string;
  /** sha256 of the whole token (hex): the token itself is shown once, never stored. */
  sha256: string;
  createdAt: string;
}

interface AccountsDocument {
  version: 1;
  admin: { user: string; password: string; updatedAt: string };
  tokens: StoredToken[];
}

/** An API token as listed: never its secret. */
export interface ApiTokenInfo {
  id: string;
  name: string;
  createdAt: string;
}

const TOKEN_FORMAT = /^sprout_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * The console's accounts in `<dataDir>/console-accounts.json` (0600; the dir 0700): the admin's
 * scrypt hash and the API tokens' sha256 hashes. Loaded once and written through on every change
 * (aside, then renamed). A file others may read, or that is not one of ours, is refused with
 * `SPROUT_ERR_CONSOLE_ACCOUNTS_FILE`, never used.
 *
 * @example
 * const { accounts, password } = await Accounts.open('.sprout', process.env.SPROUT_ADMIN_PASSWORD);
 * if (password) console.log(`admin password: ${password}`); // the first start only
 */
export class Accounts {
  readonly file: string;
  #doc: AccountsDocument;

  private constructor(file: string, doc: AccountsDocument) {
    this.file = file;
    this.#doc = doc;
  }

  /**
   * Opens the accounts of `dataDir`, creating the admin on the first start with `password` (from
   * `SPROUT_ADMIN_PASSWORD`) or a generated one, returned as `password` to be shown once. A
   * `password` given later replaces the admin's when it differs (the way to reset it).
   */
  static async open(dataDir: string, password?: string): Promise<{ accounts: Accounts; password?: string }> {
    const file = join(dataDir, ACCOUNTS_FILE);
    const existing = readAccounts(file);
    if (password !== undefined && password.length < 8) {
      throw new ConsoleError(
        'SPROUT_ERR_CONSOLE_ACCOUNTS_FILE',
        'SPROUT_ADMIN_PASSWORD must have at least 8 characters; unset it for a generated password',
        { field: 'SPROUT_ADMIN_PASSWORD' },
      );
    }
    if (existing) {
      const accounts = new Accounts(file, existing);
      if (password !== undefined && !(await verifyPassword(password, existing.admin.password))) {
        await accounts.setPassword(password);
      }
      return { accounts };
    }
    const chosen = password ?? generatePassword();
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const doc: AccountsDocument = {
      version: 1,
      admin: { user: ADMIN_USER, password: await hashPassword(chosen), updatedAt: new Date().toISOString() },
      tokens: [],
    };
    const accounts = new Accounts(file, doc);
    accounts.#save();
    return password === undefined ? { accounts, password: chosen } : { accounts };
  }

  /** True when `user` and `password` are the admin's (scrypt, constant time). */
  async verify(user: string, password: string): Promise<boolean> {
    const ok = await verifyPassword(password, this.#doc.admin.password);
    return ok && user === this.#doc.admin.user;
  }

  async setPassword(password: string): Promise<void> {
    this.#doc.admin = {
      ...this.#doc.admin,
      password: await hashPassword(password),
      updatedAt: new Date().toISOString(),
    };
    this.#save();
  }

  /** A new API token for scripts; its secret is in the answer only. */
  createToken(name: string): ApiTokenInfo & { token: string } {
    const id = randomBytes(6).toString('hex');
    const token = `sprout_${id}_${randomBytes(32).toString('base64url')}`;
    const entry: StoredToken = { id, name, sha256: sha256(token), createdAt: new Date().toISOString() };
    this.#doc.tokens.push(entry);
    this.#save();
    return { id, name, createdAt: entry.createdAt, token };
  }

  listTokens(): ApiTokenInfo[] {
    return this.#doc.tokens.map(({ id, name, createdAt }) => ({ id, name, createdAt }));
  }

  /** Removes a token; false when there was none of that id. */
  revokeToken(id: string): boolean {
    const before = this.#doc.tokens.length;
    this.#doc.tokens = this.#doc.tokens.filter((t) => t.id !== id);
    if (this.#doc.tokens.length === before) return false;
    this.#save();
    return true;
  }

  /** The principal of an API token, or undefined (unknown, revoked, malformed). */
  tokenOwner(token: string): Principal | undefined {
    const m = TOKEN_FORMAT.exec(token);
    const entry = m ? this.#doc.tokens.find((t) => t.id === m[1]) : undefined;
    if (!entry || !tokenMatches(sha256(token), entry.sha256)) return undefined;
    return { user: `token:${entry.name}`, via: 'api-token' };
  }

  #save(): void {
    const aside = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(aside, `${JSON.stringify(this.#doc, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(aside, this.file);
  }
}

function readAccounts(file: string): AccountsDocument | undefined {
  let stat;
  try {
    stat = lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw accountsError(file, (err as Error).message);
  }
  if (!stat.isFile()) throw accountsError(file, 'it is not a regular file; remove it');
  if (stat.mode & 0o077) {
    throw accountsError(
      file,
      `other users may read it (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 ${file}, or remove it for a new admin`,
    );
  }
  let doc: AccountsDocument;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as AccountsDocument;
  } catch (err) {
    throw accountsError(file, `it is not JSON (${(err as Error).message}); remove it for a new admin`);
  }
  if (doc?.version !== 1 || typeof doc.admin?.password !== 'string' || !Array.isArray(doc.tokens)) {
    throw accountsError(file, 'it is not a console accounts file; remove it for a new admin');
  }
  return doc;
}

function accountsError(file: string, why: string): ConsoleError {
  return new ConsoleError('SPROUT_ERR_CONSOLE_ACCOUNTS_FILE', `cannot use ${file}: ${why}`, { field: file });
}
