// The console's API client against the platform's OpenAPI document: every route it calls is the
// operation of that operationId (method and path), and the client's types (web/src/api/openapi.gen.ts)
// are what packages/console/openapi-types.mjs generates from the document now.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROUTES } from '../web/src/api/routes.js';
// @ts-expect-error -- a plain ES module script (the generator), without declarations
import { DOCUMENT, OUTPUT, renderTypes } from '../openapi-types.mjs';

// The platform package owns the document; the console reads it as a file, never at run time.
const text = readFileSync(DOCUMENT as string, 'utf8');
const doc = parse(text) as { paths: Record<string, Record<string, { operationId?: string }>> };
const operations = new Map<string, string>();
for (const [path, item] of Object.entries(doc.paths))
  for (const [method, op] of Object.entries(item))
    if (op.operationId) operations.set(op.operationId, `${method.toUpperCase()} ${path}`);

describe('the API client against openapi.yaml', () => {
  it.each(Object.entries(ROUTES))('%s: %s is that operation of the document', (op, route) => {
    expect(operations.get(op), op).toBe(route);
  });

  it('the generated types are up to date (else run `node packages/console/openapi-types.mjs`)', async () => {
    const committed = readFileSync(OUTPUT as string, 'utf8');
    expect(committed).toBe(await (renderTypes as (t: string) => Promise<string>)(text));
  });

  it('the generator refuses a schema it cannot translate instead of guessing', async () => {
    const at = '\n    Problem:\n      type: object\n';
    const broken = text.replace(at, `${at}      not: { type: string }\n`);
    expect(broken).not.toBe(text);
    await expect((renderTypes as (t: string) => Promise<string>)(broken)).rejects.toThrow(
      /Problem: unsupported schema keywords not/,
    );
  });
});
