import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** What the console can ask kk to do to a saved cluster. */
export const RUN_ACTIONS = ['create', 'add-nodes', 'delete-node', 'upgrade', 'delete'] as const;
export type RunAction = (typeof RUN_ACTIONS)[number];

export interface RunParams {
  /** delete-node: the host to remove. */
  node?: string;
  /** upgrade: the Kubernetes version to move to. */
  version?: string;
}

/**
 * kk's arguments for an action on the config file `file` (KubeKey v3 command line). `--yes`
 * answers the install confirmation; the delete commands have no such flag and read "yes" from
 * standard input instead (`stdin`).
 */
export function kkArgs(action: RunAction, file: string, p: RunParams): { args: string[]; stdin?: string } {
  switch (action) {
    case 'create':
      return { args: ['create', 'cluster', '-f', file, '--yes'] };
    case 'add-nodes':
      return { args: ['add', 'nodes', '-f', file, '--yes'] };
    case 'delete-node':
      return { args: ['delete', 'node', p.node ?? '', '-f', file], stdin: 'yes\n' };
    case 'upgrade':
      return { args: ['upgrade', '-f', file, '--with-kubernetes', p.version ?? '', '--yes'] };
    case 'delete':
      return { args: ['delete', 'cluster', '-f', file], stdin: 'yes\n' };
  }
}

/** The command line to show a person (the config file as they would save it). */
export function kkCommandLine(action: RunAction, file: string, p: RunParams): string {
  return ['kk', ...kkArgs(action, file, p).args].join(' ');
}

/** The full path of `command` on `path` (a PATH string), or undefined when it is not there. */
export function findOnPath(command: string, path: string | undefined): string | undefined {
  if (command.includes('/')) return executable(command) ? command : undefined;
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir && executable(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
