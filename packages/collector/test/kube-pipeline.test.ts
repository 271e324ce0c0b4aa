import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createManifestValidator, vendoredCrdsDir } from '@sprout/kube';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CollectorError, parseConfig, renderManifests, type CollectorConfig } from '../src/index.js';

// The upstream Fluent Operator CRDs, vendored in @sprout/kube.
const validator = createManifestValidator(vendoredCrdsDir());
const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'sprout-kube-pipeline-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Doc = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: any;
};

const render = (config: CollectorConfig, name = 'edge') => {
  const r = renderManifests(config, { name, namespace: 'logging' });
  return { ...r, docs: r.manifests as Doc[] };
};
const ofKind = (docs: Doc[], kind: string) => docs.filter((d) => d.kind === kind);

/** The collector configs of the examples (every examples/collector-*\/*.yaml). */
const exampleConfigs = readdirSync(examples)
  .filter((d) => d.startsWith('collector-'))
  .flatMap((d) =>
    readdirSync(join(examples, d))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => `${d}/${f}`),
  );

/** Every filter, output and parser kind the collector can render, with most of their options. */
const everything = parseConfig(`
service:
  flush: 2
  grace: 10
  log_level: warn
  http_server: on
  http_port: 2021
  storage.path: /var/lib/sprout-buffer
  storage.sync: full
parsers:
  - { name: access, format: regex, regex: '^(?<ip>\\S+) (?<path>\\S+)$', time_key: t, time_format: '%s', time_keep: on }
  - { name: app-json, format: json, time_key: ts }
  - { name: kv, format: logfmt }
pipeline:
  inputs:
    - { name: syslog, mode: tcp, listen: 127.0.0.1, port: 5140, parser: kv }
    - { name: http, port: 9880 }
  filters:
    - { name: grep, match: 'app.*', regex: ['level ^(info|warn)$', msg .], exclude: path ^/health }
    - { name: grep, match: x, regex: level ^error$, logical_op: or, alias: errors }
    - name: modify
      match_regex: '^app\\.'
      alias: mod
      set: [env prod]
      add: [region eu west]
      remove: [secret]
      remove_wildcard: [tmp_*]
      rename: [msg message]
      hard_rename: [lvl level]
      copy: [a b]
      hard_copy: [c d]
    - { name: record_modifier, match: '*', record: [host edge-1], remove_key: [pw], allowlist_key: [message, level], whitelist_key: [env] }
    - { name: parser, match: 'access.*', key_name: log, parser: [access, app-json, logfmt], reserve_data: on, preserve_key: on }
  outputs:
    - { name: stdout, match: '*', format: json, json_date_key: false, json_date_format: iso8601 }
    - { name: file, match: 'app.*', path: /var/log/sprout, file: app.log, format: template, template: '{time} {msg}', mkdir: on }
    - name: http
      match: '*'
      host: sink.logging.svc
      port: 8080
      uri: /ingest
      format: json_lines
      header: [Authorization Bearer t0k3n, X-Env prod]
      compress: gzip
      json_date_key: ts
      json_date_format: java_sql_timestamp
      retry_limit: 5
      storage.total_limit_size: 512M
    - { name: opentelemetry, match: 'otel.*', host: otel.observability.svc, logs_uri: /l, metrics_uri: /m, traces_uri: /t, header: [X-Tenant acme] }
    - name: forward
      match: 'fwd.*'
      host: aggregator.logging.svc
      tag: relayed
      time_as_integer: on
      send_options: on
      require_ack_response: on
      shared_key: s3cret
      self_hostname: edge
      username: u
      password: p
      retry_limit: no_retries
    - { name: 'null', match: 'drop.*' }
    - { name: counter, match: 'count.*', alias: counted }
    - { name: pgsql, match: 'db.*', host: pg.data.svc, user: sprout, database: logs, table: records, timestamp_key: ts, async: on, min_pool_size: 2, max_pool_size: 8, workers: 2 }
`);

