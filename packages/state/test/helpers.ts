import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseComponent, type ComponentDocument } from '@sprout/spec';

/** A state component document built in code, as a YAML file would hold it. */
export function component(
  name: string,
  type: string,
  metadata: Record<string, string> = {},
): ComponentDocument {
  return parseComponent({
    apiVersion: 'dapr.io/v1alpha1',
    kind: 'Component',
    metadata: { name },
    spec: {
      type,
      version: 'v1',
      metadata: Object.entries(metadata).map(([n, value]) => ({ name: n, value })),
    },
  });
}

/** A fresh temporary folder and a function that removes it. */
export function tempDir(tag: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `sprout-state-${tag}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const PG_URL = process.env.SPROUT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_HOST = process.env.SPROUT_TEST_REDIS_HOST ?? '127.0.0.1:6379';

/** A table / key name unique to this run of a test file. */
export function uniqueName(tag: string): string {
  return `${tag}_${process.pid}_${Date.now().toString(36)}`.replace(/[^a-z0-9_]/gi, '_').toLowerCase();
}
