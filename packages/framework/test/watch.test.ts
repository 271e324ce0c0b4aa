import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { start } from './helpers.js';

const version = (v: string, delay = 0) => `
import { helper } from './helper.ts';
export async function fn(req) {
  await new Promise((r) => setTimeout(r, Number(req.query.ms ?? ${delay})));
  return helper('${v}');
}
`;

async function until(check: () => Promise<boolean>, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

describe('watch: reload on change without dropping in-flight requests', () => {
  it('finishes a slow request on the old code while new requests get the new code, including imported files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sprout-watch-'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module","main":"index.ts"}');
    writeFileSync(join(dir, 'helper.ts'), 'export const helper = (v: string): string => `v=${v}`;\n');
    writeFileSync(join(dir, 'index.ts'), version('one'));
    const s = await start({ source: dir, target: 'fn' }, { watch: true });
    try {
      expect(await (await fetch(`${s.url}/?ms=0`)).text()).toBe('v=one');
      const slow = fetch(`${s.url}/?ms=700`).then((r) => r.text());
      await new Promise((r) => setTimeout(r, 100));
      writeFileSync(join(dir, 'index.ts'), version('two'));
      await until(async () => (await (await fetch(`${s.url}/?ms=0`)).text()) === 'v=two');
      expect(await slow).toBe('v=one');
      // A change in an imported module reloads too.
      writeFileSync(join(dir, 'helper.ts'), 'export const helper = (v: string): string => `w=${v}`;\n');
      await until(async () => (await (await fetch(`${s.url}/?ms=0`)).text()) === 'w=two');
      // A broken edit answers 503 with the error; fixing it brings the function back.
      writeFileSync(join(dir, 'index.ts'), 'export const fn = (;');
      await until(async () => (await fetch(`${s.url}/?ms=0`)).status === 503);
      writeFileSync(join(dir, 'index.ts'), version('three'));
      await until(async () => (await (await fetch(`${s.url}/?ms=0`)).text()) === 'w=three');
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