/** Which objects a label selector picks (the rendered selectors use matchLabels only). */
function selects(
  selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown },
  d: Doc,
): boolean {
  expect(selector.matchExpressions).toBeUndefined();
  // An empty selector picks every object of its kind in the cluster.
  expect(Object.keys(selector.matchLabels ?? {}).length).toBeGreaterThan(0);
  return Object.entries(selector.matchLabels!).every(([k, v]) => d.metadata.labels?.[k] === v);
}

const selectorKinds = {
  inputSelector: 'ClusterInput',
  filterSelector: 'ClusterFilter',
  outputSelector: 'ClusterOutput',
  parserSelector: 'ClusterParser',
  multilineParserSelector: 'ClusterMultilineParser',
} as const;

function checkSelectors(docs: Doc[], others: Doc[]): void {
  const [config] = ofKind(docs, 'ClusterFluentBitConfig');
  expect(config).toBeDefined();
  expect(ofKind(docs, 'Collector')[0]!.spec.fluentBitConfigName).toBe(config!.metadata.name);
  // What a cluster may hold besides this pipeline: another pipeline, objects for Helm's default configs.
  const foreign: Doc[] = [
    ...others,
    ...Object.values(selectorKinds).map((kind) => ({
      apiVersion: 'fluentbit.fluent.io/v1alpha2',
      kind,
      metadata: {
        name: `helm-${kind.toLowerCase()}`,
        labels: { 'fluentbit.fluent.io/enabled': 'true', 'fluentbit.fluent.io/mode': 'collector' },
      },
      spec: {},
    })),
  ];
  for (const [selector, kind] of Object.entries(selectorKinds)) {
    const picked = [...docs, ...foreign].filter((d) => d.kind === kind && selects(config!.spec[selector], d));
    expect(picked, selector).toEqual(ofKind(docs, kind));
  }
}

