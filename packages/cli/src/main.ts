import { formatHelp, parseCommandArgs, UsageError, type Command, type CommandIO } from './command.js';

/** Top-level commands, loaded on demand so `sprout run` does not pay for the others. */
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  init: {
    summary: 'Create a function folder from a template: code, function.yaml, a test and package.json',
    load: async () => (await import('./commands/init.js')).default as Command,
  },
  eip: {
    summary: 'Load-balancer address pools, allocations and announcement',
    load: async () => (await import('./commands/eip.js')).default as Command,
  },
  run: {
    summary: 'Serve one function folder with the functions framework',
    load: async () => (await import('./commands/run.js')).default as Command,
  },
  dev: {
    summary: 'Run the platform on one machine: gateway, supervised function instances and API',
    load: async () => (await import('./commands/dev.js')).default as Command,
  },
  logs: {
    summary: "Print a function's output lines from a running 'sprout dev'",
    load: async () => (await import('./commands/logs.js')).default as Command,
  },
  state: {
    summary: 'Serve the Dapr state HTTP API over Dapr component YAML',
    load: async () => (await import('./commands/state.js')).default as Command,
  },
  collector: {
    summary: 'Run the log and metric collector (fluent-bit-style pipeline)',
    load: async () => (await import('./commands/collector.js')).default as Command,
  },
  console: {
    summary: 'Serve the web console alone (the KubeKey cluster installer, without a running platform)',
    load: async () => (await import('./commands/console.js')).default as Command,
  },
  cluster: {
    summary: 'KubeKey clusters: import a kk config, pre-flight the hosts over SSH, run kk',
    load: async () => (await import('./commands/cluster.js')).default as Command,
  },
  triggers: {
    summary: "Event triggers: serve KEDA's external scaler for Sprout's mqtt trigger",
    load: async () => (await import('./commands/triggers.js')).default as Command,
  },
  deploy: {
    summary: 'Render Kubernetes manifests for a function folder',
    load: async () => (await import('./commands/deploy.js')).default as Command,
  },
  build: {
    summary: 'Build an OCI image from source with buildpacks (no Dockerfile, no Docker daemon)',
    load: async () => (await import('./commands/build.js')).default as Command,
  },
  rebase: {
    summary: 'Put an image built by sprout build on a new run image without rebuilding',
    load: async () => (await import('./commands/rebase.js')).default as Command,
  },
};

/** Registers a command module; other packages' commands are added here. */
export function topLevelHelp(): string {
  const w = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'sprout: run functions on one machine, deploy the same functions to Kubernetes.',
    '',
    'Usage: sprout <command> [options]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(w)}  ${c.summary}`),
    '',
    "Run 'sprout <command> --help' for a command's options.",
    '',
  ].join('\n');
}

/** Runs the CLI with the given arguments (without `node` and the script) and returns the exit code. */
export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(topLevelHelp());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write('sprout 0.1.0\n');
    return 0;
  }
  const entry = commands[name];
  if (!entry) {
    io.stderr.write(`error: unknown command '${name}'\n\n${topLevelHelp()}`);
    return 2;
  }
  let cmd = await entry.load();
  let args = rest;
  // Walk into sub-commands: `sprout state serve …`.
  while (cmd.subcommands?.length && args[0] && !args[0].startsWith('-')) {
    const sub = cmd.subcommands.find((c) => c.name.split(' ').pop() === args[0]);
    if (!sub) {
      if (cmd.run) break;
      io.stderr.write(`error: unknown command '${cmd.name} ${args[0]}'\n\n${formatHelp(cmd)}`);
      return 2;
    }
    cmd = sub;
    args = args.slice(1);
  }
  try {
    const parsed = parseCommandArgs(cmd, args, io.env);
    if (parsed.help || !cmd.run) {
      io.stdout.write(formatHelp(cmd));
      return parsed.help ? 0 : 2;
    }
    return await cmd.run(parsed.options, parsed.positionals, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`error: ${err.message}\n`);
      return err.exitCode;
    }
    const e = err as { code?: unknown; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('SPROUT_ERR_')) {
      io.stderr.write(`error: ${e.code}: ${e.message}\n`);
      return 1;
    }
    throw err;
  }
}
