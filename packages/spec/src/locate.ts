import { readFileSync } from 'node:fs';
import { parseYaml, type Locator } from './yaml.js';

/**
 * A locator for a function.yaml that loaded already: `file:line` of a field path, for messages other
 * packages give about its fields (e.g. `sprout deploy` refusing a `spec.build` shape).
 */
export function functionFieldLocator(file: string): Locator {
  return parseYaml(readFileSync(file, 'utf8'), file, 'SPROUT_ERR_SPEC_INVALID_FUNCTION').at;
}
