// An HTTP function: the request in, the return value is the response (a string is text/plain).
export function hello(req) {
  const name = typeof req.query.name === 'string' ? req.query.name : 'world';
  return `Hello, ${name}!\n`;
}
