import { parseSize } from '@sprout/http';
import { describe, expect, it } from 'vitest';
import { CollectorError } from '../errors.js';
import { parseConfig } from './load.js';

function fails(yaml: string): CollectorError {
  try {
    parseConfig(yaml, { env: {} });
  } catch (err) {
    expect(err).toBeInstanceOf(CollectorError);
    return err as CollectorError;
  }
  throw new Error('config was accepted');
}

describe('config loading', () => {
  it('reads fluent-bit YAML with defaults, case-insensitive keys and aliases', () => {
    const c = parseConfig(
      `service:\n  Flush: 0.5\n  storage.path: /tmp/x\npipeline:\n  inputs:\n    - Name: http\n      Port: "9999"\n      Tag: web\n    - name: tcp\n      buffer_size: 64\n  filters:\n    - name: grep\n      match: web\n      regex: log ^a\n  outputs:\n    - name: stdout\n      match_regex: ^w\n      retry_limit: no_limits\n`,
      { env: {} },
    );
    expect(c.service.flush).toBe(0.5);
    expect(c.service['storage.path']).toBe('/tmp/x');
    expect(c.inputs.map((i) => i.id)).toEqual(['http.0', 'tcp.0']);
    expect(c.inputs[0]!.options).toMatchObject({
      port: 9999,
      listen: '0.0.0.0',
      buffer_max_size: 4 * 1024 * 1024,
      successful_response_code: 201,
    });
    expect(c.inputs[0]!.common.tag).toBe('web');
    expect(c.inputs[1]!.options).toMatchObject({
      port: 5170,
      buffer_size: 64 * 1024,
      chunk_size: 32 * 1024,
      format: 'json',
    });
    expect(c.outputs[0]!.common.retry_limit).toBe(Infinity);
  });

  it('substitutes ${VAR} from env: and the environment', () => {
    const c = parseConfig(
      'env:\n  P: 7000\npipeline:\n  inputs:\n    - name: tcp\n      port: ${P}\n      tag: ${T}\n',
      { env: { T: 'from-env' } },
    );
    expect(c.inputs[0]!.options).toMatchObject({ port: 7000 });
    expect(c.inputs[0]!.common.tag).toBe('from-env');
    expect(fails('pipeline:\n  inputs:\n    - name: tcp\n      tag: ${NOPE}\n').message).toContain(
      '${NOPE} is not set',
    );
  });

  // [yaml, code, text the message must contain]
  const bad: Array<[string, string, string]> = [
    [
      'pipeline:\n  inputs:\n    - { name: syslog, mode: udp, parser: nope }\n',
      'SPROUT_ERR_COLLECTOR_UNKNOWN_PLUGIN',
      "pipeline.inputs[0].parser: no parser named 'nope'",
    ],
    [
      'pipeline:\n  inputs:\n    - { name: syslog, mode: unix_tcp }\n',
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      'needs a path',
    ],
    ['pipeline:\n  inputs:\n    - name: tcp\n   port: 1\n', 'SPROUT_ERR_COLLECTOR_CONFIG_YAML', 'line'],
    [
      'pipeline:\n  inputs:\n    - name: carrier_pigeon\n',
      'SPROUT_ERR_COLLECTOR_UNKNOWN_PLUGIN',
      "pipeline.inputs[0].name: no plugin named 'carrier_pigeon'",
    ],
    [
      'pipeline:\n  inputs:\n    - name: tcp\n      prot: 1\n',
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      "pipeline.inputs[0].prot: unknown key 'prot'",
    ],
    [
      'pipeline:\n  inputs:\n    - name: tcp\n      port: http\n',
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      'pipeline.inputs[0].port',
    ],
    [
      'pipeline:\n  inputs:\n    - name: tcp\n      port: 70000\n',
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      'pipeline.inputs[0].port',
    ],
    [
      'pipeline:\n  inputs:\n    - name: http\n      buffer_max_size: lots\n',
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      "'lots' is not a size",
    ],
    [
      'pipeline:\n  inputs:\n    - name: tcp\n      format: xml\n',
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      'pipeline.inputs[0].format',
    ],
    [
      'pipeline:\n  outputs:\n    - name: stdout\n',
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      "needs 'match' or 'match_regex'",
    ],
    [
      'pipeline:\n  outputs:\n    - name: stdout\n      match_regex: "("\n',
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      'match_regex: bad regular expression',
    ],
    [
      'pipeline:\n  outputs:\n    - name: null\n      match: "*"\n      retry_limit: -2\n',
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      'retry_limit',
    ],
    ['service:\n  flsuh: 1\n', 'SPROUT_ERR_COLLECTOR_CONFIG_INVALID', "service.flsuh: unknown key 'flsuh'"],
    ['pipelines:\n  inputs: []\n', 'SPROUT_ERR_COLLECTOR_CONFIG_INVALID', "unknown section 'pipelines'"],
    [
      'pipeline:\n  inputs:\n    - tcp\n',
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      'pipeline.inputs[0]: must be a mapping',
    ],
    [
      'pipeline:\n  inputs: {name: tcp}\n',
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      'pipeline.inputs: must be a list',
    ],
    [
      'pipeline:\n  filters:\n    - name: grep\n      match: "*"\n      regex: onlykey\n',
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      "expected 'KEY VALUE'",
    ],
    ['parsers:\n  - name: p\n    format: regex\n', 'SPROUT_ERR_COLLECTOR_CONFIG_INVALID', 'parsers[0].regex'],
    [
      'parsers:\n  - name: p\n    format: regex\n    regex: "(?<a>"\n',
      'SPROUT_ERR_COLLECTOR_CONFIG_INVALID',
      'bad regular expression',
    ],
  ];
  it.each(bad)('rejects %j with a coded error naming the field', (yaml, code, text) => {
    const e = fails(yaml);
    expect(e.code).toBe(code);
    expect(e.message).toContain(text);
  });

  it('parses fluent-bit sizes', () => {
    expect([
      parseSize('32000'),
      parseSize('32K'),
      parseSize('4M'),
      parseSize('1.5MB'),
      parseSize('2g'),
      parseSize(32, 1024),
      parseSize('x'),
    ]).toEqual([32000, 32768, 4194304, 1572864, 2147483648, 32768, undefined]);
  });
});
