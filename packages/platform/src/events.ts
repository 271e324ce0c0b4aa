import { EventEmitter } from 'node:events';

export type PlatformEventType =
  | 'function.registered'
  | 'function.failed'
  | 'function.unregistered'
  | 'instance.started'
  | 'instance.ready'
  | 'instance.stopping'
  | 'instance.stopped'
  | 'instance.crashed'
  | 'instance.failed'
  | 'cold-start'
  | 'scale'
  | 'triggers'
  | 'address.allocated'
  | 'address.pending'
  | 'address.released'
  | 'pool.exhausted'
  | 'collector.crashed'
  | 'collector.restarted'
  | 'build.started'
  | 'build.phase'
  | 'build.finished'
  | 'build.failed';

/** One platform event as the API's event stream sends it. */
export interface PlatformEvent {
  id: number;
  type: PlatformEventType;
  time: string;
  function?: string;
  instance?: string;
  [field: string]: unknown;
}

/** Publishes platform events to listeners and keeps the last `capacity` for late subscribers. */
export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly recent: PlatformEvent[] = [];
  private nextId = 1;

  constructor(private readonly capacity = 500) {
    this.emitter.setMaxListeners(0);
  }

  emit(type: PlatformEventType, fields: Omit<PlatformEvent, 'id' | 'type' | 'time'> = {}): PlatformEvent {
    const event: PlatformEvent = { id: this.nextId++, type, time: new Date().toISOString(), ...fields };
    this.recent.push(event);
    if (this.recent.length > this.capacity) this.recent.shift();
    this.emitter.emit('event', event);
    return event;
  }

  /** Events after `afterId` still held, oldest first. */
  since(afterId = 0): PlatformEvent[] {
    return this.recent.filter((e) => e.id > afterId);
  }

  subscribe(listener: (e: PlatformEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
