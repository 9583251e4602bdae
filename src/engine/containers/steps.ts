import { log } from '../../common/log.js';

// Small helpers for the multi-step operations of the container service (start, release, remove).

/** Debug-level timing marks of one operation on one container: `lap('mounted')` logs ms since the start. */
export function laps(op: string, id: string): (what: string) => void {
  const t0 = performance.now();
  return (what) => log.debug('containers', `${op}: ${what}`, { id: id.slice(0, 12), ms: Math.round(performance.now() - t0) });
}
