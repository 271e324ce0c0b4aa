// An HTTP function in TypeScript: Sprout runs it without a build step. Returning an object answers
// it as JSON.
import type { SproutRequest } from '@sprout/framework';

export interface Greeting {
  message: string;
}

export function hello(req: SproutRequest): Greeting {
  const name = typeof req.query.name === 'string' ? req.query.name : 'world';
  return { message: `Hello, ${name}!` };
}
