import { EventEmitter } from 'node:events';

/**
 * One event as `/events` reports it (Docker's "events message" shape).
 *
 *   bus.publish({ Type: 'container', Action: 'start', Actor: { ID: id, Attributes: { name, image } } })
 */
export interface EngineEvent {
  Type: 'container' | 'image' | 'network' | 'volume' | 'daemon' | 'builder';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope?: 'local';
  time?: number;
  timeNano?: number;
  // Pre-1.22 fields old clients still read.
  status?: string;
  id?: string;
  from?: string;
}

/**
 * The daemon's event stream: services publish, `/events` subscribers read.
 * Keeps the last `historySize` events so `events --since` can replay them.
 */
export class EventBus {
  private emitter = new EventEmitter();
  private history: EngineEvent[] = [];

  constructor(private historySize = 1024) {
    this.emitter.setMaxListeners(0);
  }

  publish(e: EngineEvent): void {
    const now = Date.now();
    const full: EngineEvent = { ...e, scope: 'local', time: Math.floor(now / 1000), timeNano: now * 1e6 };
    if (e.Type === 'container' || e.Type === 'image') {
      full.status = e.Action;
      full.id = e.Actor.ID;
      if (e.Actor.Attributes.image) full.from = e.Actor.Attributes.image;
    }
    this.history.push(full);
    if (this.history.length > this.historySize) this.history.shift();
    this.emitter.emit('event', full);
  }

  /** Events already published at or after `sinceNano` (for `--since`). */
  replay(sinceNano: number, untilNano = Infinity): EngineEvent[] {
    return this.history.filter((e) => (e.timeNano ?? 0) >= sinceNano && (e.timeNano ?? 0) <= untilNano);
  }

  subscribe(fn: (e: EngineEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }
}
