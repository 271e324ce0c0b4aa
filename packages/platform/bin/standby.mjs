// A pre-started instance process. It loads the functions framework ahead of time, then waits for
// the supervisor to send the one message that says what to run: an InstanceSpec (the resolved
// function), its environment and its working directory. This takes Node's start-up and the
// framework's import off a cold start.
import { runInstance, warmUp } from '@sprout/framework/instance';

/**
 * Where this start's time went, for the supervisor's cold-start breakdown, as durations on this
 * process's clock (two processes' clocks differ by a few milliseconds): hand-over to module load,
 * the module graph (TypeScript compiles with their cache hits and misses inside it), module to
 * listening, and hand-over to listening in all.
 */
function startTimings(received) {
  const now = performance.now();
  const loaded = performance.getEntriesByName('sprout:module-loaded').at(-1);
  const compiles = performance.getEntriesByName('sprout:ts-compile').map((e) => e.detail);
  performance.clearMarks('sprout:module-loaded');
  performance.clearMarks('sprout:ts-compile');
  const loadStart = loaded && loaded.startTime - loaded.detail.ms;
  return {
    startMs: now - received,
    ...(loaded
      ? { setupMs: loadStart - received, moduleLoadMs: loaded.detail.ms, listenMs: now - loaded.startTime }
      : {}),
    tsCompile: {
      hits: compiles.filter((c) => c.hit).length,
      misses: compiles.filter((c) => !c.hit).length,
      ms: compiles.reduce((sum, c) => sum + c.ms, 0),
    },
  };
}

process.once('message', (m) => {
  const received = performance.now();
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
  // Ready the moment it listens: the supervisor routes traffic on this message, no probe needed.
  const serving = (running) =>
    process.connected &&
    process.send({ type: 'serving', port: running.port, timings: startTimings(received) });
  runInstance(m.spec, process.env, serving).then(
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
// A pool's standby (`--warm`) first runs requests through a throwaway server, so the function's
// first request finds the HTTP path compiled; a process started for a waiting function skips it.
if (process.argv.includes('--warm')) await warmUp().catch(() => {});
process.send('standby');
