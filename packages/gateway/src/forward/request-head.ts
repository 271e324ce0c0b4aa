/** A request target Node's parser would accept: no whitespace or control characters. */
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;

/**
 * The request head for the instance, from the header list `forwardHeaders` made out of the
 * client's raw headers (names and values as the client sent them, already checked by Node's
 * parser). Undefined when the target cannot go on a request line (the caller uses node:http).
 */
export function requestHead(method: string, target: string, headers: readonly string[]): string | undefined {
  if (!TARGET.test(target)) return undefined;
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return head + '\r\n';
}
