import type { PlatformEvent } from './types.js';

/**
 * Follows a server-sent event stream over fetch (so the first request can ask for held events with
 * `Last-Event-ID`, which EventSource cannot), reconnecting with a growing pause and resuming after
 * the last id seen. Returns a function that stops it.
 */
export function followStream(
  path: string,
  onMessage: (event: string, data: string, id: string | undefined) => void,
  o: { lastEventId?: string; onState?: (live: boolean) => void } = {},
): () => void {
  const abort = new AbortController();
  let lastId = o.lastEventId;
  let pause = 500;
  const run = async () => {
    while (!abort.signal.aborted) {
      try {
        const res = await fetch(path, {
          headers: {
            accept: 'text/event-stream',
            ...(lastId !== undefined ? { 'last-event-id': lastId } : {}),
          },
          credentials: 'same-origin',
          signal: abort.signal,
        });
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        o.onState?.(true);
        pause = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let end: number;
          while ((end = buf.search(/\r?\n\r?\n/)) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end).replace(/^\r?\n\r?\n/, '');
            let event = 'message';
            let id: string | undefined;
            const data: string[] = [];
            for (const line of block.split(/\r?\n/)) {
              if (line.startsWith(':')) continue;
              const colon = line.indexOf(':');
              const field = colon < 0 ? line : line.slice(0, colon);
              const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'event') event = value;
              else if (field === 'data') data.push(value);
              else if (field === 'id') id = value;
            }
            if (id !== undefined) lastId = id;
            if (data.length) onMessage(event, data.join('\n'), id);
          }
        }
      } catch {
        if (abort.signal.aborted) return;
      }
      o.onState?.(false);
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 10_000);
    }
  };
  void run();
  return () => abort.abort();
}

/** The platform's event stream (`/v1/events`), from the held events on (`Last-Event-ID: 0`). */
export function followEvents(
  onEvent: (e: PlatformEvent) => void,
  o: { function?: string; onState?: (live: boolean) => void } = {},
): () => void {
  const query = o.function ? `?function=${encodeURIComponent(o.function)}` : '';
  return followStream(
    `/v1/events${query}`,
    (_event, data) => {
      try {
        onEvent(JSON.parse(data) as PlatformEvent);
      } catch {
        // a line that is not JSON is not an event
      }
    },
    { lastEventId: '0', ...(o.onState ? { onState: o.onState } : {}) },
  );
}
