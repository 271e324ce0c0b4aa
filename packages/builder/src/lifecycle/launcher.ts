// The launcher files of an image: process selection by type, as the platform spec's launcher does
// (`/cnb/process/<type>` entrypoints, `CNB_PROCESS_TYPE` for `/cnb/lifecycle/launcher`), written
// as small Node.js scripts (the run image carries node; there is no launcher binary).
import type { LayerSource } from '../oci/index.js';

/** Where the launcher finds node in the image: the default run image's. */
const LAUNCHER_NODE = '/usr/local/bin/node';
const LAUNCHER_PATH = '/cnb/lifecycle/launcher';
const LAUNCH_CONFIG_PATH = '/cnb/config/launch.json';

/** One process as the launcher runs it (paths already the image's). */
export interface LauncherProcess {
  type: string;
  command: string[];
  args: string[];
  workingDir: string;
  /** The whole environment of this process (run image, launch layers, env.launch/<type>/). */
  env: Record<string, string>;
}

/**
 * The launcher (CommonJS, run by node through its #! line). `launch(type)` runs that process:
 * its command, its args unless arguments were given (they replace the args, as for the spec's
 * direct processes), its working dir; the environment is the container's with this process's
 * values where they differ from the image's (the default process's), so `-e` settings still win
 * for everything else. Signals are passed on; the exit code (or signal) is the process's.
 */
const LAUNCHER_SCRIPT = `#!${LAUNCHER_NODE}
'use strict';
// Written by the Sprout lifecycle: runs one of the image's processes by type.
const { spawn } = require('node:child_process');
const { readFileSync } = require('node:fs');
const config = JSON.parse(readFileSync('${LAUNCH_CONFIG_PATH}', 'utf8'));

function launch(type) {
  const p = config.processes[type];
  if (!p) {
    process.stderr.write('launcher: no process type ' + JSON.stringify(type) + '; this image has: ' + Object.keys(config.processes).join(', ') + '\\n');
    process.exit(64);
  }
  const env = { ...process.env };
  for (const [k, v] of Object.entries(config.imageEnv)) if (!(k in p.env) && env[k] === v) delete env[k];
  for (const [k, v] of Object.entries(p.env)) if (config.imageEnv[k] !== v) env[k] = v;
  const given = process.argv.slice(2);
  const argv = [...p.command.slice(1), ...(given.length ? given : p.args)];
  const child = spawn(p.command[0], argv, { cwd: p.workingDir, env, stdio: 'inherit' });
  const forward = (sig) => child.kill(sig);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR2']) process.on(sig, forward);
  child.on('error', (err) => {
    process.stderr.write('launcher: cannot start ' + p.command[0] + ': ' + err.message + '\\n');
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}

module.exports = { launch };
if (require.main === module) {
  const type = process.env.CNB_PROCESS_TYPE || config.default;
  if (!type) {
    process.stderr.write('launcher: this image has no default process; set CNB_PROCESS_TYPE or use /cnb/process/<type>\\n');
    process.exit(64);
  }
  launch(type);
}
`;

/**
 * The launcher's files for the config layer: the launcher, `/cnb/process/<type>` for every
 * process (a type `.` or `..` gets none: it is no file name) and `/cnb/config/launch.json`.
 * Keys are sorted, so the same processes give the same bytes.
 */
export function launcherFiles(
  processes: LauncherProcess[],
  defaultType: string | undefined,
  imageEnv: Record<string, string>,
): LayerSource[] {
  const sorted = (o: Record<string, string>) =>
    Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const config = {
    ...(defaultType ? { default: defaultType } : {}),
    imageEnv: sorted(imageEnv),
    processes: Object.fromEntries(
      processes.map((p) => [
        p.type,
        { command: p.command, args: p.args, workingDir: p.workingDir, env: sorted(p.env) },
      ]),
    ),
  };
  return [
    { to: LAUNCHER_PATH, content: LAUNCHER_SCRIPT, mode: 0o755 },
    { to: LAUNCH_CONFIG_PATH, content: `${JSON.stringify(config, null, 2)}\n`, mode: 0o644 },
    ...processes
      .filter((p) => p.type !== '.' && p.type !== '..')
      .map((p) => ({
        to: `/cnb/process/${p.type}`,
        content: `#!${LAUNCHER_NODE}\nrequire('${LAUNCHER_PATH}').launch(${JSON.stringify(p.type)});\n`,
        mode: 0o755,
      })),
  ];
}
