import type { z } from 'zod';

/** The first issue of a failed schema parse, as a dotted field path and a message. */
export function firstIssue(error: z.ZodError): {
  path: (string | number)[];
  field: string;
  message: string;
  unknownKey: string | undefined;
} {
  const issue = error.issues[0]!;
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  // An unknown key is at fault itself, not the object holding it.
  const field = (unknownKey === undefined ? path : [...path, unknownKey]).join('.');
  return { path, field, message: issue.message, unknownKey };
}
