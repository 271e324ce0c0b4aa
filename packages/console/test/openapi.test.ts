// The console's API client against the platform's OpenAPI document: every route it calls exists with
// that method, and every property table of web/src/api/types.ts (which TypeScript holds to be exactly
// the interface's keys) has exactly the schema's properties.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROUTES } from '../web/src/api/routes.js';
import { EVENT_TYPES, SCHEMA_KEYS } from '../web/src/api/types.js';

// The platform package owns the document; the console reads it as a file, never at run time.
const doc = parse(readFileSync(new URL('../../platform/openapi.yaml', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, { properties?: Record<string, { enum?: string[] }> }> };
};

describe('the API client against openapi.yaml', () => {
  it.each(Object.entries(ROUTES))('%s: %s is in the document', (_op, route) => {
    const [method, path] = route.split(' ') as [string, string];
    expect(Object.keys(doc.paths), path).toContain(path);
    // The invoke route takes any method; the document lists GET for it.
    expect(Object.keys(doc.paths[path]!), route).toContain(method.toLowerCase());
  });

  it.each(Object.entries(SCHEMA_KEYS))('%s has the properties of the schema', (name, keys) => {
    const schema = doc.components.schemas[name];
    expect(schema, name).toBeDefined();
    expect(Object.keys(keys).sort()).toEqual(Object.keys(schema!.properties ?? {}).sort());
  });

  it('knows every event type', () => {
    expect([...EVENT_TYPES].sort()).toEqual(
      [...doc.components.schemas.Event!.properties!.type!.enum!].sort(),
    );
  });
});
