import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiError } from './client.js';
import { followEvents } from './events.js';
import type { PlatformEvent } from './types.js';

/** Loads `load()` now and whenever `reload()` is called; keeps the last answer and error. */
export function useApi<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(() => {
    loadRef.current().then(
      (d) => {
        setData(d);
        setError(undefined);
      },
      (e: ApiError) => setError(e),
    );
  }, []);
  useEffect(reload, deps);
  return { data, error, reload };
}

/**
 * Calls `onEvent` for each platform event (the held ones first) and `reload` after events of the
 * given types: at once for the first, then at most every 300 ms (one more reload at the end of a
 * burst); says whether the stream is live.
 */
export function useEvents(
  o: {
    function?: string;
    types?: readonly string[];
    reload?: () => void;
    onEvent?: (e: PlatformEvent) => void;
  },
  deps: unknown[] = [],
) {
  const [live, setLive] = useState(false);
  const ref = useRef(o);
  ref.current = o;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let pending = false;
    const quiet = () => {
      timer = setTimeout(() => {
        timer = undefined;
        if (!pending) return;
        pending = false;
        ref.current.reload?.();
        quiet();
      }, 300);
    };
    const stop = followEvents(
      (e) => {
        ref.current.onEvent?.(e);
        if (!ref.current.reload || (ref.current.types && !ref.current.types.includes(e.type))) return;
        if (timer) pending = true;
        else {
          ref.current.reload();
          quiet();
        }
      },
      { ...(o.function ? { function: o.function } : {}), onState: setLive },
    );
    return () => {
      stop();
      if (timer) clearTimeout(timer);
    };
  }, deps);
  return live;
}

/** Calls `f` every `ms` while mounted. */
export function useInterval(f: () => void, ms: number) {
  const ref = useRef(f);
  ref.current = f;
  useEffect(() => {
    const t = setInterval(() => ref.current(), ms);
    return () => clearInterval(t);
  }, [ms]);
}
