import type { InstanceTimings } from './instance.js';

/** Where one cold start's time went, in milliseconds; published on the `cold-start` event. */
export interface ColdStartBreakdown {
  /** Scale decision to the function handed to a process: port lookup and standby hand-off, or a whole process start when no standby was ready. */
  handOffMs: number;
  /** The hand-off message travelling to the process. */
  deliverMs?: number;
  /** Handed over to the module load starting (environment, spec, logger). */
  setupMs?: number;
  /** The function's module graph: its own TypeScript (compiled or from the cache) and its dependencies. */
  moduleLoadMs?: number;
  /** Module loaded to listening (invoker, outputs, state stores, the listen itself). */
  listenMs?: number;
  /** Listening to the supervisor marking it ready (the IPC message, or a TCP probe). */
  readyMs?: number;
  /** Scale decision to ready. */
  totalMs: number;
  /** Whether a pre-started process took the function. */
  standby: boolean;
  readyBy?: 'ipc' | 'probe';
  tsCompile?: { hits: number; misses: number; ms: number };
}

const ms = (from: number | undefined, to: number | undefined) =>
  from !== undefined && to !== undefined ? +(to - from).toFixed(1) : undefined;

/** The breakdown of a cold start that began (the scale decision) at `since`, epoch ms. */
export function coldStartBreakdown(since: number, t: InstanceTimings): ColdStartBreakdown {
  const loadStartedAt =
    t.moduleLoadedAt !== undefined && t.moduleLoadMs !== undefined
      ? t.moduleLoadedAt - t.moduleLoadMs
      : undefined;
  const parts = {
    deliverMs: ms(t.handedAt, t.receivedAt),
    setupMs: ms(t.receivedAt, loadStartedAt),
    moduleLoadMs: t.moduleLoadMs !== undefined ? +t.moduleLoadMs.toFixed(1) : undefined,
    listenMs: ms(t.moduleLoadedAt, t.listeningAt),
    readyMs: ms(t.listeningAt, t.readyAt),
  };
  return {
    handOffMs: ms(since, t.handedAt) ?? 0,
    ...Object.fromEntries(Object.entries(parts).filter(([, v]) => v !== undefined)),
    totalMs: ms(since, t.readyAt) ?? 0,
    standby: t.spawnedAt === undefined,
    ...(t.readyBy ? { readyBy: t.readyBy } : {}),
    ...(t.tsCompile ? { tsCompile: t.tsCompile } : {}),
  };
}
