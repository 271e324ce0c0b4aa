import { parseArgs } from 'node:util';

/** One option of a command; the table generates both the parser and `--help`. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Environment variable read when the flag is absent. */
  env?: string;
  default?: string | boolean;
  multiple?: boolean;
  description: string;
  /** Placeholder shown in help, e.g. `PORT`. */
  value?: string;
}

export type OptionTable = Record<string, OptionSpec>;

export type ParsedOptions<T extends OptionTable> = {
  [K in keyof T]: T[K]['type'] extends 'boolean'
    ? boolean
    : T[K]['multiple'] extends true
      ? string[]
      : T[K]['default'] extends string
        ? string
        : string | undefined;
};

export interface CommandIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** A `sprout` command: a name, a usage line, an option table and a run function. */
export interface Command<T extends OptionTable = OptionTable> {
  name: string;
  summary: string;
  usage: string;
  /** Free text printed after the options in `--help` (examples, notes). */
  details?: string;
  options: T;
  /** Sub-commands, e.g. `state serve`. */
  subcommands?: Command[];
  /** Returns the process exit code, or a promise that settles when a server stops. */
  run?(opts: ParsedOptions<T>, positionals: string[], io: CommandIO): Promise<number> | number;
}

/** Expected failure: printed as `error: <message>` without a stack, exit code 1 (or `exitCode`). */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** Helper so a command's option table keeps its literal types. */
export function defineCommand<T extends OptionTable>(cmd: Command<T>): Command<T> {
  return cmd;
}

export function parseCommandArgs<T extends OptionTable>(
  cmd: Command<T>,
  argv: string[],
  env: NodeJS.ProcessEnv,
): { options: ParsedOptions<T>; positionals: string[]; help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, spec] of Object.entries(cmd.options)) {
    options[name] = {
      type: spec.type,
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nRun 'sprout ${cmd.name} --help' for the options.`);
  }
  const values = parsed.values as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(cmd.options)) {
    let v = values[name];
    if (v === undefined && spec.env && env[spec.env] !== undefined && env[spec.env] !== '') {
      const raw = env[spec.env] as string;
      v = spec.type === 'boolean' ? raw.toLowerCase() === 'true' || raw === '1' : raw;
    }
    if (v === undefined)
      v = spec.default ?? (spec.type === 'boolean' ? false : spec.multiple ? [] : undefined);
    out[name] = v;
  }
  return { options: out as ParsedOptions<T>, positionals: parsed.positionals, help: values.help === true };
}

export function formatHelp(cmd: Command): string {
  const lines = [`${cmd.summary}`, '', `Usage: ${cmd.usage}`];
  if (cmd.subcommands?.length) {
    lines.push('', 'Commands:');
    const w = Math.max(...cmd.subcommands.map((c) => c.name.length));
    for (const sub of cmd.subcommands)
      lines.push(`  ${sub.name.split(' ').pop()!.padEnd(w)}  ${sub.summary}`);
  }
  const entries = Object.entries(cmd.options);
  lines.push('', 'Options:');
  const flag = (name: string, s: OptionSpec) =>
    `${s.short ? `-${s.short}, ` : '    '}--${name}${s.type === 'string' ? ` ${s.value ?? 'VALUE'}` : ''}`;
  const w = Math.max(14, ...entries.map(([n, s]) => flag(n, s).length));
  for (const [name, spec] of entries) {
    const extra = [
      spec.env ? `env ${spec.env}` : '',
      spec.default !== undefined && spec.default !== false ? `default ${String(spec.default)}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(`  ${flag(name, spec).padEnd(w)}  ${spec.description}${extra ? ` (${extra})` : ''}`);
  }
  lines.push(`  ${'-h, --help'.padEnd(w)}  Show this help`);
  if (cmd.details) lines.push('', cmd.details.trim());
  return lines.join('\n') + '\n';
}
