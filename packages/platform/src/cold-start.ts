import type { InstanceTimings } from './instance.js';

/** Where one cold start's time went, in milliseconds; published on the `cold-start` event. */
export interface ColdStartBreakdown {
  /** Scale decision to the function handed to a process: port lookup and standby hand-off, or a whole process start when no standby was ready. */
  handOffMs: number;
  /** The hand-off message to the process and its "listening" back (IPC both ways, with the scheduling of both processes). */
  ipcMs?: number;
  /** Handed over to the module load starting (environment, spec, logger). */
  setupMs?: number;
  /** The function's module graph: its own TypeScript (compiled or from the cache) and its dependencies. */
  moduleLoadMs?: number;
  /** Module loaded to listening (invoker, outputs, state stores, the listen itself). */
  listenMs?: number;
  /** Scale decision to ready. */
  totalMs: number;
  /** Whether a pre-started process took the function. */
  standby: boolean;
  readyBy?: 'ipc' | 'probe';
  tsCompile?: { hits: number; misses: number; ms: number };
}

const ms = (from: number | undefined, to: number | undefined) =>
  from !== undefined && to !== undefined ? r1(to - from) : undefined;
const r1 = (n: number) => Math.round(n * 10) / 10;

/** The breakdown of a cold start that began (the scale decision) at `since`, epoch ms. */
export function coldStartBreakdown(since: number, t: InstanceTimings): ColdStartBreakdown {
  const inInstance = ms(t.handedAt, t.readyAt);
  const parts = {
    ipcMs: inInstance !== undefined && t.startMs !== undefined ? r1(inInstance - t.startMs) : undefined,
    setupMs: t.setupMs,
    moduleLoadMs: t.moduleLoadMs,
    listenMs: t.listenMs,
  };
  return {
    handOffMs: ms(since, t.handedAt) ?? 0,
    ...Object.fromEntries(Object.entries(parts).flatMap(([k, v]) => (v === undefined ? [] : [[k, r1(v)]]))),
    totalMs: ms(since, t.readyAt) ?? 0,
    standby: t.spawnedAt === undefined,
    ...(t.readyBy ? { readyBy: t.readyBy } : {}),
    ...(t.tsCompile ? { tsCompile: { ...t.tsCompile, ms: r1(t.tsCompile.ms) } } : {}),
  };
}
