import { describe, expect, it } from 'vitest';
import { resolveFunctionText } from './load.js';
import { parseYaml, parseYamlAll } from './yaml.js';

const head = 'apiVersion: core.openfunction.io/v1beta2\nkind: Function\nmetadata:\n  name: x\n';

describe('YAML with file:line locators', () => {
  it('names file and line for syntax errors and wrong kinds', () => {
    expect(() => resolveFunctionText('a: [1,\n', 'fn.yaml')).toThrow(/fn\.yaml:\d+: invalid YAML/);
    expect(() => resolveFunctionText('apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n', 'fn.yaml')).toThrow(
      /fn\.yaml:1: apiVersion\/kind must be/,
    );
    expect(() => resolveFunctionText('', 'fn.yaml')).toThrow(/fn\.yaml:1: apiVersion\/kind must be/);
  });

  it('locates a field by its key, a list item by its entry, else the closest parent', () => {
    const { at } = parseYaml(
      `${head}spec:\n  image: i\n  serving:\n    scaleOptions:\n      maxReplicas: 3\n    outputs:\n      - dapr: { name: a }\n`,
      'fn.yaml',
      'SPROUT_ERR_SPEC_INVALID_FUNCTION',
    );
    expect(at(['spec', 'serving', 'scaleOptions', 'maxReplicas'])).toBe('fn.yaml:9');
    expect(at(['spec', 'serving', 'outputs', 0, 'dapr'])).toBe('fn.yaml:11');
    expect(at(['spec', 'serving', 'nothing', 'here'])).toBe('fn.yaml:7');
    expect(() =>
      resolveFunctionText(
        `${head}spec:\n  serving:\n    scaleOptions:\n      maxReplicas: three\n`,
        'fn.yaml',
      ),
    ).toThrow(/fn\.yaml:8: field "spec\.serving\.scaleOptions\.maxReplicas"/);
  });

  it('reads every document of a multi-document file, skipping empty ones', () => {
    const docs = parseYamlAll('a: 1\n---\n---\nb: 2\n', 'f.yaml', 'SPROUT_ERR_SPEC_INVALID_COMPONENT');
    expect(docs.map((d) => d.value)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(docs[1]!.at(['b'])).toBe('f.yaml:4');
    expect(() => parseYamlAll('a: 1\n---\nb: [\n', 'f.yaml', 'SPROUT_ERR_SPEC_INVALID_COMPONENT')).toThrow(
      expect.objectContaining({ code: 'SPROUT_ERR_SPEC_INVALID_COMPONENT' }),
    );
  });
});
