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

/**
 * The request head for the instance from a request the raw listener parsed: its field lines as
 * the client sent them (`SimpleRequest.forwardFields`: hop-by-hop lines already out), then the
 * X-Forwarded lines `forwardHeaders` would add. Undefined when the target cannot go on a request
 * line.
 */
export function passedRequestHead(
  method: string,
  target: string,
  fields: string,
  headers: Readonly<Record<string, string>>,
  remoteAddress: string | undefined,
): string | undefined {
  if (!TARGET.test(target)) return undefined;
  let head = `${method} ${target} HTTP/1.1${fields}`;
  if (remoteAddress) head += `\r\nx-forwarded-for: ${remoteAddress}`;
  if (headers['x-forwarded-proto'] === undefined) head += '\r\nx-forwarded-proto: http';
  // a simple request always has a Host
  if (headers['x-forwarded-host'] === undefined) head += `\r\nx-forwarded-host: ${headers.host}`;
  return head + '\r\n\r\n';
}
