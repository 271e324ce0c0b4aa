import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ClusterStore, FieldIssue, RunAction, RunParams } from '@sprout/console/kubekey';
import { defineCommand, UsageError, type Command, type CommandIO } from '../command.js';
import { checkOutput, outputOption, table } from '../output.js';
import { printPreflight } from './cluster-preflight.js';

// `sprout cluster`: the console's KubeKey installer from a shell, on the same --data-dir as
// `sprout console` (saved configs, sealed secrets, run logs), without a running console.

const dataDirOption = {
  'data-dir': {
    type: 'string',
    env: 'SPROUT_DATA_DIR',
    default: '.sprout',
    value: 'DIR',
    description: 'Folder of the saved clusters (the one sprout console uses)',
  },
} as const;

async function openStore(dataDir: string, io: CommandIO): Promise<ClusterStore> {
  const { ClusterStore } = await import('@sprout/console/kubekey');
  return new ClusterStore(resolve(io.cwd, dataDir));
}

function oneName(positionals: string[], cmd: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected one cluster NAME: sprout cluster ${cmd} NAME`);
  return positionals[0]!;
}

function printIssues(issues: FieldIssue[], io: CommandIO): number {
  for (const i of issues) io.stderr.write(`${i.severity}: ${i.path || '/'} ${i.message}\n`);
  return issues.filter((i) => i.severity === 'error').length;
}

const importCmd = defineCommand({
  name: 'cluster import',
  summary: 'Save a KubeKey config file (a kk Cluster, as kk create config writes it)',
  usage: 'sprout cluster import -f FILE [options]',
  details:
    'Passwords and keys in the file are sealed in the data dir; the saved config holds references.\nA file with errors is kept and its issues printed: fix them in the console before pre-flight or runs.',
  options: {
    file: { type: 'string', short: 'f', value: 'FILE', description: 'The kk config file (- for stdin)' },
    ...dataDirOption,
  },
  async run(opts, positionals, io) {
    if (!opts.file || positionals.length)
      throw new UsageError('expected -f FILE: sprout cluster import -f config.yaml');
    let text: string;
    try {
      text = readFileSync(opts.file === '-' ? 0 : resolve(io.cwd, opts.file), 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${opts.file}: ${(err as Error).message}`);
    }
    const saved = (await openStore(opts['data-dir'], io)).import(text);
    const errors = printIssues(saved.issues, io);
    io.stdout.write(
      `cluster/${saved.summary.name} imported (${saved.summary.nodes} node(s))${errors ? `, ${errors} error(s) to fix before runs` : ''}\n`,
    );
    return 0;
  },
});

const ls = defineCommand({
  name: 'cluster ls',
  summary: 'List the saved clusters',
  usage: 'sprout cluster ls [options]',
  options: { ...dataDirOption, ...outputOption },
  async run(opts, positionals, io) {
    const output = checkOutput(opts.output);
    if (positionals.length) throw new UsageError('sprout cluster ls takes no arguments');
    const list = (await openStore(opts['data-dir'], io)).list();
    if (output === 'json') {
      io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      return 0;
    }
    const rows = [
      ['NAME', 'NODES', 'KUBERNETES', 'NETWORK', 'CONTAINER'],
      ...list.map((c) => [c.name, String(c.nodes), c.kubernetesVersion, c.networkPlugin, c.containerManager]),
    ];
    io.stdout.write(table(rows));
    return 0;
  },
});

const render = defineCommand({
  name: 'cluster render',
  summary: 'Print the saved Cluster YAML (secrets as sprout-secret references)',
  usage: 'sprout cluster render NAME [options]',
  details: 'Exit status 1 when the saved config has errors (printed on stderr).',
  options: { ...dataDirOption },
  async run(opts, positionals, io) {
    const saved = (await openStore(opts['data-dir'], io)).get(oneName(positionals, 'render'));
    io.stdout.write(saved.yaml);
    return printIssues(saved.issues, io) ? 1 : 0;
  },
});

const preflight = defineCommand({
  name: 'cluster preflight',
  summary: 'Check every host over SSH: login, sudo, OS, commands, swap, ports, clock (exit 1 on a fail)',
  usage: 'sprout cluster preflight NAME [options]',
  options: {
    node: { type: 'string', multiple: true, value: 'HOST', description: 'Only this host (repeatable)' },
    ...dataDirOption,
    ...outputOption,
  },
  async run(opts, positionals, io) {
    const output = checkOutput(opts.output);
    const name = oneName(positionals, 'preflight');
    const store = await openStore(opts['data-dir'], io);
    store.assertRunnable(name);
    const { parseConfigFile, runPreflight } = await import('@sprout/console/kubekey');
    const report = await runPreflight(parseConfigFile(store.plainConfig(name)).cluster, {
      ...(opts.node.length ? { nodes: opts.node } : {}),
    });
    if (output === 'json') io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else printPreflight(report, io.stdout);
    return report.status === 'fail' ? 1 : 0;
  },
});

