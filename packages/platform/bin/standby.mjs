// A pre-started instance process. It loads the functions framework ahead of time, then waits for
// the supervisor to send the one message that says what to run: an InstanceSpec (the resolved
// function), its environment and its working directory. This takes Node's start-up and the
// framework's import off a cold start.
import { runInstance } from '@sprout/framework/instance';

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
  runInstance(m.spec, process.env).then(
    (code) => {
      if (code !== 0) process.exitCode = code;
      process.removeAllListeners('disconnect');
      if (process.connected) process.disconnect();
    },
    (err) => {
      // The same line `sprout run` prints for a coded start-up failure: the supervisor reads it.
      process.stderr.write(`error: ${err?.code ? `${err.code}: ` : ''}${err?.message ?? String(err)}\n`);
      process.exit(1);
    },
  );
});
// The supervisor went away before giving this process a function: nothing to do.
process.once('disconnect', () => process.exit(0));
process.send('standby');
