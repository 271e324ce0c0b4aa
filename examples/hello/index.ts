import type { SproutRequest } from '@sprout/framework';

/** The smallest Sprout function: the return value is the response. */
export function hello(req: SproutRequest): string {
  const name = typeof req.query.name === 'string' ? req.query.name : 'world';
  return `Hello, ${name}!\n`;
}
