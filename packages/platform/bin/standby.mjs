// A pre-started instance process. It loads the `sprout` CLI and the functions framework ahead of
// time, then waits for the supervisor to send which function to run: the same `sprout run`
// arguments, environment and working directory a freshly spawned instance would get. This takes
// Node's start-up and the framework's import off a cold start.
import { main } from '../../cli/dist/main.js';

await import('../../cli/dist/commands/run.js');

process.once('message', (m) => {
  for (const k of Object.keys(process.env)) if (!(k in m.env)) delete process.env[k];
  Object.assign(process.env, m.env);
  process.chdir(m.cwd);
  process.removeAllListeners('disconnect');
  process.disconnect();
  main(m.args, { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: m.cwd }).then(
    (code) => {
      if (code !== 0) process.exitCode = code;
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
});
// The supervisor went away before giving this process a function: nothing to do.
process.once('disconnect', () => process.exit(0));
process.send('standby');
