import { untilSignal } from '@sprout/http';
import { createLogger, type Logger } from '@sprout/observe';
import { resolveComponent } from '@sprout/spec/secrets';
import type { FunctionConfig } from '../load.js';
import type { ComponentSpec } from '../outputs/index.js';
import { serve, type RunningServer } from '../serve.js';
import type { InstanceFunction, InstanceSpec } from './spec.js';
import { stateStoreOpener } from './state-stores.js';

/** The output engines' view of a component: its name, type and resolved metadata values. */
function outputSpec(c: InstanceFunction['components'][number]): ComponentSpec {
  const metadata: Record<string, string> = {};
  for (const m of c.spec.metadata) if (m.value !== undefined) metadata[m.name] = String(m.value);
  return { name: c.metadata.name, type: c.spec.type, metadata };
}

/**
 * Starts serving what an instance spec says. The programmatic form of one instance: `sprout run`
 * and `sprout dev`'s pre-started processes both come here.
 */
export async function startInstance(
  spec: InstanceSpec,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<RunningServer> {
  const functions: FunctionConfig[] = spec.functions.map((f) => {
    // The one place a component's secrets are read: here, against the instance's own environment.
    const components = f.components.map((c) => resolveComponent(c, env));
    return {
      source: f.source,
      ...(f.target ? { target: f.target } : {}),
      ...(f.signatureType ? { signatureType: f.signatureType } : {}),
      ...(f.context ? { context: f.context } : {}),
      ...(f.path !== undefined ? { path: f.path } : {}),
      components: components.map(outputSpec),
      openStateStore: stateStoreOpener({ components, dataDir: spec.dataDir, env }),
    };
  });
  return serve({
    functions,
    port: spec.port,
    ...(spec.host ? { host: spec.host } : {}),
    timeoutMs: spec.timeoutMs,
    ...(spec.ignoredRoutes ? { ignoredRoutes: spec.ignoredRoutes } : {}),
    ...(spec.bodyLimit ? { bodyLimit: spec.bodyLimit } : {}),
    logExecutionId: spec.logExecutionId,
    watch: spec.watch,
    logger,
    env,
  });
}

/**
 * Runs one instance as a process: serves the spec, logs `serving` per function (the supervisor's
 * readiness hint), drains on SIGTERM/SIGINT and resolves with the exit code. Output that goes away
 * (EPIPE) is dropped quietly; other stray errors are logged and the server keeps serving.
 * `onServing` is called the moment the server listens, before any log line (a supervisor's
 * pre-started process says "ready" over its IPC channel there).
 */
export async function runInstance(
  spec: InstanceSpec,
  env: NodeJS.ProcessEnv = process.env,
  onServing?: (running: RunningServer) => void,
): Promise<number> {
  const logger = createLogger({ name: 'sprout' });
  const running = await startInstance(spec, env, logger);
  onServing?.(running);
  let outputGone = false;
  const onPipeError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') outputGone = true;
  };
  process.stdout.on('error', onPipeError);
  process.stderr.on('error', onPipeError);
  const onStray = (err: unknown) => {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED') {
      outputGone = true;
      return;
    }
    if (!running.server.handleStrayError(err) && !outputGone)
      logger.error({ err }, 'uncaught error outside any request');
  };
  process.on('uncaughtException', onStray);
  process.on('unhandledRejection', onStray);
  for (const m of running.server.mounts) {
    logger.info(
      { function: m.name, signature: m.signatureType, url: `${running.url}${m.path || '/'}` },
      'serving',
    );
  }
  if (spec.watch) logger.info('watching for changes');
  const signal = await untilSignal();
  logger.info({ signal, inflight: running.server.inflight }, 'shutting down: finishing in-flight requests');
  await running.close();
  process.off('uncaughtException', onStray);
  process.off('unhandledRejection', onStray);
  logger.info('stopped');
  return 0;
}
