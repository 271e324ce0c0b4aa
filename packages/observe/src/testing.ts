import { AssertionError } from 'node:assert';
import { repeatedKeys } from './json-keys.js';

/**
 * Parses one log line as strict JSON: throws a SyntaxError on text that is not JSON and an
 * AssertionError naming the path of every key an object repeats (JSON.parse alone keeps the last
 * value of a repeated key without a word). Returns the parsed value.
 *
 * @example
 * assertNoDuplicateKeys('{"component":"sprout","component":"collector"}'); // throws: $.component
 */
export function assertNoDuplicateKeys(line: string): unknown {
  const value = JSON.parse(line) as unknown;
  const repeated = repeatedKeys(line);
  if (repeated.length) {
    throw new AssertionError({ message: `repeated key ${repeated.join(', ')} in ${line}` });
  }
  return value;
}
