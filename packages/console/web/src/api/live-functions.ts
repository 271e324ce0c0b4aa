import { useEffect, useRef, useState } from 'react';
import type { ApiError } from './client.js';
import { followEvents } from './events.js';
import { listFunctions } from './routes.js';
import type { FunctionList, FunctionStatus, PlatformEvent } from './types.js';

/** Events after which the list itself (which functions, their specs) is read again. */
const STRUCTURE = new Set(['function.registered', 'function.unregistered', 'function.failed']);
/** The list is read again this often anyway, in case a change came without an event. */
const RESYNC_MS = 60_000;

export interface LiveFunctions {
  data: FunctionList | undefined;
  error: ApiError | undefined;
  /** Each function's counts from its latest event newer than the list (absent: the list's own). */
  statuses: ReadonlyMap<string, FunctionStatus>;
  live: boolean;
}

/**
 * The function list kept current from the event stream: an event that carries a function's counts
 * (`status`: instance.*, scale, cold-start) updates that function's row without reading the list;
 * events are applied together once per animation frame. The list is read again when functions come
 * or go, when the stream reconnects or skips an event id (events were missed), and every minute.
 * `onBatch` is called after each frame that applied events, with whether a cold start was among them.
 */
export function useLiveFunctions(onBatch?: (coldStart: boolean) => void): LiveFunctions {
  const [list, setList] = useState<FunctionList>();
  const [error, setError] = useState<ApiError>();
  const [statuses, setStatuses] = useState<ReadonlyMap<string, FunctionStatus>>(new Map());
  const [live, setLive] = useState(false);
  const onBatchRef = useRef(onBatch);
  onBatchRef.current = onBatch;

  useEffect(() => {
    let stopped = false;
    // Ordinals of received events: a list read started after event n already holds its change.
    let received = 0;
    const seenAt = new Map<string, number>();
    let reading = false;
    let readAgain = false;
    const read = () => {
      if (reading) {
        readAgain = true;
        return;
      }
      reading = true;
      const since = received;
      const done = () => {
        reading = false;
        if (!readAgain || stopped) return;
        readAgain = false;
        read();
      };
      listFunctions().then(
        (l) => {
          done();
          if (stopped) return;
          setList(l);
          setError(undefined);
          setStatuses((before) => {
            const kept = new Map([...before].filter(([fn]) => (seenAt.get(fn) ?? 0) > since));
            return kept.size === before.size ? before : kept;
          });
        },
        (e: ApiError) => {
          done();
          if (!stopped) setError(e);
        },
      );
    };

    const pending = new Map<string, FunctionStatus>();
    let coldStart = false;
    let needRead = false;
    let frame: number | undefined;
    const flush = () => {
      frame = undefined;
      if (pending.size) {
        const batch = new Map(pending);
        pending.clear();
        setStatuses((before) => new Map([...before, ...batch]));
      }
      if (needRead) {
        needRead = false;
        read();
      }
      onBatchRef.current?.(coldStart);
      coldStart = false;
    };
    let lastId: number | undefined;
    let wasLive = false;
    const onEvent = (e: PlatformEvent) => {
      received++;
      // An id that does not follow the last one: events were missed (or the server restarted).
      if (lastId !== undefined && e.id !== lastId + 1) needRead = true;
      lastId = e.id;
      if (STRUCTURE.has(e.type)) needRead = true;
      if (e.function && e.status) {
        pending.set(e.function, e.status);
        seenAt.set(e.function, received);
      }
      if (e.type === 'cold-start') coldStart = true;
      frame ??= requestAnimationFrame(flush);
    };
    const onState = (now: boolean) => {
      setLive(now);
      if (now && wasLive === false && lastId !== undefined) read(); // reconnected
      wasLive = now;
    };
    read();
    const stop = followEvents(onEvent, { onState });
    const resync = setInterval(read, RESYNC_MS);
    return () => {
      stopped = true;
      stop();
      clearInterval(resync);
      if (frame !== undefined) cancelAnimationFrame(frame);
    };
  }, []);

  return { data: list, error, statuses, live };
}
