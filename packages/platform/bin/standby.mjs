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
  // From now on the channel only tells whether the supervisor is alive: if it goes away (killed,
  // crashed), drain and stop like `sprout run` on SIGTERM instead of running on as an orphan.
  process.removeAllListeners('disconnect');
  process.once('disconnect', () => {
    // Its pipes are gone with it: writes fail with EPIPE, which must not become uncaught errors.
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
    setTimeout(() => process.exit(0), 30_000).unref();
    process.kill(process.pid, 'SIGTERM');
  });
  process.channel?.unref();
  main(m.args, { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: m.cwd }).then(
    (code) => {
      if (code !== 0) process.exitCode = code;
      process.removeAllListeners('disconnect');
      if (process.connected) process.disconnect();
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
