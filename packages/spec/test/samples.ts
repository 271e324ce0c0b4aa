// Helpers the Function tests share: OpenFunction's own samples (each names its upstream file on
// line 1), edited copies of them, the refusal a call raises, and the line a pattern is on.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { SpecError } from '../src/index.js';

export const fixtures = fileURLToPath(new URL('./fixtures/openfunction/', import.meta.url));

export const sample = (rel: string): string => readFileSync(join(fixtures, rel), 'utf8');

/** A sample with `edit` applied to its parsed document, written back as YAML. */
export function editedSample(rel: string, edit: (doc: any) => void): string {
  const doc = parse(sample(rel));
  edit(doc);
  return stringify(doc);
}

/** The SpecError `fn` throws; anything else (or nothing) fails the test. */
export function refusal(fn: () => unknown): SpecError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SpecError) return err;
    throw err;
  }
  throw new Error('expected a SpecError, but nothing was thrown');
}

/** The 1-based line of the first line matching `re` after the first line matching `after`. */
export function lineOf(text: string, re: RegExp, after?: RegExp): number {
  const lines = text.split('\n');
  const from = after ? lines.findIndex((l) => after.test(l)) : 0;
  const i = lines.findIndex((l, n) => n > from && re.test(l));
  if (from < 0 || i < 0) throw new Error(`no line matches ${re}`);
  return i + 1;
}