function runCommand(action: RunAction, summary: string, usage: string, extra: string): Command {
  return defineCommand({
    name: `cluster ${action}`,
    summary,
    usage: `sprout cluster ${action} ${usage}`,
    details: `Runs ${extra} with the saved config (secrets in clear only in a 0600 file removed when kk exits); kk's lines are streamed and kept under the data dir like the console's runs. The exit status is kk's.`,
    options: {
      ...(action === 'upgrade'
        ? {
            'with-kubernetes': {
              type: 'string',
              value: 'VERSION',
              description: 'The Kubernetes version to move to, e.g. v1.29.15',
            },
          }
        : {}),
      ...dataDirOption,
    },
    async run(opts, positionals, io) {
      const [name, node, ...rest] = positionals;
      if (!name || rest.length || (action === 'delete-node') !== (node !== undefined)) {
        throw new UsageError(`expected: sprout cluster ${action} ${usage}`);
      }
      const params: RunParams = {
        ...(node ? { node } : {}),
        ...(typeof opts['with-kubernetes'] === 'string' ? { version: opts['with-kubernetes'] } : {}),
      };
      return runKk(await openStore(opts['data-dir'] as string, io), name, action, params, io);
    },
  }) as unknown as Command;
}

async function runKk(
  store: ClusterStore,
  name: string,
  action: RunAction,
  params: RunParams,
  io: CommandIO,
): Promise<number> {
  const { RunManager, kkCommandLine } = await import('@sprout/console/kubekey');
  const runs = new RunManager(store, { env: io.env });
  let record;
  try {
    record = runs.start(name, action, params);
  } catch (err) {
    if ((err as { code?: string }).code !== 'SPROUT_ERR_CONSOLE_CLUSTER_KK_MISSING') throw err;
    throw new UsageError(
      `kk is not on PATH: install KubeKey v3 (https://github.com/kubesphere/kubekey/releases), put kk on PATH and run this again. It runs: ${kkCommandLine(action, `${name}.yaml`, params)}`,
    );
  }
  io.stderr.write(`run ${record.id}: ${record.command}\n`);
  // kk runs in its own process group: Ctrl-C here stops it (and what it started) through cancel.
  const stop = () => void runs.cancel(name, record.id);
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    const end = await new Promise<typeof record>((done) =>
      runs.follow(
        name,
        record.id,
        (l) => (l.stream === 'stderr' ? io.stderr : io.stdout).write(`${l.text}\n`),
        done,
      ),
    );
    io.stderr.write(
      `run ${end.id} ${end.status}${end.durationMs !== undefined ? ` in ${(end.durationMs / 1000).toFixed(1)} s` : ''}\n`,
    );
    return typeof end.exitCode === 'number' ? end.exitCode : 1;
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
}

export default defineCommand({
  name: 'cluster',
  summary: 'KubeKey clusters: import a kk config, pre-flight the hosts over SSH, run kk',
  usage: 'sprout cluster <command> [options]',
  details:
    "Works on the saved clusters under --data-dir, the ones 'sprout console' shows, without a running console.\nExample: sprout cluster import -f config-sample.yaml && sprout cluster preflight sample && sprout cluster create sample",
  options: {},
  subcommands: [
    importCmd,
    ls,
    render,
    preflight,
    runCommand('create', 'Install the cluster: kk create cluster', 'NAME', 'kk create cluster -f F --yes'),
    runCommand(
      'add-nodes',
      'Add the hosts new in the config: kk add nodes',
      'NAME',
      'kk add nodes -f F --yes',
    ),
    runCommand(
      'delete-node',
      'Remove one node: kk delete node (it leaves the config)',
      'NAME NODE',
      'kk delete node NODE -f F',
    ),
    runCommand(
      'upgrade',
      'Upgrade Kubernetes: kk upgrade --with-kubernetes',
      'NAME --with-kubernetes VERSION',
      'kk upgrade -f F --with-kubernetes VERSION --yes',
    ),
    runCommand('delete', 'Tear the cluster down: kk delete cluster', 'NAME', 'kk delete cluster -f F'),
  ] as unknown as Command[],
});