describe('Fluent Operator pipeline', () => {
  it('renders every example config as objects valid against the upstream CRDs, inputs bound to 0.0.0.0', () => {
    expect(exampleConfigs.length).toBeGreaterThanOrEqual(5);
    for (const file of exampleConfigs) {
      const config = parseConfig(readFileSync(join(examples, file), 'utf8'), { env: {} });
      const { docs, notes } = render(config);
      for (const d of docs)
        expect(validator.validate(d).issues, `${file} ${d.kind}/${d.metadata.name}`).toEqual([]);
      expect(ofKind(docs, 'ClusterInput')).toHaveLength(config.inputs.length);
      expect(ofKind(docs, 'ClusterFilter')).toHaveLength(config.filters.length);
      expect(ofKind(docs, 'ClusterOutput')).toHaveLength(config.outputs.length);
      expect(ofKind(docs, 'ClusterParser')).toHaveLength(config.parserSpecs.length);
      checkSelectors(docs, render(config, 'other').docs);
      config.inputs.forEach((input, n) => {
        const section = Object.values(ofKind(docs, 'ClusterInput')[n]!.spec)[0] as { listen?: string };
        const listen = (input.options as { listen?: string }).listen;
        if (listen === '0.0.0.0') expect(section.listen, file).toBeUndefined();
        else {
          expect(section.listen, file).toBe('0.0.0.0');
          expect(notes, file).toContain(
            `${input.id}: listens on 0.0.0.0, not ${listen}: a loopback address is unreachable from other pods`,
          );
        }
      });
      if (!config.inputs.length) expect(notes.join('\n')).toContain('the config has no inputs');
    }
  });

  it('the loopback binds of the examples are what get rewritten (the examples listen on 127.0.0.1)', () => {
    const basic = parseConfig(readFileSync(join(examples, 'collector-basic/collector.yaml'), 'utf8'), {
      env: {},
    });
    expect(basic.inputs.map((i) => (i.options as { listen: string }).listen)).toEqual([
      '127.0.0.1',
      '127.0.0.1',
    ]);
    const { docs } = render(basic);
    expect(ofKind(docs, 'ClusterInput').map((d) => d.spec)).toEqual([
      { http: { listen: '0.0.0.0', port: 9880 } },
      { syslog: { mode: 'udp', listen: '0.0.0.0', port: 5140, tag: 'syslog' } },
    ]);
  });

  it('renders every filter, output and parser kind, valid against the upstream CRDs', () => {
    const { docs, dropped, notes } = render(everything);
    for (const d of docs) expect(validator.validate(d).issues, `${d.kind}/${d.metadata.name}`).toEqual([]);
    checkSelectors(docs, render(everything, 'other').docs);
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'ClusterInput/edge-syslog.0',
      'ClusterInput/edge-http.0',
      'ClusterFilter/edge-grep.0',
      'ClusterFilter/edge-errors',
      'ClusterFilter/edge-mod',
      'ClusterFilter/edge-record-modifier.0',
      'ClusterFilter/edge-parser.0',
      'ClusterOutput/edge-stdout.0',
      'ClusterOutput/edge-file.0',
      'ClusterOutput/edge-http.1',
      'ClusterOutput/edge-opentelemetry.0',
      'ClusterOutput/edge-forward.0',
      'ClusterOutput/edge-null.0',
      'ClusterOutput/edge-counted',
      'ClusterOutput/edge-pgsql.0',
      'ClusterParser/access',
      'ClusterParser/app-json',
      'ClusterParser/kv',
      'ClusterParser/logfmt',
      'ClusterFluentBitConfig/edge',
      'Collector/edge',
    ]);
    expect(ofKind(docs, 'ClusterInput')[0]!.spec).toEqual({
      syslog: { mode: 'tcp', listen: '0.0.0.0', port: 5140, parser: 'kv' },
    });
    expect(ofKind(docs, 'ClusterFilter').map((d) => d.spec)).toEqual([
      {
        match: 'app.*',
        // Rules that must all hold: a chain of one-rule greps.
        filters: [
          { grep: { regex: 'level ^(info|warn)$' } },
          { grep: { regex: 'msg .' } },
          { grep: { exclude: 'path ^/health' } },
        ],
        ordinal: 0,
      },
      { match: 'x', filters: [{ grep: { regex: 'level ^error$', alias: 'errors' } }], ordinal: 1 },
      {
        matchRegex: '^app\\.',
        // One rule per operation, in the order the collector applies them.
        filters: [
          {
            modify: {
              alias: 'mod',
              rules: [
                { set: { env: 'prod' } },
                { add: { region: 'eu west' } },
                { remove: 'secret' },
                { removeWildcard: 'tmp_*' },
                { rename: { msg: 'message' } },
                { hardRename: { lvl: 'level' } },
                { copy: { a: 'b' } },
                { hardCopy: { c: 'd' } },
              ],
            },
          },
        ],
        ordinal: 2,
      },
      {
        match: '*',
        filters: [
          {
            recordModifier: {
              records: ['host edge-1'],
              removeKeys: ['pw'],
              allowlistKeys: ['message', 'level'],
              whitelistKeys: ['env'],
            },
          },
        ],
        ordinal: 3,
      },
      {
        match: 'access.*',
        filters: [
          {
            parser: {
              keyName: 'log',
              parser: 'access,app-json,logfmt',
              reserveData: true,
              preserveKey: true,
            },
          },
        ],
        ordinal: 4,
      },
    ]);
    expect(ofKind(docs, 'ClusterOutput').map((d) => d.spec)).toEqual([
      { match: '*', stdout: { format: 'json', jsonDateKey: 'false', jsonDateFormat: 'iso8601' } },
      {
        match: 'app.*',
        file: { path: '/var/log/sprout', file: 'app.log', format: 'template', template: '{time} {msg}' },
      },
      {
        match: '*',
        retry_limit: '5',
        http: {
          host: 'sink.logging.svc',
          port: 8080,
          uri: '/ingest',
          format: 'json_lines',
          headers: { Authorization: 'Bearer t0k3n', 'X-Env': 'prod' },
          compress: 'gzip',
          jsonDateKey: 'ts',
          jsonDateFormat: 'java_sql_timestamp',
          totalLimitSize: '512M',
        },
      },
      {
        match: 'otel.*',
        opentelemetry: {
          host: 'otel.observability.svc',
          // 4318 is our default, not fluent-bit's (80): the port is always written.
          port: 4318,
          logsUri: '/l',
          metricsUri: '/m',
          tracesUri: '/t',
          header: { 'X-Tenant': 'acme' },
        },
      },
      {
        match: 'fwd.*',
        retry_limit: 'no_retries',
        forward: {
          host: 'aggregator.logging.svc',
          port: 24224,
          tag: 'relayed',
          timeAsInteger: true,
          sendOptions: true,
          requireAckResponse: true,
          sharedKey: 's3cret',
          selfHostname: 'edge',
          username: { valueFrom: { secretKeyRef: { name: 'edge-forward.0', key: 'username' } } },
          password: { valueFrom: { secretKeyRef: { name: 'edge-forward.0', key: 'password' } } },
        },
      },
      { match: 'drop.*', null: {} },
      { match: 'count.*', alias: 'counted', customPlugin: { config: 'Name counter' } },
      {
        match: 'db.*',
        customPlugin: {
          config: [
            'Name pgsql',
            'Host pg.data.svc',
            'Port 5432',
            'User sprout',
            'Database logs',
            'Table records',
            'Timestamp_Key ts',
            'Async on',
            'Min_Pool_Size 2',
            'Max_Pool_Size 8',
          ].join('\n'),
        },
      },
    ]);
    expect(ofKind(docs, 'ClusterParser').map((d) => d.spec)).toEqual([
      { regex: { regex: '^(?<ip>\\S+) (?<path>\\S+)$', timeKey: 't', timeFormat: '%s', timeKeep: true } },
      { json: { timeKey: 'ts' } },
      { logfmt: {} },
      // Built in here, not in fluent-bit's image: rendered because the parser filter uses it.
      { logfmt: {} },
    ]);
    expect(ofKind(docs, 'ClusterFluentBitConfig')[0]!.spec.service).toEqual({
      parsersFile: 'parsers.conf',
      flushSeconds: 2,
      graceSeconds: 10,
      logLevel: 'warning',
      httpServer: true,
      httpListen: '0.0.0.0',
      httpPort: 2021,
      storage: { path: '/var/lib/sprout-buffer', sync: 'full' },
    });
    expect(ofKind(docs, 'Collector')[0]!.spec.bufferPath).toBe('/var/lib/sprout-buffer');
    expect(dropped).toEqual({ 'file.0': ['mkdir'], 'pgsql.0': ['workers'] });
    expect(notes).toEqual([
      'syslog.0: listens on 0.0.0.0, not 127.0.0.1: a loopback address is unreachable from other pods',
      'forward.0: username and password are read from Secret edge-forward.0 (keys username, password) in namespace logging: kubectl -n logging create secret generic edge-forward.0 --from-literal=username=... --from-literal=password=...',
      'service: http_listen is 0.0.0.0, not 127.0.0.1: a loopback address is unreachable from other pods',
    ]);
    // The rendered YAML carries no anchors or aliases.
    expect(docs.map((d) => stringify(d)).join('')).not.toMatch(/[&*]a\d/);
  });

  it('names hosts of this machine and moves a relative buffer path to the Collector volume', () => {
    const config = parseConfig(
      `service:\n  storage.path: .sprout/buf\npipeline:\n  inputs:\n    - { name: nginx_metrics, host: 127.0.0.1, port: 8080 }\n  outputs:\n    - { name: http, match: '*' }\n`,
    );
    const { docs, notes } = render(config);
    for (const d of docs) expect(validator.validate(d).issues).toEqual([]);
    expect(ofKind(docs, 'ClusterFluentBitConfig')[0]!.spec.service.storage).toEqual({
      path: '/buffers/fluentbit/log',
    });
    expect(ofKind(docs, 'Collector')[0]!.spec.bufferPath).toBe('/buffers/fluentbit/log');
    expect(notes).toEqual([
      "nginx_metrics.0: scrapes 127.0.0.1, which in Kubernetes is the Collector pod itself: set host to nginx's Service",
      "http.0: sends to 127.0.0.1, which in Kubernetes is the Collector pod itself: set host to the destination's Service",
      "service: storage.path is /buffers/fluentbit/log (the Collector's buffer volume), not .sprout/buf: a relative path names a folder of this machine",
    ]);
  });

  it('refuses what Fluent Operator cannot run with a coded error naming it', () => {
    const script = join(tmp, 'f.cjs');
    writeFileSync(script, 'exports.f = (tag, t, body) => body;\n');
    const refused = (pipeline: string, extra = '') => {
      const config = parseConfig(`${extra}pipeline:\n${pipeline}`, { baseDir: tmp });
      try {
        render(config);
      } catch (err) {
        expect(err).toBeInstanceOf(CollectorError);
        expect((err as CollectorError).code).toBe('SPROUT_ERR_COLLECTOR_NOT_RENDERABLE');
        return err as CollectorError;
      }
      throw new Error('rendered');
    };
    const filter = (f: string) => refused(`  filters:\n    - ${f}\n`);
    const output = (o: string) => refused(`  outputs:\n    - ${o}\n`);
    expect(filter(`{ name: javascript, match: '*', script: ${script}, call: f }`).field).toBe('javascript.0');
    expect(filter(`{ name: javascript, match: '*', script: ${script}, call: f }`).message).toMatch(
      /^javascript.0: javascript is Sprout's own filter: Fluent Operator has no equivalent/,
    );
    expect(filter(`{ name: grep, match: '*', regex: [a 1, b 2], logical_op: or }`).field).toBe(
      'grep.0.logical_op',
    );
    expect(filter(`{ name: grep, match: '*' }`).field).toBe('grep.0');
    expect(filter(`{ name: modify, match: '*' }`).field).toBe('modify.0');
    expect(filter(`{ name: record_modifier, match: '*' }`).field).toBe('record_modifier.0');
    expect(output(`{ name: file, match: '*', format: json_lines }`).field).toBe('file.0.format');
    expect(output(`{ name: stdout, match: '*', json_date_format: java_sql_timestamp }`).field).toBe(
      'stdout.0.json_date_format',
    );
    expect(output(`{ name: forward, match: '*', unix_path: /run/f.sock }`).field).toBe('forward.0');
    expect(output(`{ name: pgsql, match: '*', password: p }`).field).toBe('pgsql.0.password');
    expect(output(`{ name: http, match: '*', header: [A 1, A 2] }`).message).toMatch(
      /header A is given twice/,
    );
    expect(refused(`  outputs: []\n`, `parsers:\n  - { name: My_Parser, format: json }\n`).field).toBe(
      'parsers[0].name',
    );
    expect(() => renderManifests(everything, { name: 'x'.repeat(64), namespace: 'n' })).toThrow(
      /cannot be a label value/,
    );
  });

  it('keeps the inputs ↔ ClusterInput round trip: rendered examples read back as their inputs', () => {
    for (const file of exampleConfigs) {
      const config = parseConfig(readFileSync(join(examples, file), 'utf8'), { env: {} });
      if (!config.inputs.length) continue;
      const { docs, dropped } = render(config);
      const yaml = ofKind(docs, 'ClusterInput')
        .map((d) => stringify(d))
        .join('---\n');
      const back = parseConfig(yaml);
      expect(
        back.inputs.map((i) => i.plugin.name),
        file,
      ).toEqual(config.inputs.map((i) => i.plugin.name));
      back.inputs.forEach((i, n) => {
        const input = config.inputs[n]!;
        // What a ClusterInput cannot carry is named in `dropped`; the tag lives outside the options.
        const lost = ['tag', 'listen', ...(dropped[input.id] ?? [])];
        const keep = (o: unknown) =>
          Object.fromEntries(Object.entries(o as Record<string, unknown>).filter(([k]) => !lost.includes(k)));
        expect((i.options as { listen: string }).listen, file).toBe('0.0.0.0');
        expect(keep(i.options), `${file} ${input.id}`).toEqual(keep(input.options));
      });
    }
  });
});
