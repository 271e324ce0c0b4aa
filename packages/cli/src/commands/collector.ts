import { resolve } from 'node:path';
import {
  createCollector,
  exposedInputs,
  loadConfig,
  renderManifests,
  runConfigTests,
} from '@sprout/collector';
import { stringify } from 'yaml';
import { createLogger } from '@sprout/observe';
import { defineCommand, UsageError, type Command } from '../command.js';
import { untilSignal } from '@sprout/http';

const configOption = {
  config: {
    type: 'string',
    short: 'c',
    env: 'SPROUT_COLLECTOR_CONFIG',
    value: 'FILE',
    description: "Collector config in fluent-bit's YAML layout (service, pipeline, parsers)",
  },
} as const;

function configPath(opts: { config?: string | undefined }, cwd: string, cmd: string): string {
  if (!opts.config)
    throw new UsageError(`-c FILE is required: the collector config (see 'sprout ${cmd} --help')`);
  return resolve(cwd, opts.config);
}

const test = defineCommand({
  name: 'collector test',
  summary: "Run the config's tests: sample records in, expected records per output",
  usage: 'sprout collector test -c FILE',
  options: configOption,
  details: `
Each entry under 'tests:' feeds records (or raw 'lines' read with 'parser') through the
configured filters and routing, and compares what each output named under 'expect' receives.

Example test in collector.yaml:
  tests:
    - name: drops debug lines
      input: { tag: app.web, records: [{ level: debug }, { level: info }] }
      expect:
        stdout.0: [{ level: info }]`,
  async run(opts, _p, io) {
    const config = loadConfig(configPath(opts, io.cwd, 'collector test'));
    if (!config.tests.length) throw new UsageError(`no tests in ${opts.config} (add a 'tests:' list)`, 1);
    const results = await runConfigTests(config);
    for (const r of results) {
      io.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}\n`);
      for (const d of r.diffs) io.stdout.write(`       ${d}\n`);
    }
    const failed = results.filter((r) => !r.ok).length;
    io.stdout.write(`\n${results.length - failed} passed, ${failed} failed\n`);
    if (failed)
      io.stderr.write(
        `error: SPROUT_ERR_COLLECTOR_TEST_FAILED: ${failed} of ${results.length} config tests failed\n`,
      );
    return failed ? 1 : 0;
  },
});

const render = defineCommand({
  name: 'collector render',
  summary:
    'Print the pipeline as Fluent Operator manifests: inputs, filters, outputs, parsers, config, Collector',
  usage: 'sprout collector render -c FILE [--name NAME] [--namespace NS] [--validate-against DIR]',
  options: {
    ...configOption,
    name: {
      type: 'string',
      default: 'sprout-collector',
      value: 'NAME',
      description:
        'Pipeline name: the Collector, its ClusterFluentBitConfig and the label sprout.dev/pipeline=NAME; the other objects are named NAME-<id>',
    },
    namespace: { type: 'string', default: 'fluent', value: 'NS', description: 'Namespace of the Collector' },
    'validate-against': {
      type: 'string',
      env: 'SPROUT_CRDS_DIR',
      value: 'DIR',
      description:
        "Check the output against the CRD schemas in DIR before printing: by default the upstream CRDs shipped with @sprout/kube; '' skips the check",
    },
  },
  details: `
Writes multi-document YAML (fluentbit.fluent.io/v1alpha2) to stdout: a ClusterInput per input, a
ClusterFilter per filter (ordinal keeps the config's order), a ClusterOutput per output, a
ClusterParser per parser, a ClusterFluentBitConfig whose selectors pick exactly the objects
labelled sprout.dev/pipeline=NAME, and the Collector (a fluent-bit StatefulSet) that runs it.

Changed for the cluster, each named on stderr as 'note:': inputs listen on 0.0.0.0 (a loopback
address is unreachable from other pods), a relative storage.path becomes the Collector's buffer
volume; hosts that point at this machine are named. Keys a ClusterInput or ClusterOutput cannot
carry (mem_buf_limit, storage.type, ack, ...) are named on stderr as 'warning:'. A filter, output
or option fluent-bit cannot run as the collector does (the javascript filter, a grep with
logical_op 'or' over several rules, ...) fails with SPROUT_ERR_COLLECTOR_NOT_RENDERABLE.

Example:
  sprout collector render -c examples/collector-basic/collector.yaml --name edge | kubectl apply -f -`,
  async run(opts, _p, io) {
    const config = loadConfig(configPath(opts, io.cwd, 'collector render'));
    const { manifests, dropped, notes } = renderManifests(config, {
      name: opts.name,
      namespace: opts.namespace,
    });
    if (opts['validate-against'] !== '') {
      const { createManifestValidator, vendoredCrdsDir } = await import('@sprout/kube');
      const validator = createManifestValidator(opts['validate-against'] ?? vendoredCrdsDir());
      for (const m of manifests) validator.assertValid(m);
    }
    io.stdout.write(manifests.map((m) => stringify(m)).join('---\n'));
    const inputs = new Set(config.inputs.map((i) => i.id));
    for (const [id, keys] of Object.entries(dropped))
      io.stderr.write(
        `warning: ${id}: not expressible in a ${inputs.has(id) ? 'ClusterInput' : 'ClusterOutput'}: ${keys.join(', ')}\n`,
      );
    for (const n of notes) io.stderr.write(`note: ${n}\n`);
    return 0;
  },
});

const command: Command = defineCommand({
  name: 'collector',
  summary: 'Run the log and metric collector (fluent-bit-style pipeline) in the foreground',
  usage:
    'sprout collector -c FILE [--dry-run] | sprout collector test -c FILE | sprout collector render -c FILE',
  options: {
    ...configOption,
    'dry-run': {
      type: 'boolean',
      description: 'Validate the config (plugins, keys, parsers, files) and exit',
    },
  },
  subcommands: [test, render] as unknown as Command[],
  details: `
Inputs: opentelemetry, http, mqtt, collectd, nginx_metrics, statsd, syslog, tcp, forward.
Filters: grep, modify, record_modifier, parser, javascript.
Outputs: stdout, file, http, opentelemetry, forward, pgsql, null, counter.
SIGTERM or SIGINT stops the inputs, flushes every output (up to service.grace seconds) and exits 0.

Example:
  sprout collector -c examples/collector-basic/collector.yaml
  curl -H 'content-type: application/json' -d '{"msg":"hi"}' localhost:9880/app.web`,
  async run(opts, _p, io) {
    const file = configPath(opts, io.cwd, 'collector');
    const config = loadConfig(file);
    const log = createLogger({
      name: 'collector',
      destination: io.stderr,
      level: config.service.log_level === 'off' ? 'silent' : config.service.log_level,
    });
    // Building the collector checks what the schema cannot (types.db files, filter scripts).
    const collector = createCollector(config, { logger: log });
    if (opts['dry-run']) {
      io.stdout.write(
        `config ok: ${config.inputs.length} inputs (${config.inputs.map((i) => i.id).join(', ')}), ` +
          `${config.filters.length} filters, ${config.outputs.length} outputs (${config.outputs.map((o) => o.id).join(', ')})\n`,
      );
      await collector.close();
      return 0;
    }
    await collector.start();
    for (const i of collector.inputs())
      if (i.address) log.info({ input: i.id, ...i.address }, 'input listening');
    for (const w of exposedInputs(collector.inputs()))
      log.warn({ input: w.input, host: w.host, port: w.port, exposed: true }, w.msg);
    const signal = await untilSignal();
    log.info({ signal }, 'flushing and stopping');
    await collector.close();
    return 0;
  },
});

export default command;
